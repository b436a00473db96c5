"""A manager in Chromium: logs in, sees every chart drawn, a suppressed week, and logs out."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from app.clock import utcnow
from tests.conftest import LiveServer
from tests.factories import (
    DEFAULT_PASSWORD,
    make_deployment,
    make_incident,
    make_team,
    make_user,
    settle,
)
from tests.insights.rows import add_responses, add_round, monday_weeks_ago

CHARTS = ("chart-trend", "chart-questions", "chart-distribution", "chart-association")
# Per-response means around 3.5-4.5 with some spread, so the band and the bars show.
WEEK = [(5, 4), (4, 4), (3, 4), (4, 5), (5, 5), (4, 3)]
DIP = [(2, 3), (3, 2), (2, 2), (3, 3), (4, 2), (2, 1)]


@pytest.mark.browser
def test_a_manager_sees_the_dashboard_and_only_their_team(
    live_server: LiveServer, page: object, session: Session, artifacts_dir: Path
) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    team = make_team(session, name="Payments", size=7).team
    other = make_team(session, name="Search").team
    for weeks_ago in range(12, 2, -1):
        scores = DIP if weeks_ago in (6, 5) else WEEK
        add_responses(
            session,
            add_round(session, team, monday=monday_weeks_ago(weeks_ago)),
            scores,
            comments=["Rollbacks felt calm this week"] if weeks_ago == 4 else [],
        )
    # Three answers two weeks ago: below the threshold of five.
    add_responses(session, add_round(session, team, monday=monday_weeks_ago(2)), WEEK[:3])
    now = utcnow()
    for day in range(0, 84, 2):
        make_deployment(
            session,
            team,
            status="failure" if day in (40, 42, 44) else "success",
            finished_at=now - timedelta(days=day, hours=1),
        )
    make_incident(
        session,
        team,
        started_at=now - timedelta(days=41),
        resolved_at=now - timedelta(days=41) + timedelta(hours=5),
    )
    manager = make_user(session, teams=[team])
    settle(session)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server.url}/teams/{team.slug}")
    assert "/login" in page.url
    page.fill("#email", manager.email)
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/teams/{team.slug}")
    for chart in CHARTS:
        page.wait_for_selector(f"#{chart} .main-svg", timeout=20_000)
    # The suppressed week reads as such, in the chart and in its table.
    assert page.locator("#chart-trend").get_by_text("2 more responses needed").count() == 1
    page.locator("#chart-trend-title ~ details summary").click()
    assert (
        page.locator("#chart-trend-title ~ details")
        .get_by_text("2 more responses needed")
        .is_visible()
    )
    assert page.get_by_text("Rollbacks felt calm this week").is_visible()
    page.screenshot(path=str(artifacts_dir / "team-dashboard.png"), full_page=True)
    assert [e for e in errors if "Content Security Policy" in e] == []

    refused = page.goto(f"{live_server.url}/teams/{other.slug}")
    assert refused is not None and refused.status == 403

    page.goto(f"{live_server.url}/org")
    assert page.locator("svg.sparkline polyline").count() >= 1
    assert page.get_by_text("must not be used to rank").is_visible()
    page.screenshot(path=str(artifacts_dir / "org.png"), full_page=True)

    page.goto(f"{live_server.url}/teams")
    assert page.get_by_role("link", name="Payments").is_visible()
    assert page.get_by_role("link", name="Search").count() == 0
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login**")
    page.goto(f"{live_server.url}/teams/{team.slug}")
    assert "/login" in page.url
