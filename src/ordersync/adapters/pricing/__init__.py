"""The real-time pricing system's client (SPEC §5.1)."""

from ordersync.adapters.pricing.client import HttpPricingGateway
from ordersync.adapters.pricing.registry import PricingClients

__all__ = ["HttpPricingGateway", "PricingClients"]
