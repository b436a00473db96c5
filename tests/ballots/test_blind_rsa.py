"""The server's blind signing and verification against RFC 9474's published test vector."""

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import rsa

from app.ballots import blind_rsa, keys
from tests.ballots import rsabssa_client

VECTOR: dict[str, Any] = json.loads((Path(__file__).parent / "rfc9474_vector.json").read_text())


def _int(name: str) -> int:
    return int(VECTOR[name], 16)


def vector_private_key() -> rsa.RSAPrivateKey:
    p, q, d, e, n = _int("p"), _int("q"), _int("d"), _int("e"), _int("n")
    public = rsa.RSAPublicNumbers(e, n)
    return rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=public,
    ).private_key()


def test_blind_sign_reproduces_the_rfc_blind_signature() -> None:
    blinded = bytes.fromhex(VECTOR["blinded_msg"])
    assert blind_rsa.blind_sign(vector_private_key(), blinded).hex() == VECTOR["blind_sig"]


def test_the_rfc_final_signature_verifies_over_the_prepared_message() -> None:
    public = vector_private_key().public_key()
    token = bytes.fromhex(VECTOR["input_msg"])
    assert token == bytes.fromhex(VECTOR["msg_prefix"] + VECTOR["msg"])
    assert blind_rsa.verify(public, message=token, signature=bytes.fromhex(VECTOR["sig"]))


def test_the_test_client_reproduces_the_rfc_blinding_and_finalization() -> None:
    public = vector_private_key().public_key()
    n = _int("n")
    prepared = rsabssa_client.prepare(
        bytes.fromhex(VECTOR["msg"]), bytes.fromhex(VECTOR["msg_prefix"])
    )
    blinded = rsabssa_client.blind(
        public, prepared, salt=bytes.fromhex(VECTOR["salt"]), r=pow(_int("inv"), -1, n)
    )
    assert blinded.blinded_msg.hex() == VECTOR["blinded_msg"]
    sig = rsabssa_client.finalize(public, bytes.fromhex(VECTOR["blind_sig"]), blinded.inv)
    assert sig.hex() == VECTOR["sig"]


def test_the_message_without_its_random_prefix_does_not_verify() -> None:
    public = vector_private_key().public_key()
    signature = bytes.fromhex(VECTOR["sig"])
    assert not blind_rsa.verify(public, message=bytes.fromhex(VECTOR["msg"]), signature=signature)


@pytest.mark.parametrize("position", [0, 31, 32, 79])
def test_a_tampered_token_does_not_verify(position: int) -> None:
    public = vector_private_key().public_key()
    token = bytearray(bytes.fromhex(VECTOR["input_msg"]))
    token[position] ^= 0x01
    assert not blind_rsa.verify(
        public, message=bytes(token), signature=bytes.fromhex(VECTOR["sig"])
    )


def test_a_tampered_or_truncated_signature_does_not_verify() -> None:
    public = vector_private_key().public_key()
    token = bytes.fromhex(VECTOR["input_msg"])
    signature = bytearray(bytes.fromhex(VECTOR["sig"]))
    signature[-1] ^= 0x80
    assert not blind_rsa.verify(public, message=token, signature=bytes(signature))
    assert not blind_rsa.verify(public, message=token, signature=bytes.fromhex(VECTOR["sig"])[1:])


def test_a_round_trip_on_a_fresh_2048_bit_key() -> None:
    private = blind_rsa.generate_key()
    public = private.public_key()
    assert private.key_size == 2048
    token = rsabssa_client.prepare(b"\x07" * 32)
    blinded = rsabssa_client.blind(public, token)
    blind_sig = blind_rsa.blind_sign(private, blinded.blinded_msg)
    signature = rsabssa_client.finalize(public, blind_sig, blinded.inv)
    assert blind_rsa.verify(public, message=token, signature=signature)
    # What the server signed reveals nothing it could match later: not the token, not the sig.
    assert blinded.blinded_msg != token and blind_sig != signature
    other = blind_rsa.generate_key().public_key()
    assert not blind_rsa.verify(other, message=token, signature=signature)


@pytest.mark.parametrize(
    ("blinded_msg", "reason"),
    [
        (b"\x00" * 256, "out of range"),
        (b"\xff" * 256, "out of range"),
        (b"\x01" * 255, "exactly 256 bytes"),
        (b"\x01" * 257, "exactly 256 bytes"),
    ],
)
def test_blind_sign_refuses_messages_outside_zero_to_n(blinded_msg: bytes, reason: str) -> None:
    with pytest.raises(blind_rsa.BlindSignError, match=reason):
        blind_rsa.blind_sign(blind_rsa.generate_key(), blinded_msg)


def test_a_sealed_private_key_opens_only_with_the_same_secret_and_round() -> None:
    private = blind_rsa.generate_key()
    sealed = keys.seal(private, round_id=7, secret_key="one-secret-key-long-enough")
    assert b"PRIVATE" not in sealed.encode()
    opened = keys.unseal(sealed, round_id=7, secret_key="one-secret-key-long-enough")
    assert opened.private_numbers() == private.private_numbers()
    with pytest.raises(InvalidTag):
        keys.unseal(sealed, round_id=8, secret_key="one-secret-key-long-enough")
    with pytest.raises(InvalidTag):
        keys.unseal(sealed, round_id=7, secret_key="another-secret-key-long-enough")
