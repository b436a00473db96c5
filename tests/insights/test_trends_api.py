"""`GET /api/v1/teams/{slug}/trends`: the weekly trend with the delivery figures filled in."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.teams.models import Team
from tests.factories import (
    bearer,
    make_api_token,
    make_deployment,
    make_incident,
    make_team,
    make_user,
)

KEYS = {
    "week",
    "week_start",
    "responses",
    "response_rate",
    "suppressed",
    "open",
    "more_needed",
    "trust_index",
    "trust_ci_low",
    "trust_ci_high",
    "favorable_pct",
    "deployments",
    "failed_deployments",
    "change_failure_rate",
    "mttr_minutes",
    "mttr_p90_minutes",
    "incidents",
    "open_incidents",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def team(session: Session) -> Team:
    return make_team(session, slug="payments", timezone="Europe/Paris").team


@pytest.fixture
def token(session: Session, team: Team) -> str:
    return make_api_token(session, make_user(session, teams=[team]))


def test_weeks_carry_the_delivery_figures(
    client: TestClient, session: Session, team: Team, token: str
) -> None:
    # W10 (from 2026-03-01T23:00Z in Paris): two deployments, one failed; one incident of 45 min.
    make_deployment(session, team, finished_at=at("2026-03-01T23:30:00Z"))
    make_deployment(session, team, status="failure", finished_at=at("2026-03-03T10:00:00Z"))
    make_incident(
        session,
        team,
        started_at=at("2026-03-05T10:00:00Z"),
        resolved_at=at("2026-03-05T10:45:00Z"),
        deployment_external_id="not-received",
    )
    response = client.get(
        "/api/v1/teams/payments/trends?from=2026-03-02&to=2026-03-09", headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["team"] == "payments" and body["min_responses"] == 5
    w10, w11 = body["weeks"]
    assert set(w10) == KEYS
    assert (w10["week"], w10["week_start"]) == ("2026-W10", "2026-03-02")
    assert (w10["deployments"], w10["failed_deployments"]) == (2, 1)
    assert w10["change_failure_rate"] == 0.5
    assert (w10["mttr_minutes"], w10["mttr_p90_minutes"]) == (45.0, 45.0)
    assert (w10["incidents"], w10["open_incidents"]) == (1, 0)
    assert (w11["week"], w11["deployments"], w11["change_failure_rate"]) == ("2026-W11", 0, None)
    assert w11["mttr_minutes"] is None
    # No round that week, which is before the team existed: no survey figures, not "suppressed".
    assert (w10["responses"], w10["trust_index"], w10["favorable_pct"]) == (None, None, None)
    assert (w10["suppressed"], w10["open"], w10["more_needed"]) == (False, False, 0)


def test_a_week_is_in_range_when_its_start_is(client: TestClient, team: Team, token: str) -> None:
    response = client.get(
        "/api/v1/teams/payments/trends?from=2026-03-03&to=2026-03-16", headers=bearer(token)
    )
    assert [w["week_start"] for w in response.json()["weeks"]] == ["2026-03-09", "2026-03-16"]


def test_the_default_range_is_the_last_26_weeks(client: TestClient, team: Team, token: str) -> None:
    weeks = client.get("/api/v1/teams/payments/trends", headers=bearer(token)).json()["weeks"]
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    current = today - timedelta(days=today.weekday())
    assert len(weeks) == 26
    assert weeks[-1]["week_start"] == current.isoformat()
    assert weeks[0]["week_start"] == (current - timedelta(weeks=25)).isoformat()


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("from=2026-03-09&to=2026-03-02", "after"),
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=1990-01-01&to=2026-01-01", "520 weeks"),
        ("from=0001-01-01&to=0001-02-01", "between 1970"),
    ],
)
def test_bad_ranges_are_422_with_a_message(
    client: TestClient, team: Team, token: str, query: str, needle: str
) -> None:
    response = client.get(f"/api/v1/teams/payments/trends?{query}", headers=bearer(token))
    assert response.status_code == 422
    assert needle in response.text


def test_access_rules(client: TestClient, session: Session, team: Team, token: str) -> None:
    other = make_team(session, slug="search").team
    assert other.slug == "search"
    assert client.get("/api/v1/teams/payments/trends").status_code == 401
    assert client.get("/api/v1/teams/search/trends", headers=bearer(token)).status_code == 403
    assert client.get("/api/v1/teams/nobody/trends", headers=bearer(token)).status_code == 404
