"""ordersync: a B2B commercial-order engine."""

__version__ = "0.1.0"
