"""The server's half of RFC 9474 blind RSA (RSABSSA-SHA384-PSS-Randomized).

The server never sees the token it signs. It applies the raw RSA private operation to the
blinded message (RFC 9474 section 4.3, BlindSign) and later checks the finalized signature as an
ordinary RSASSA-PSS signature (SHA-384, MGF1-SHA-384, 48-byte salt) over the prepared message,
which is the client's 32-byte random prefix followed by its token (section 4.1, Prepare).
"""

import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KEY_BITS = 2048
PUBLIC_EXPONENT = 65537
SALT_LENGTH = 48
PREFIX_LENGTH = 32
PSS_PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=SALT_LENGTH)


class BlindSignError(ValueError):
    """The blinded message cannot be signed (wrong length or out of range)."""


def generate_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key pair with e = 65537."""
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_BITS)


def modulus_length(key: rsa.RSAPublicKey) -> int:
    """k: the length of the modulus in bytes."""
    return (key.key_size + 7) // 8


def blind_sign(private_key: rsa.RSAPrivateKey, blinded_msg: bytes) -> bytes:
    """RFC 9474 BlindSign: s = m^d mod n, checked by s^e == m before it is released."""
    numbers = private_key.private_numbers()
    public = numbers.public_numbers
    k = modulus_length(private_key.public_key())
    if len(blinded_msg) != k:
        raise BlindSignError(f"blinded_msg must be exactly {k} bytes, got {len(blinded_msg)}")
    m = int.from_bytes(blinded_msg, "big")
    if not 0 < m < public.n:
        raise BlindSignError("blinded_msg is out of range for this key")
    # Python's big-integer pow is not constant-time, and the client chooses m: exponentiate a
    # randomised value (m * r^e) instead, so timing says nothing about the private key.
    r = secrets.randbelow(public.n - 2) + 2
    blinded = (m * pow(r, public.e, public.n)) % public.n
    # CRT: the same result as pow(blinded, d, n), about three times faster.
    s1 = pow(blinded, numbers.dmp1, numbers.p)
    s2 = pow(blinded, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (s1 - s2)) % numbers.p
    s = ((s2 + numbers.q * h) * pow(r, -1, public.n)) % public.n
    # The RFC's verification step: a faulty computation must never leak a signature.
    if pow(s, public.e, public.n) != m:
        raise BlindSignError("signing failed its own check")
    return s.to_bytes(k, "big")


def verify(public_key: rsa.RSAPublicKey, *, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is a valid RSASSA-PSS-SHA384 signature (salt 48) over `message`."""
    if len(signature) != modulus_length(public_key):
        return False
    try:
        public_key.verify(signature, message, PSS_PADDING, hashes.SHA384())
    except InvalidSignature:
        return False
    return True
