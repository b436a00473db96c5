"""The dashboard in Chromium: every chart is drawn and a suppressed week reads as suppressed."""

from pathlib import Path

import pytest
from sqlmodel import Session

from tests.conftest import LiveServer
from tests.factories import make_team, make_user
from tests.insights.rows import add_responses, add_round, login_cookie, monday_weeks_ago

FIVE = [(5, 5), (4, 4), (3, 3), (4, 5), (2, 4)]
CHARTS = ("chart-trend", "chart-questions", "chart-distribution", "chart-association")


@pytest.mark.browser
def test_every_chart_is_drawn(
    live_server: LiveServer, page: object, session: Session, artifacts_dir: Path
) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    team = make_team(session, name="Payments", size=7).team
    for weeks_ago in (6, 5, 4, 3):
        add_responses(session, add_round(session, team, monday=monday_weeks_ago(weeks_ago)), FIVE)
    add_responses(session, add_round(session, team, monday=monday_weeks_ago(2)), FIVE[:3])
    manager = make_user(session, teams=[team])
    [(name, value)] = login_cookie(session, manager).items()
    page.context.add_cookies([{"name": name, "value": value, "url": live_server.url}])
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/teams/{team.slug}")
    for chart in CHARTS:
        page.wait_for_selector(f"#{chart} .main-svg", timeout=15_000)
    assert page.get_by_text("2 more responses needed").count() >= 1
    page.screenshot(path=str(artifacts_dir / "team-dashboard.png"), full_page=True)
    assert [e for e in errors if "Content Security Policy" in e] == []
