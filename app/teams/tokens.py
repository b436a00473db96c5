"""Unguessable link tokens and secrets, and how they are hashed for storage."""

import hashlib
import hmac
import secrets


def new_link_token() -> str:
    """A URL-safe token with 192 bits of randomness."""
    return secrets.token_urlsafe(24)


def new_secret() -> str:
    """A secret for ingest tokens and webhook signatures (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex: tokens are high-entropy, so a fast hash is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a.encode(), b.encode())
