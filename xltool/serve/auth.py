"""Secrets of the portal: unit and admin tokens, the admin password (the only module importing argon2)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_BYTES = 24  # 192 bits from the OS's CSPRNG; the issue asks for at least 128
_hasher = PasswordHasher()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_password() -> str:
    """16 characters a clerk can type: no 0/O, 1/l/I."""
    alphabet = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def digest(token: str) -> str:
    """The stored form of a high-entropy token (lookup key; a slow hash adds nothing at 192 bits)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def form_key(secret: str, purpose: str) -> str:
    """A CSRF token bound to one purpose (a unit's link), derived from the collection's secret."""
    return hmac.new(secret.encode(), purpose.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
