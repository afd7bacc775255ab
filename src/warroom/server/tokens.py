"""Personal access tokens: made once, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "wr_"


def new_token() -> str:
    """A fresh random token; 256 bits, so a plain SHA-256 of it is safe to store."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
