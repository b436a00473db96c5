"""Argon2 password hashing."""

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash((Argon2Hasher(),))
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return str(_hasher.hash(password))


def verify_password(password: str, password_hash: str) -> bool:
    """Whether the password matches the stored hash."""
    return bool(_hasher.verify(password, password_hash))
