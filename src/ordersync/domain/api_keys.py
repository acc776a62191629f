"""API keys are stored only as a digest; a request's key is hashed the same way to find it."""

from __future__ import annotations

import hashlib


def hash_api_key(key: str) -> str:
    """The hex SHA-256 of `key`: what `users.api_key_hash` holds, never the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()
