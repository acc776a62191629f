"""Entities, value objects, warnings and errors: pure Python, no I/O."""
