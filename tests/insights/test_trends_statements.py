"""GET /trends runs a fixed number of SQL statements, however many weeks, rounds and incidents.

The dashboard test bounds the page for one data set; this one proves the API does not grow with
the asked range or the data in it (no query per week, round or incident): the benchmark asks for
104 weeks of a team with 30 responses a week.
"""

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import utcnow
from app.teams.models import Team
from tests.factories import (
    bearer,
    make_api_token,
    make_deployment,
    make_incident,
    make_responses,
    make_round,
    make_team,
    make_user,
    settle,
)
from tests.insights.statements import recorded_statements

# Auth (token, user), team, rounds with counts and their summaries, survey versions,
# deployments, incidents started, incidents resolved, open incidents: 9 once every closed round
# has its stored summary.
MAX_TRENDS_STATEMENTS = 9
# The first request after rounds settled adds one statement computing their figures from the
# answers and one storing their summaries, however many rounds.
FIRST_REQUEST_EXTRA = 2


def _statements_for(client: TestClient, app: FastAPI, token: str, team: Team, weeks: int) -> int:
    today = utcnow().date()
    start = today - timedelta(weeks=weeks - 1)
    with recorded_statements(app.state.engine) as statements:
        response = client.get(
            f"/api/v1/teams/{team.slug}/trends",
            params={"from": start.isoformat(), "to": today.isoformat()},
            headers=bearer(token),
        )
    assert response.status_code == 200, response.text
    assert len(response.json()["weeks"]) in (weeks, weeks - 1, weeks + 1)
    return len(statements)


def test_trends_statements_do_not_grow_with_weeks_rounds_or_incidents(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    team = make_team(session, size=8).team
    now = utcnow()
    for weeks_ago in range(1, 9):
        round_ = make_round(session, team, now=now - timedelta(weeks=weeks_ago))
        make_responses(session, round_, 5, comments=["calm week"])
    for n in range(1, 9):
        finished = now - timedelta(weeks=n, hours=3)
        make_deployment(session, team, finished_at=finished.isoformat())
        make_incident(
            session,
            team,
            started_at=(finished + timedelta(hours=1)).isoformat(),
            resolved_at=(finished + timedelta(hours=2)).isoformat(),
        )
    make_incident(session, team, started_at=(now - timedelta(days=2)).isoformat())
    token = make_api_token(session, make_user(session, teams=[team]))
    settle(session)

    # The first request stores the summaries of the closed rounds; the next ones read them.
    first = _statements_for(client, app, token, team, 10)
    # Both ranges hold all the data above; only the number of weeks differs.
    ten_weeks = _statements_for(client, app, token, team, 10)
    two_years = _statements_for(client, app, token, team, 104)

    assert two_years == ten_weeks
    assert two_years <= MAX_TRENDS_STATEMENTS
    assert first == ten_weeks + FIRST_REQUEST_EXTRA
