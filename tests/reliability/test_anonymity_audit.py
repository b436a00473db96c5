"""DESIGN §4 audit: after a full workflow (team, answers, comments, close, dashboard, API), read
the live schema and every log line, and fail if anything could link an answer to a person or
carry a time finer than the round."""

import logging
import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session

from app.clock import utcnow
from tests.factories import (
    bearer,
    make_api_token,
    make_login,
    make_responses,
    make_round,
    make_team,
    make_user,
    settle,
    shipped_surveys,
)

# The only tables that hold what a member answered, and every column they may have.
ANSWER_TABLES = {
    "response": {"id", "round_id"},
    "answer": {"response_id", "question_key", "round_id", "value", "score"},
    "comment": {"id", "round_id", "body"},
}
# Aggregates of closed rounds (app/insights/models.py): counts and sums per round, or per round,
# question and score; nothing per response. They point at the round only.
SUMMARY_TABLES = {
    "round_summary": {
        "round_id",
        "responses",
        "sum_of_means",
        "sum_of_squared_means",
        "answers",
        "favorable_answers",
    },
    "round_histogram": {"round_id", "question_key", "score", "answers"},
}
# Where answer tables may point: the round, and (for answers) their response. Comments never
# point at a response (invariant 2).
ALLOWED_LINKS = {
    "response": {"round"},
    "answer": {"response", "round"},
    "comment": {"round"},
}
# Every timestamp column of the schema, reviewed: none is on an answer table, none refers to a
# response. rate_limit.window_start counts login attempts (hashed keys); submissions are
# throttled in memory so that no row ever says when answers arrived.
REVIEWED_TIMESTAMPS = {
    ("rate_limit", "window_start"),
    ("survey_version", "frozen_at"),
    ("team", "webhook_secret_rotated_at"),
    ("team", "created_at"),
    ("user_account", "created_at"),
    ("api_token", "created_at"),
    ("api_token", "revoked_at"),
    ("deployment", "started_at"),
    ("deployment", "finished_at"),
    ("deployment", "created_at"),
    ("deployment", "updated_at"),
    ("incident", "started_at"),
    ("incident", "resolved_at"),
    ("incident", "created_at"),
    ("incident", "updated_at"),
    ("login_session", "created_at"),
    ("login_session", "expires_at"),
    ("roster_member", "added_at"),
    ("round", "closes_at"),
    ("round", "closed_early_at"),
    ("webhook_delivery", "received_at"),
    ("incident_link", "created_at"),
}
PERSONAL_WORDS = ("user", "ip", "addr", "agent", "cookie", "session", "email", "member", "time")
COMMENTS = ["the rollback on Tuesday was calm", "pairing on the release helped a lot"]


def _is_timestamp(column_type: object) -> bool:
    name = type(column_type).__name__.upper()
    return "TIME" in name  # DATETIME, TIMESTAMP, UTCDateTime; DATE (a round's day) is not finer


