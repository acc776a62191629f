"""The CPQ system's client (SPEC §5.2)."""

from ordersync.adapters.cpq.client import HttpCpqGateway
from ordersync.adapters.cpq.registry import CpqClients

__all__ = ["CpqClients", "HttpCpqGateway"]
