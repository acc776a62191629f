"""Use cases: one unit of work each, orchestrating rules and repositories."""
