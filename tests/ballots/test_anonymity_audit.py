"""An audit of every table: nothing stored can be joined to the roster, by any column.

The roster side is roster_member (who) and ballot_issuance (who took a ballot in which round).
Every other table is scanned row by row and cell by cell for anything that names a member, and
the schema is checked so that no table but ballot_issuance can even refer to a member.
"""

import base64
import hashlib
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import DateTime, Engine, Integer, select, text
from sqlmodel import Session

from app.ballots import service as ballot_service
from app.schema import metadata
from tests.ballots import rsabssa_client
from tests.ballots.ballots_flow import Ballot, all_fives, obtain_ballot, public_key_of
from tests.factories import make_team

ROSTER_TABLES = {"roster_member", "ballot_issuance"}
# Where answers and ballots end up: these must not even carry a time.
ANONYMOUS_TABLES = {"response", "answer", "comment", "spent_ballot"}


def test_no_table_but_issuance_can_refer_to_a_member() -> None:
    for table in metadata.sorted_tables:
        targets = {fk.column.table.name for fk in table.foreign_keys}
        if table.name != "ballot_issuance":
            assert "roster_member" not in targets, table.name
        assert "ballot_issuance" not in targets, table.name
    issuance = metadata.tables["ballot_issuance"]
    assert {c.name for c in issuance.columns} == {"member_id", "round_id"}
    spent = metadata.tables["spent_ballot"]
    assert {c.name for c in spent.columns} == {"round_id", "token_hash"}


def test_anonymous_rows_carry_no_time_and_no_sequential_id() -> None:
    for name in ANONYMOUS_TABLES | {"ballot_issuance"}:
        table = metadata.tables[name]
        for column in table.columns:
            assert not isinstance(column.type, DateTime), f"{name}.{column.name} is a timestamp"
            assert not (
                column.primary_key and isinstance(column.type, Integer) and not column.foreign_keys
            ), f"{name}.{column.name} is a sequential id"


def test_after_a_round_of_personal_ballots_no_stored_cell_names_a_member(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = make_team(session, ballots="personal").team
    emails = ["ada@example.com", "bob@example.com", "cy@example.com"]
    links = [ballot_service.add_member(session=session, team=team, email=e).link for e in emails]
    team_link = team.pulse_link
    session.commit()

    # Everything the server saw while issuing: it must not be kept anywhere.
    seen_at_issuance: set[str] = set()
    for index, link in enumerate(links):
        key = public_key_of(client.get(f"/api/v1/ballots/{link}").json()["public_key"])
        token = rsabssa_client.prepare(bytes([index]) * 32)
        blinded = rsabssa_client.blind(key, token)
        blinded_b64 = base64.b64encode(blinded.blinded_msg).decode()
        issued = client.post(f"/api/v1/ballots/{link}/issue", json={"blinded_msg": blinded_b64})
        blind_sig = base64.b64decode(issued.json()["blind_sig"])
        for seen in (blinded.blinded_msg, blind_sig):
            seen_at_issuance |= {
                seen.hex(),
                base64.b64encode(seen).decode(),
                hashlib.sha256(seen).hexdigest(),
            }
        if index == 2:
            continue  # the third member takes a ballot and never answers
        ballot = Ballot(token=token, signature=rsabssa_client.finalize(key, blind_sig, blinded.inv))
        answered = client.post(
            f"/api/v1/pulse/{team_link}/responses",
            json={
                "answers": all_fives(client, team_link),
                "comment": f"comment number {index}",
                "ballot": ballot.as_json(),
            },
        )
        assert answered.status_code == 201, answered.text
    session.commit()

    with engine.connect() as connection:
        members = connection.execute(
            text("SELECT id, email, link_hash, added_at FROM roster_member")
        ).all()
        assert len(members) == 3
        identifying: set[str] = set(links) | seen_at_issuance
        for _, email, link_hash, _ in members:
            identifying |= {email, link_hash, hashlib.sha256(email.encode()).hexdigest()}
        added_times = {row[3] for row in members}
        scanned = 0
        for table in metadata.sorted_tables:
            if table.name in ROSTER_TABLES:
                continue
            for row in connection.execute(select(table)).mappings():
                scanned += 1
                for column, value in row.items():
                    if value is None:
                        continue
                    if isinstance(value, datetime):
                        assert value not in added_times, f"{table.name}.{column}"
                        continue
                    cell = str(value)
                    for needle in identifying:
                        assert needle not in cell, f"{table.name}.{column} holds a member trace"
        # Two responses with their answers and comments, two spent ballots, the round, its key…
        assert scanned > 20
        counts = {
            name: connection.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
            for name in ("response", "comment", "spent_ballot", "ballot_issuance")
        }
    assert counts == {"response": 2, "comment": 2, "spent_ballot": 2, "ballot_issuance": 3}


def test_issuance_and_spent_rows_keep_no_trace_of_their_order(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = make_team(session, ballots="personal").team
    links = [
        ballot_service.add_member(session=session, team=team, email=f"m{n}@example.com").link
        for n in range(4)
    ]
    team_link = team.pulse_link
    session.commit()
    for link in links:  # each member takes a ballot and answers at once, one after the other
        ballot = obtain_ballot(client, link)
        answered = client.post(
            f"/api/v1/pulse/{team_link}/responses",
            json={"answers": all_fives(client, team_link), "ballot": ballot.as_json()},
        )
        assert answered.status_code == 201
    session.commit()
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # Every row of each table carries the same writing transaction: none can be paired
            # with the issuance written just before it.
            for table in ("ballot_issuance", "spent_ballot"):
                distinct = connection.execute(
                    text(f"SELECT count(DISTINCT xmin::text) FROM {table}")
                ).scalar_one()
                assert distinct == 1, table
        else:
            # WITHOUT ROWID: rows are stored, and read back, in key order, not arrival order.
            hashes = connection.execute(text("SELECT token_hash FROM spent_ballot")).scalars().all()
            assert hashes == sorted(hashes)
            members = connection.execute(text("SELECT member_id FROM ballot_issuance")).scalars()
            ids = list(members)
            assert ids == sorted(ids) and len(ids) == 4
        assert connection.execute(text("SELECT count(*) FROM spent_ballot")).scalar_one() == 4
