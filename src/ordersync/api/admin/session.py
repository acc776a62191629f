"""The operator page's session and its CSRF tokens.

The session is the OPERATOR API key itself, in a cookie the page's scripts cannot read
(HttpOnly), sent only over HTTPS or to localhost (Secure), only with requests the page
itself starts (SameSite=Strict), and only under /admin. Each request resolves the caller
from it as the API does from dj-api-key, so revoking a key ends its sessions at once.

A form's CSRF token is an HMAC, under a per-deployment secret, of what binds the form to
its browser: the digest of the session's key once signed in, a random nonce kept in a
cookie of its own on the sign-in form. Any server process can recompute it from the
request alone: nothing is kept in memory or in the database (docs/decisions.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from starlette.responses import Response

from ordersync.domain.api_keys import hash_api_key

SESSION_COOKIE = "ordersync_admin"
SIGN_IN_COOKIE = "ordersync_admin_sign_in"  # the nonce that binds the sign-in form
COOKIE_PATH = "/admin"
# A working day: after it the browser forgets the key and the operator signs in again.
SESSION_MAX_AGE_S = 8 * 3600
SIGN_IN_MAX_AGE_S = 3600
CSRF_FIELD = "csrf_token"
# Used only when ORDERSYNC_ADMIN_SECRET is unset (start-up logs a warning): tokens are then
# as strong as the key digest they are bound to, and SameSite=Strict still stands.
FALLBACK_SECRET = b"ordersync-admin-csrf-secret-unset"


def encode_key(api_key: str) -> str:
    """The key as a cookie value: base64url, so any character a key holds is cookie-safe."""
    return base64.urlsafe_b64encode(api_key.encode()).decode()


def decode_key(value: str | None) -> str | None:
    """The key a session cookie holds; None for no cookie or one this page did not write."""
    if not value:
        return None
    try:
        key = base64.urlsafe_b64decode(value.encode("ascii")).decode()
    except (UnicodeError, ValueError, binascii.Error):
        return None
    return key or None


def session_binding(api_key: str) -> str:
    return "session:" + hash_api_key(api_key)


def sign_in_binding(nonce: str) -> str:
    return "sign-in:" + nonce


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(secret: bytes, binding: str) -> str:
    return hmac.new(secret, binding.encode(), hashlib.sha256).hexdigest()


def same_token(expected: str | None, given: object) -> bool:
    """Whether a form sent the token its page was given (compared in constant time)."""
    return (
        expected is not None
        and isinstance(given, str)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=True,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, secure=True, httponly=True, samesite="strict")
