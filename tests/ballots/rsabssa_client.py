"""The client's half of RFC 9474 (RSABSSA-SHA384-PSS-Randomized), for tests only.

Browsers use @cloudflare/blindrsa-ts; the API tests need a second, independent client, written
from the RFC (sections 4.1 Prepare, 4.2 Blind, 4.4 Finalize) and checked against its vectors.
"""

import hashlib
import math
import os
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

HASH_LEN = 48
SALT_LEN = 48


def _mgf1_sha384(seed: bytes, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha384(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def emsa_pss_encode(message: bytes, em_bits: int, salt: bytes) -> bytes:
    """RFC 8017 section 9.1.1 with SHA-384 and MGF1-SHA-384."""
    em_len = math.ceil(em_bits / 8)
    m_hash = hashlib.sha384(message).digest()
    h = hashlib.sha384(b"\x00" * 8 + m_hash + salt).digest()
    db = b"\x00" * (em_len - len(salt) - HASH_LEN - 2) + b"\x01" + salt
    masked = bytes(a ^ b for a, b in zip(db, _mgf1_sha384(h, em_len - HASH_LEN - 1), strict=True))
    clear_bits = 8 * em_len - em_bits
    masked = bytes([masked[0] & (0xFF >> clear_bits)]) + masked[1:]
    return masked + h + b"\xbc"


def prepare(message: bytes, prefix: bytes | None = None) -> bytes:
    """Randomized Prepare: a 32-byte random prefix, then the message."""
    return (prefix if prefix is not None else os.urandom(32)) + message


@dataclass(frozen=True)
class Blinded:
    blinded_msg: bytes
    inv: int


def blind(
    public_key: rsa.RSAPublicKey,
    prepared: bytes,
    *,
    salt: bytes | None = None,
    r: int | None = None,
) -> Blinded:
    """Blind: encode, then multiply by r^e mod n."""
    numbers = public_key.public_numbers()
    n, e = numbers.n, numbers.e
    k = math.ceil(n.bit_length() / 8)
    encoded = emsa_pss_encode(
        prepared, n.bit_length() - 1, salt if salt is not None else os.urandom(SALT_LEN)
    )
    m = int.from_bytes(encoded, "big")
    assert math.gcd(m, n) == 1
    if r is None:
        r = secrets.randbelow(n - 2) + 2
    z = (m * pow(r, e, n)) % n
    return Blinded(blinded_msg=z.to_bytes(k, "big"), inv=pow(r, -1, n))


def finalize(public_key: rsa.RSAPublicKey, blind_sig: bytes, inv: int) -> bytes:
    """Finalize: unblind the server's signature."""
    n = public_key.public_numbers().n
    k = math.ceil(n.bit_length() / 8)
    return ((int.from_bytes(blind_sig, "big") * inv) % n).to_bytes(k, "big")
