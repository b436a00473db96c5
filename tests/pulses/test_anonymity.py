"""Anonymity invariants 1, 2 and 7 (DESIGN.md section 4), checked on what is really stored."""

import logging
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Date, DateTime, Engine, inspect, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from app.pulses.models import Answer, Comment, Response
from tests.conftest import LiveServer
from tests.factories import make_responses, make_round
from tests.pulses.test_pages import HTML, KEYS, full_form, new_team

ANONYMOUS_TABLES = {
    "response": {"id", "round_id"},
    "answer": {"response_id", "question_key", "round_id", "value", "score"},
    "comment": {"id", "round_id", "body"},
}
IDENTIFYING = ("user", "ip", "addr", "agent", "cookie", "time", "created", "_at", "date", "seq")


@pytest.mark.parametrize("table", sorted(ANONYMOUS_TABLES))
def test_anonymous_tables_have_no_identity_and_no_time(engine: Engine, table: str) -> None:
    columns = inspect(engine).get_columns(table)
    names = {column["name"] for column in columns}
    assert names == ANONYMOUS_TABLES[table]
    for column in columns:
        assert not any(word in column["name"] for word in IDENTIFYING), column["name"]
        assert not isinstance(column["type"], DateTime | Date), column["name"]


def test_a_comment_shares_nothing_with_a_response_but_the_round(engine: Engine) -> None:
    inspector = inspect(engine)
    comment_keys = inspector.get_foreign_keys("comment")
    assert [(fk["referred_table"], fk["constrained_columns"]) for fk in comment_keys] == [
        ("round", ["round_id"])
    ]
    # Nothing else refers to a comment, and a comment refers to no response or answer.
    for table in ("response", "answer"):
        referred = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
        assert "comment" not in referred
    shared = ANONYMOUS_TABLES["comment"] & (
        ANONYMOUS_TABLES["response"] | ANONYMOUS_TABLES["answer"]
    )
    assert shared == {"id", "round_id"}  # "id": each table's own random UUID, never copied


def test_ids_are_random_uuid4_unrelated_to_arrival_order(session: Session) -> None:
    round_ = make_round(session, new_team(session))
    texts = [f"comment {i}" for i in range(20)]
    ids = make_responses(session, round_, 20, comments=texts)
    assert all(uuid.UUID(value).version == 4 for value in ids)
    assert len(set(ids)) == 20
    # Sorted ids do not give the arrival order back (chance of that: 1 in 20!).
    assert sorted(ids) != ids
    # Nor does the order the database returns rows in without an ORDER BY.
    assert list(session.exec(select(Response.id))) != ids
    comments = session.exec(select(Comment)).all()
    assert all(uuid.UUID(comment.id).version == 4 for comment in comments)
    assert not {comment.id for comment in comments} & set(ids)
    body_order = [comment.body for comment in session.exec(select(Comment))]
    assert body_order != texts
    session.commit()


def test_an_answer_sheet_is_stored_with_nothing_from_the_request(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    response = client.post(
        f"/p/{team.pulse_link}",
        data=full_form(comment="fine"),
        headers={**HTML, "user-agent": "Agent-Smith/1.0", "x-forwarded-for": "203.0.113.9"},
    )
    assert response.status_code == 200
    cookie_value = next(iter(client.cookies.values()))
    with Session(engine) as own:
        rows = [
            *own.exec(select(Response)),
            *own.exec(select(Answer)),
            *own.exec(select(Comment)),
        ]
    dumped = " ".join(row.model_dump_json() for row in rows)
    for leaked in ("Agent-Smith", "203.0.113.9", "testclient", cookie_value):
        assert leaked not in dumped


def test_submissions_write_no_access_log_line(
    client: TestClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    team = new_team(session)
    with caplog.at_level(logging.INFO, logger="redbutton.access"):
        client.get(f"/p/{team.pulse_link}", headers=HTML)
        client.post(f"/p/{team.pulse_link}", data=full_form(), headers=HTML)
        client.post(
            f"/api/v1/pulse/{team.pulse_link}/responses",
            json={"answers": dict.fromkeys(KEYS, 3)},
        )
    lines = [record.getMessage() for record in caplog.records if record.name == "redbutton.access"]
    # The GET is logged (so logging is on), with the link token redacted; the POSTs are not.
    assert len(lines) == 1 and lines[0].startswith('"GET /p/…" 200 '), lines
    assert team.pulse_link not in caplog.text


def test_a_live_server_logs_no_client_address_for_submissions(
    live_server: LiveServer, session: Session
) -> None:
    team = new_team(session)
    startup = len(live_server.log())
    with httpx.Client(base_url=live_server.url) as http:
        assert http.get(f"/p/{team.pulse_link}").status_code == 200
        assert http.post(f"/p/{team.pulse_link}", data=full_form()).status_code == 200
        api = http.post(
            f"/api/v1/pulse/{team.pulse_link}/responses",
            json={"answers": dict.fromkeys(KEYS, 2)},
        )
        assert api.status_code == 409  # same client, cookie from the form post
    with httpx.Client(base_url=live_server.url) as other:
        created = other.post(
            f"/api/v1/pulse/{team.pulse_link}/responses",
            json={"answers": dict.fromkeys(KEYS, 2)},
        )
        assert created.status_code == 201
    after = live_server.log()[startup:]
    assert '"GET /p/…" 200' in after  # the server does log, just not addresses or submissions
    assert "127.0.0.1" not in after
    assert "POST" not in after and "/responses" not in after
    assert team.pulse_link not in live_server.log()


def test_the_database_own_bookkeeping_cannot_join_a_comment_to_its_answers(
    session: Session, engine: Engine
) -> None:
    round_ = make_round(session, new_team(session))
    make_responses(session, round_, 5, comments=["first", "second"])
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # WITHOUT ROWID tables have no hidden insertion counter to join or sort on.
            for table in ANONYMOUS_TABLES:
                with pytest.raises(OperationalError, match="no such column: rowid"):
                    connection.execute(text(f"SELECT rowid FROM {table}"))
            return
        # PostgreSQL stamps rows with their writing transaction (xmin): every row of the round
        # carries the same one, so joining on it pairs each comment with every response.
        pairs = connection.execute(
            text(
                "SELECT count(*) FROM comment c JOIN response r ON c.xmin = r.xmin "
                "WHERE c.round_id = :round"
            ),
            {"round": round_.id},
        ).scalar_one()
        assert pairs == 2 * 5
        for table in ANONYMOUS_TABLES:
            distinct = connection.execute(
                text(f"SELECT count(DISTINCT xmin::text) FROM {table}")
            ).scalar_one()
            assert distinct == 1, table
