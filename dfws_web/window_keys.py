"""Window keys: unguessable per page view, signed so the consumer can tell ours from forgeries."""

from __future__ import annotations

import secrets

from django.core import signing

SALT = "dfws.window-key"
COOKIE_KEY = "dfwskey"
COOKIE_URL = "dfwsurl"


def new_window_key() -> str:
    return secrets.token_urlsafe(18)


def sign(window_key: str) -> str:
    return signing.Signer(salt=SALT).sign(window_key)


def unsign(value: str | None) -> str | None:
    """The window key inside a signed cookie value, or ``None`` if it is not ours."""
    if not value:
        return None
    try:
        return signing.Signer(salt=SALT).unsign(value)
    except signing.BadSignature:
        return None


def cache_key(prefix: str, window_key: str) -> str:
    return f"{prefix}:window:{window_key}"
