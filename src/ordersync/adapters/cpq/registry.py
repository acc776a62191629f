"""CpqGateways for production: one HttpCpqGateway - one connection pool, one circuit breaker -
per CPQ URL, made on first use and shared by every thread of the process."""

from __future__ import annotations

import httpx

from ordersync.adapters.circuit_breaker import CircuitBreaker
from ordersync.adapters.cpq.client import HttpCpqGateway
from ordersync.adapters.outside_calls import GatewaysByUrl, new_http_client
from ordersync.settings import Settings


class CpqClients:
    """`clients(url)` is the gateway of that CPQ URL; `close()` closes every pool.
    `transport` replaces the network (tests)."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None):
        self._settings = settings
        self._transport = transport
        self._gateways: GatewaysByUrl[HttpCpqGateway] = GatewaysByUrl(self._new_gateway)

    def __call__(self, url: str) -> HttpCpqGateway:
        return self._gateways.get(url)

    def close(self) -> None:
        self._gateways.close()

    def _new_gateway(self, url: str) -> HttpCpqGateway:
        settings = self._settings
        return HttpCpqGateway(
            url,
            connect_timeout_s=settings.cpq_connect_timeout_s,
            timeout_s=settings.cpq_timeout_s,
            # A CPQ that is down fails fast too, instead of holding each push (and its lease)
            # for the whole budget. There are no CPQ breaker settings: the pricing ones serve.
            breaker=CircuitBreaker(
                failures_to_open=settings.pricing_breaker_failures,
                half_open_after_s=settings.pricing_breaker_reset_s,
            ),
            http=new_http_client(transport=self._transport),
        )
