"""Adapters to the outside world: database, external systems."""
