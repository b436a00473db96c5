"""DESIGN §9 under load and a crash: concurrent submissions never get lost or fail with
"database is locked", and a server killed mid-load has stored every response it acknowledged."""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.config import Settings
from tests.conftest import LiveServer
from tests.factories import make_team, settle, shipped_surveys
from tests.reliability.load import (
    LOAD_ENV,
    answers_per_response,
    count,
    fire,
    fire_until_killed,
    run_load,
    stored_markers,
)

pytestmark = pytest.mark.slow

SUBMISSIONS = 300
QUESTIONS = len(shipped_surveys()["release-pulse"].keys)


def _workers(settings: Settings) -> int:
    # SQLite is one file: one process. PostgreSQL is the scale-out path: several processes.
    return 1 if settings.is_sqlite else 2


def test_concurrent_submissions_are_each_stored_exactly_once(
    settings: Settings,
    session: Session,
    engine: Engine,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    team = make_team(session, size=SUBMISSIONS).team
    link = team.pulse_link
    settle(session)
    server = LiveServer(
        settings, tmp_path / "server.log", workers=_workers(settings), extra_env=LOAD_ENV
    )
    try:
        outcome = run_load(fire(server.url, link, SUBMISSIONS))
        log = server.log()
    finally:
        server.stop()

    server_errors = [status for status in outcome.statuses if status >= 500]
    assert server_errors == [], f"{len(server_errors)} submissions got a 5xx"
    assert outcome.transport_errors == 0
    # Every client had its own cookie jar, so every one of them may answer once.
    assert sorted(set(outcome.statuses)) == [201]
    assert len(outcome.acknowledged) == SUBMISSIONS
    assert "database is locked" not in log
    assert "Traceback" not in log
    # Stored exactly once: as many responses as acknowledgements, every marker once.
    assert count(engine, "SELECT count(*) FROM response") == SUBMISSIONS
    assert sorted(stored_markers(engine)) == sorted(outcome.acknowledged)
    assert answers_per_response(engine) == {QUESTIONS}
    assert count(engine, "SELECT count(*) FROM answer") == SUBMISSIONS * QUESTIONS


def test_a_server_killed_mid_load_kept_every_acknowledged_response(
    settings: Settings, session: Session, engine: Engine, tmp_path: Path
) -> None:
    team = make_team(session, size=500).team
    link = team.pulse_link
    settle(session)
    server = LiveServer(settings, tmp_path / "first.log", workers=1, extra_env=LOAD_ENV)
    try:
        outcome = run_load(
            fire_until_killed(
                server.url, link, concurrency=30, kill_after=120, kill=server.process.kill
            )
        )
        server.process.wait(timeout=10)
        assert server.process.returncode == -9, "the server was not killed by SIGKILL"
    finally:
        server.stop()
    assert len(outcome.acknowledged) >= 120
    assert [status for status in outcome.statuses if status >= 500] == []

    # The database as the killed process left it, before anything else opens it.
    if settings.is_sqlite:
        path = settings.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    restarted = LiveServer(settings, tmp_path / "second.log", workers=1, extra_env=LOAD_ENV)
    try:
        after = run_load(fire(restarted.url, link, 10, prefix="after"))
    finally:
        restarted.stop()
    assert sorted(set(after.statuses)) == [201], "the restarted server does not take answers"

    stored = set(stored_markers(engine))
    missing = set(outcome.acknowledged) - stored
    assert missing == set(), f"{len(missing)} acknowledged responses were lost"
    assert set(after.acknowledged) <= stored
    responses = count(engine, "SELECT count(*) FROM response")
    # Never half-written: each response has all its answers and its one comment.
    assert answers_per_response(engine) == {QUESTIONS}
    assert count(engine, "SELECT count(*) FROM comment") == responses
    assert responses >= len(outcome.acknowledged) + len(after.acknowledged)
    print(
        f"crash: {len(outcome.statuses) + outcome.transport_errors} fired, "
        f"{len(outcome.acknowledged)} acknowledged before SIGKILL, "
        f"{outcome.transport_errors} cut off, {responses} stored after restart"
    )
