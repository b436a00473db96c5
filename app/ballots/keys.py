"""Each round's signing key: created once on first use, encrypted at rest, destroyed at close.

The private key is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from SECRET_KEY,
with the round id as associated data so a sealed key cannot be moved to another round.
"""

import base64
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.ballots import blind_rsa
from app.ballots.models import RoundKey
from app.clock import utcnow
from app.pulses.models import Round

HKDF_INFO = b"redbutton round signing key v1"
NONCE_BYTES = 12


class KeyDestroyedError(RuntimeError):
    """The round's private key is gone: the round has closed."""


def _sealing_key(secret_key: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret_key.encode()
    )
    return AESGCM(derived)


def seal(private_key: rsa.RSAPrivateKey, *, round_id: int, secret_key: str) -> str:
    """The private key as base64(nonce || AES-GCM ciphertext of its PKCS#8 DER)."""
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(NONCE_BYTES)
    sealed = _sealing_key(secret_key).encrypt(nonce, der, f"round:{round_id}".encode())
    return base64.b64encode(nonce + sealed).decode()


def unseal(sealed: str, *, round_id: int, secret_key: str) -> rsa.RSAPrivateKey:
    """The private key back from seal(); fails if the secret or the round differ."""
    raw = base64.b64decode(sealed)
    der = _sealing_key(secret_key).decrypt(
        raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"round:{round_id}".encode()
    )
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_key_der(key: rsa.RSAPublicKey) -> bytes:
    """The SubjectPublicKeyInfo DER encoding, as WebCrypto's importKey('spki') expects."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(round_key: RoundKey) -> rsa.RSAPublicKey:
    """The round's public key."""
    key = serialization.load_der_public_key(base64.b64decode(round_key.public_key))
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def get(*, session: Session, round_id: int) -> RoundKey | None:
    """The round's key row, if one was ever made."""
    return session.get(RoundKey, round_id)


def get_or_create(*, session: Session, round_id: int, secret_key: str) -> RoundKey:
    """The round's key, created on first use; concurrent first uses end with one key."""
    existing = session.get(RoundKey, round_id)
    if existing is not None:
        return existing
    private_key = blind_rsa.generate_key()
    row = RoundKey(
        round_id=round_id,
        public_key=base64.b64encode(public_key_der(private_key.public_key())).decode(),
        private_key_encrypted=seal(private_key, round_id=round_id, secret_key=secret_key),
    )
    # Another process may insert the same round's key between our read and our write: the
    # primary key lets exactly one win, and the loser reads the winner's key.
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        winner = session.get(RoundKey, round_id)
        assert winner is not None
        return winner
    session.commit()
    return row


def private_key(*, round_key: RoundKey, secret_key: str) -> rsa.RSAPrivateKey:
    """The round's private key; KeyDestroyedError once the round has closed."""
    if round_key.private_key_encrypted is None:
        raise KeyDestroyedError("the round has closed and its signing key is destroyed")
    return unseal(
        round_key.private_key_encrypted, round_id=round_key.round_id, secret_key=secret_key
    )


def destroy_closed(*, session: Session) -> int:
    """Wipe the private key of every closed round; returns how many were wiped."""
    now = utcnow()
    closed_rounds = select(Round.id).where(
        or_(col(Round.closed_early_at).is_not(None), col(Round.closes_at) <= now)
    )
    result = session.execute(
        update(RoundKey)
        .where(col(RoundKey.private_key_encrypted).is_not(None))
        .where(col(RoundKey.round_id).in_(closed_rounds))
        .values(private_key_encrypted=None)
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
