"""Obtaining and using a ballot through the HTTP API, as a non-browser client would."""

import base64
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from tests.ballots import rsabssa_client


@dataclass(frozen=True)
class Ballot:
    token: bytes
    signature: bytes

    def as_json(self) -> dict[str, str]:
        return {
            "token": base64.b64encode(self.token).decode(),
            "signature": base64.b64encode(self.signature).decode(),
        }


def public_key_of(spki_b64: str) -> rsa.RSAPublicKey:
    key = serialization.load_der_public_key(base64.b64decode(spki_b64))
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def obtain_ballot(client: TestClient, member_link: str) -> Ballot:
    """GET the key, blind a fresh token, have it signed, finalize."""
    status = client.get(f"/api/v1/ballots/{member_link}")
    assert status.status_code == 200, status.text
    public_key = public_key_of(status.json()["public_key"])
    token = rsabssa_client.prepare(os.urandom(32))
    blinded = rsabssa_client.blind(public_key, token)
    issued = client.post(
        f"/api/v1/ballots/{member_link}/issue",
        json={"blinded_msg": base64.b64encode(blinded.blinded_msg).decode()},
    )
    assert issued.status_code == 200, issued.text
    blind_sig = base64.b64decode(issued.json()["blind_sig"])
    signature = rsabssa_client.finalize(public_key, blind_sig, blinded.inv)
    return Ballot(token=token, signature=signature)


def all_fives(client: TestClient, team_link: str) -> dict[str, int]:
    """An answer sheet with every question of the team's current survey at 5."""
    survey = client.get(f"/api/v1/pulse/{team_link}").json()["survey"]
    return {question["key"]: 5 for question in survey["questions"]}
