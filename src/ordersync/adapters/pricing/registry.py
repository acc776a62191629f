"""PricingGateways for production: one HttpPricingGateway - one connection pool, one circuit
breaker - per pricing URL, made on first use and shared by every thread of the process."""

from __future__ import annotations

import httpx

from ordersync.adapters.circuit_breaker import CircuitBreaker
from ordersync.adapters.outside_calls import GatewaysByUrl, new_http_client
from ordersync.adapters.pricing.client import HttpPricingGateway
from ordersync.settings import Settings


class PricingClients:
    """`clients(url)` is the gateway of that pricing URL; `close()` closes every pool.
    `transport` replaces the network (tests)."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None):
        self._settings = settings
        self._transport = transport
        self._gateways: GatewaysByUrl[HttpPricingGateway] = GatewaysByUrl(self._new_gateway)

    def __call__(self, url: str) -> HttpPricingGateway:
        return self._gateways.get(url)

    def close(self) -> None:
        self._gateways.close()

    def _new_gateway(self, url: str) -> HttpPricingGateway:
        settings = self._settings
        return HttpPricingGateway(
            url,
            connect_timeout_s=settings.pricing_connect_timeout_s,
            timeout_s=settings.pricing_timeout_s,
            breaker=CircuitBreaker(
                failures_to_open=settings.pricing_breaker_failures,
                half_open_after_s=settings.pricing_breaker_reset_s,
            ),
            http=new_http_client(transport=self._transport),
        )
