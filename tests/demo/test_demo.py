"""`redbutton demo` tells the story the dashboard exists to show."""

import json
import subprocess

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.config import Settings
from app.demo.scenario import DEMO_TEAMS
from app.demo.seed import DEMO_WEEKS, load_demo
from app.pulses.models import Response, Round
from app.pulses.surveys import load_surveys
from tests.factories import bearer, make_api_token, make_user
from tests.teams.test_team_cli import REDBUTTON


def test_demo_loads_teams_months_of_rounds_and_dips_after_incidents(
    settings: Settings, session: Session, client: TestClient
) -> None:
    summary = load_demo(session=session, surveys=load_surveys(settings.surveys_dir))

    assert len(summary.teams) >= 3
    assert summary.rounds == len(DEMO_TEAMS) * DEMO_WEEKS
    assert DEMO_WEEKS >= 26  # six months and more
    assert session.exec(select(func.count()).select_from(Round)).one() == summary.rounds
    assert session.exec(select(func.count()).select_from(Response)).one() == summary.responses
    assert summary.deployments > 500 and summary.incidents >= len(DEMO_TEAMS)

    token = make_api_token(session, make_user(session, role="admin"))
    for story in DEMO_TEAMS:
        trends = client.get(f"/api/v1/teams/{story.slug}/trends", headers=bearer(token)).json()[
            "weeks"
        ]
        weeks = {week["week_start"]: week for week in trends}
        ordered = [weeks[key] for key in sorted(weeks)]
        assert sum(week["deployments"] or 0 for week in ordered) > 0
        if story.slug == "mobile":
            # The small team: some weeks fall below the anonymity threshold.
            assert any(week["suppressed"] for week in ordered[:-1])
        # Each bad incident week within the range is followed by a dip in trust.
        first_week = ordered[0]["week_start"]
        for bad in story.incident_weeks:
            index = bad - (DEMO_WEEKS - len(ordered))
            if index < 1 or index + 1 >= len(ordered) - 1:
                continue
            before, after = ordered[index - 1], ordered[index + 1]
            if before["trust_index"] is None or after["trust_index"] is None:
                continue
            assert after["trust_index"] < before["trust_index"] - 5, (story.slug, first_week)


def test_demo_command_prints_the_login_and_loads_only_into_an_empty_database(
    settings: Settings,
) -> None:
    from tests.conftest import server_environment

    env = server_environment(settings)
    first = subprocess.run(
        [REDBUTTON, "demo", "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, first.stderr
    payload = json.loads(first.stdout)
    assert payload["loaded"] is True and payload["manager_email"] == "manager@example.com"

    again = subprocess.run(
        [REDBUTTON, "demo", "--if-empty", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and json.loads(again.stdout) == {"loaded": False}
    refused = subprocess.run(
        [REDBUTTON, "demo"], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 1 and "already has teams" in refused.stderr
