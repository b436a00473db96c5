"""Issuing ballots, spending them once, and refusing forged, tampered and wrong-round ones."""

import base64
import hashlib
import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.ballots import blind_rsa, keys
from app.ballots import service as ballot_service
from app.ballots.models import BallotIssuance, RoundKey, SpentBallot
from app.clock import utcnow
from app.db import writer
from app.pulses import rounds
from app.pulses.models import Response, Round
from app.teams.models import Team
from tests.ballots import rsabssa_client
from tests.ballots.ballots_flow import Ballot, all_fives, obtain_ballot, public_key_of
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_round, make_team


def personal_team(session: Session, *emails: str) -> tuple[Team, list[str]]:
    """A personal-ballot team with these members; returns the team and their personal links."""
    team = make_team(session, ballots="personal").team
    links = [
        ballot_service.add_member(session=session, team=team, email=email).link for email in emails
    ]
    session.commit()
    return team, links


def count(session: Session, model: type) -> int:
    """Rows of a table, read in a transaction that ends at once (SQLite's lock is released)."""
    n = int(session.exec(select(func.count()).select_from(model)).one())
    session.commit()
    return n


def submit(client: TestClient, team: Team, ballot: Ballot | None) -> tuple[int, dict[str, object]]:
    """POST an answer sheet with this ballot to the team's shared submission endpoint."""
    # Read before any request: touching an expired row would reopen the test's transaction.
    team_link = team.pulse_link
    body: dict[str, object] = {"answers": all_fives(client, team_link)}
    if ballot is not None:
        body["ballot"] = ballot.as_json()
    response = client.post(f"/api/v1/pulse/{team_link}/responses", json=body)
    return response.status_code, response.json()


def test_status_gives_the_rounds_2048_bit_key_and_whether_a_ballot_was_issued(
    client: TestClient, session: Session
) -> None:
    team, [link] = personal_team(session, "ada@example.com")
    first = client.get(f"/api/v1/ballots/{link}")
    assert first.status_code == 200
    period = rounds.period_for(cadence="weekly", timezone="UTC", now=utcnow()).label
    assert first.json()["round"] == period
    assert first.json()["issued"] is False
    assert public_key_of(first.json()["public_key"]).key_size == 2048
    obtain_ballot(client, link)
    second = client.get(f"/api/v1/ballots/{link}").json()
    assert second["issued"] is True
    assert second["public_key"] == first.json()["public_key"]  # one key per round


def test_a_member_gets_one_ballot_per_round(client: TestClient, session: Session) -> None:
    team, [link] = personal_team(session, "ada@example.com")
    obtain_ballot(client, link)
    public_key = public_key_of(client.get(f"/api/v1/ballots/{link}").json()["public_key"])
    again = rsabssa_client.blind(public_key, rsabssa_client.prepare(b"x" * 32))
    response = client.post(
        f"/api/v1/ballots/{link}/issue",
        json={"blinded_msg": base64.b64encode(again.blinded_msg).decode()},
    )
    assert response.status_code == 409
    assert "already received this round's ballot" in response.json()["detail"]
    assert count(session, BallotIssuance) == 1


def test_a_ballot_is_accepted_once_and_only_its_hash_is_kept(
    client: TestClient, session: Session
) -> None:
    team, [link] = personal_team(session, "ada@example.com")
    ballot = obtain_ballot(client, link)
    status, body = submit(client, team, ballot)
    assert (status, body) == (201, {"round": body["round"]})
    assert count(session, Response) == 1
    spent = session.exec(select(SpentBallot)).one()
    assert spent.token_hash == hashlib.sha256(ballot.token).hexdigest()
    session.commit()
    # Personal ballots replace the shared link's cookie: none is set.
    assert not client.cookies

    replay_status, replay = submit(client, team, ballot)
    assert replay_status == 409
    assert "already used" in str(replay["detail"])
    assert count(session, Response) == 1
    assert count(session, SpentBallot) == 1


def test_tampered_tokens_and_signatures_are_refused_and_nothing_is_stored(
    client: TestClient, session: Session
) -> None:
    team, [link] = personal_team(session, "ada@example.com")
    ballot = obtain_ballot(client, link)
    flipped_token = bytearray(ballot.token)
    flipped_token[40] ^= 0x01
    flipped_sig = bytearray(ballot.signature)
    flipped_sig[10] ^= 0x01
    forged = [
        Ballot(token=bytes(flipped_token), signature=ballot.signature),
        Ballot(token=ballot.token, signature=bytes(flipped_sig)),
        Ballot(token=ballot.token[32:], signature=ballot.signature),  # prefix dropped
        Ballot(token=ballot.token, signature=b"\x00" * 256),
    ]
    for bad in forged:
        status, body = submit(client, team, bad)
        assert status == 403, body
        assert body["detail"] == "this ballot is not valid for the current round"
    assert count(session, Response) == 0
    assert count(session, SpentBallot) == 0
    # The genuine ballot still works after the failed attempts.
    assert submit(client, team, ballot)[0] == 201


def test_personal_mode_refuses_answers_without_a_ballot(
    client: TestClient, session: Session
) -> None:
    team, _ = personal_team(session, "ada@example.com")
    status, body = submit(client, team, None)
    assert status == 403
    assert "personal link" in str(body["detail"])
    assert count(session, Response) == 0