def test_nothing_stored_or_logged_links_an_answer_to_a_person(
    app: FastAPI,
    client: TestClient,
    session: Session,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    team = make_team(session).team
    manager = make_user(session, teams=[team])
    token = make_api_token(session, manager)
    # A round closed weeks ago: the dashboard stores its summary, which the audit reads too.
    past = make_round(session, team, now=utcnow() - timedelta(weeks=3))
    make_responses(session, past, 5)
    current = make_round(session, team)
    slug, link = team.slug, team.pulse_link
    settle(session)
    survey = shipped_surveys()["release-pulse"]
    for i in range(6):
        with TestClient(app) as member:
            answers = {key: 1 + (i + j) % 5 for j, key in enumerate(survey.keys)}
            body: dict[str, object] = {"answers": answers}
            if i < len(COMMENTS):
                body["comment"] = COMMENTS[i]
            stored = member.post(
                f"/api/v1/pulse/{link}/responses",
                json=body,
                headers={"User-Agent": f"Phone-{i}", "X-Forwarded-For": f"10.0.0.{i}"},
            )
            assert stored.status_code == 201, stored.text
    closed = client.post(f"/api/v1/teams/{slug}/rounds/current/close", headers=bearer(token))
    assert closed.status_code == 200, closed.text
    make_login(client, session, manager)
    dashboard = client.get(f"/teams/{slug}")
    assert dashboard.status_code == 200
    assert all(comment in dashboard.text for comment in COMMENTS)
    trends = client.get(f"/api/v1/teams/{slug}/trends", headers=bearer(token))
    assert trends.status_code == 200

    live = inspect(engine)
    tables = set(live.get_table_names()) - {"alembic_version"}
    assert ANSWER_TABLES.keys() <= tables and SUMMARY_TABLES.keys() <= tables
    problems: list[str] = []
    for table in sorted(tables):
        columns = {column["name"]: column for column in live.get_columns(table)}
        links = {fk["referred_table"] for fk in live.get_foreign_keys(table)}
        if table in ANSWER_TABLES:
            extra = set(columns) - ANSWER_TABLES[table]
            problems += [f"{table}.{name}: not an allowed column" for name in sorted(extra)]
            problems += [
                f"{table}.{name}: could identify a person"
                for name in columns
                if any(word in name for word in PERSONAL_WORDS)
            ]
            problems += [f"{table} -> {target}" for target in links - ALLOWED_LINKS[table]]
        elif table in SUMMARY_TABLES:
            extra = set(columns) - SUMMARY_TABLES[table]
            problems += [f"{table}.{name}: not an allowed column" for name in sorted(extra)]
            problems += [
                f"{table}.{name}: could identify a person"
                for name in columns
                if any(word in name for word in PERSONAL_WORDS)
            ]
            problems += [f"{table} -> {target}" for target in links - {"round"}]
        else:
            # Nothing outside the answer tables may point into them.
            problems += [f"{table} -> {target}" for target in links & ANSWER_TABLES.keys()]
            problems += [
                f"{table}.{name}: names an answer"
                for name in columns
                if name in ("response_id", "comment_id", "answer_id")
            ]
        for name, column in columns.items():
            if _is_timestamp(column["type"]) and (table, name) not in REVIEWED_TIMESTAMPS:
                problems.append(f"{table}.{name}: a timestamp nobody reviewed")
    assert problems == []

    with engine.connect() as connection:
        summarised = {
            row[0] for row in connection.execute(text("SELECT round_id FROM round_summary"))
        }
        histograms = {
            row[0] for row in connection.execute(text("SELECT round_id FROM round_histogram"))
        }
        ids = [row[0] for row in connection.execute(text("SELECT id FROM response"))]
        comment_ids = [row[0] for row in connection.execute(text("SELECT id FROM comment"))]
        rate_keys = [row[0] for row in connection.execute(text("SELECT key FROM rate_limit"))]
    # The round closed weeks ago is summarised; the one closed a moment ago is not, yet: nothing
    # of a round is stored until it has been closed for longer than any submission takes.
    assert summarised == histograms == {past.id}
    assert current.id not in summarised
    assert len(ids) == 6 + 5 and len(comment_ids) == 2
    assert all(uuid.UUID(value).version == 4 for value in ids + comment_ids)
    assert set(ids).isdisjoint(comment_ids), "a comment shares its response's id"
    # Only logins leave rate-limit rows (hashed keys); submissions leave none at all.
    assert rate_keys and all(key.startswith("login:") for key in rate_keys)
    assert all(link not in key and "10.0.0" not in key for key in rate_keys)

    lines = [record.getMessage() for record in caplog.records if record.name != "httpx"]
    assert any("/teams/" in line for line in lines), "the workflow left no log lines"
    leaks = [
        line
        for line in lines
        if "/responses" in line
        or "testclient" in line
        or "10.0.0." in line
        or "Phone-" in line
        or any(comment in line for comment in COMMENTS)
        or any(value in line for value in ids)
    ]
    assert leaks == []
