"""Business rules: pure functions over domain objects."""