def test_a_signature_under_another_rounds_key_is_refused(
    client: TestClient, session: Session
) -> None:
    team, [link] = personal_team(session, "ada@example.com")
    last_week = make_round(session, team, now=utcnow() - timedelta(days=7))
    assert last_week.id is not None
    old_key = keys.get_or_create(session=session, round_id=last_week.id, secret_key=TEST_SECRET_KEY)
    old_private = keys.private_key(round_key=old_key, secret_key=TEST_SECRET_KEY)
    token = rsabssa_client.prepare(b"o" * 32)
    blinded = rsabssa_client.blind(old_private.public_key(), token)
    old_sig = rsabssa_client.finalize(
        old_private.public_key(),
        blind_rsa.blind_sign(old_private, blinded.blinded_msg),
        blinded.inv,
    )
    assert blind_rsa.verify(old_private.public_key(), message=token, signature=old_sig)
    client.get(f"/api/v1/ballots/{link}")  # the current round and its key exist
    status, body = submit(client, team, Ballot(token=token, signature=old_sig))
    assert status == 403
    assert count(session, Response) == 0
    # Any ballot request notices last week's round has closed and wipes its private key.
    session.expire_all()
    assert session.get(RoundKey, last_week.id).private_key_encrypted is None  # type: ignore[union-attr]


def test_a_ballot_from_another_teams_round_is_refused(client: TestClient, session: Session) -> None:
    team, _ = personal_team(session, "ada@example.com")
    other, [other_link] = personal_team(session, "bob@example.com")
    ballot = obtain_ballot(client, other_link)
    assert submit(client, team, ballot)[0] == 403
    assert submit(client, other, ballot)[0] == 201


def test_a_closed_round_issues_and_accepts_nothing_and_its_key_is_destroyed(
    client: TestClient, session: Session
) -> None:
    team, [ada, bob] = personal_team(session, "ada@example.com", "bob@example.com")
    ballot = obtain_ballot(client, ada)
    round_ = session.exec(select(Round).where(Round.team_id == team.id)).one()
    rounds.close_early(session=session, round=round_, now=utcnow())
    session.commit()

    assert client.get(f"/api/v1/ballots/{bob}").status_code == 409
    issue = client.post(
        f"/api/v1/ballots/{bob}/issue",
        json={"blinded_msg": base64.b64encode(b"\x01" * 256).decode()},
    )
    assert issue.status_code == 409
    assert "closed" in issue.json()["detail"]
    status, _ = submit(client, team, ballot)
    assert status == 409
    session.expire_all()
    round_key = session.get(RoundKey, round_.id)
    assert round_key is not None and round_key.private_key_encrypted is None
    assert count(session, Response) == 0
    assert count(session, BallotIssuance) == 1


def test_a_malformed_blinded_message_is_refused_without_recording_issuance(
    client: TestClient, session: Session
) -> None:
    _, [link] = personal_team(session, "ada@example.com")
    for blinded, field_message in [
        ("not base64!", "must be base64"),
        (base64.b64encode(b"\x01" * 100).decode(), "exactly 256 bytes"),
        (base64.b64encode(b"\xff" * 256).decode(), "out of range"),
        (base64.b64encode(b"\x00" * 256).decode(), "out of range"),
    ]:
        response = client.post(f"/api/v1/ballots/{link}/issue", json={"blinded_msg": blinded})
        assert response.status_code == 422, response.text
        assert field_message in response.text
    assert count(session, BallotIssuance) == 0
    obtain_ballot(client, link)  # the member can still take the ballot


def test_unknown_links_and_link_mode_teams(client: TestClient, session: Session) -> None:
    assert client.get("/api/v1/ballots/no-such-link").status_code == 404
    assert client.get("/b/no-such-link").status_code == 404
    team = make_team(session).team
    link = ballot_service.add_member(session=session, team=team, email="a@example.com").link
    session.commit()
    response = client.get(f"/api/v1/ballots/{link}")
    assert response.status_code == 403
    assert "shared pulse link" in response.json()["detail"]


def test_removed_members_links_stop_working(client: TestClient, session: Session) -> None:
    team, [link] = personal_team(session, "ada@example.com")
    obtain_ballot(client, link)
    ballot_service.remove_member(session=session, team=team, email="ada@example.com")
    assert client.get(f"/api/v1/ballots/{link}").status_code == 404
    assert count(session, BallotIssuance) == 0


def test_concurrent_first_uses_create_one_key_per_round(engine: Engine, session: Session) -> None:
    team = make_team(session, ballots="personal").team
    round_ = make_round(session, team)
    session.commit()
    assert round_.id is not None
    round_id = round_.id
    public_keys: list[str] = []
    errors: list[BaseException] = []

    def first_use() -> None:
        try:
            with Session(writer(engine)) as own:
                key = keys.get_or_create(session=own, round_id=round_id, secret_key=TEST_SECRET_KEY)
                public_keys.append(key.public_key)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(public_keys) == 4 and len(set(public_keys)) == 1
    assert count(session, RoundKey) == 1
