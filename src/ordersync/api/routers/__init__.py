"""Routers per area: shop (front office) and operator (back office)."""
