"""The team dashboard as a manager gets it."""

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import utcnow
from tests.factories import (
    make_deployment,
    make_incident,
    make_login,
    make_responses,
    make_round,
    make_team,
    make_user,
)
from tests.insights.rows import add_responses, add_round, login_cookie, monday_weeks_ago
from tests.insights.statements import recorded_statements

FIVE = [(5, 5), (4, 4), (3, 3), (4, 5), (2, 4)]
# Login, user, team, access check, four for delivery, the rounds with their stored summaries,
# scales, questions, comments: a fixed handful, whatever the number of weeks, rounds or answers.
MAX_DASHBOARD_QUERIES = 12
# The first view after rounds settled adds one statement computing their scores from the answers,
# one storing their summaries and one storing their per-question counts.
MAX_FIRST_DASHBOARD_QUERIES = 15


def test_dashboard_shows_cards_charts_and_suppressed_weeks(
    client: TestClient, session: Session
) -> None:
    team = make_team(session, name="Payments", size=10).team
    add_responses(
        session, add_round(session, team, monday=monday_weeks_ago(3)), FIVE, comments=["<b>hi</b>"]
    )
    add_responses(session, add_round(session, team, monday=monday_weeks_ago(2)), FIVE[:3])
    add_responses(session, add_round(session, team, monday=monday_weeks_ago(0)), FIVE[:2])
    manager = make_user(session, teams=[team])
    client.cookies.update(login_cookie(session, manager))
    page = client.get(f"/teams/{team.slug}")
    assert page.status_code == 200
    board = page.context["board"]
    assert board.cards[0].value == "72"
    assert [chart.id for chart in board.charts] == [
        "chart-trend",
        "chart-questions",
        "chart-distribution",
        "chart-association",
    ]
    assert "2 more responses needed" in page.text
    assert "&lt;b&gt;hi&lt;/b&gt;" in page.text and "<b>hi</b>" not in page.text
    assert board.current.responses == 2 and board.current.open
    assert 'data-chart="chart-trend"' in page.text


def test_a_manager_of_another_team_gets_403(client: TestClient, session: Session) -> None:
    mine = make_team(session).team
    other = make_team(session).team
    client.cookies.update(login_cookie(session, make_user(session, teams=[mine])))
    assert client.get(f"/teams/{other.slug}").status_code == 403
    assert client.get(f"/teams/{mine.slug}").status_code == 200


def test_anonymous_visitors_go_to_login(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    page = client.get(f"/teams/{team.slug}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_the_close_button_needs_the_csrf_token(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    current = make_round(session, team)
    make_responses(session, current, 5)
    csrf = make_login(client, session, make_user(session, teams=[team]))
    page = client.get(f"/teams/{team.slug}")
    assert "Close this round now" in page.text
    refused = client.post(f"/teams/{team.slug}/rounds/current/close", follow_redirects=False)
    assert refused.status_code == 403
    closed = client.post(
        f"/teams/{team.slug}/rounds/current/close",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert closed.status_code == 303 and closed.headers["location"] == f"/teams/{team.slug}"
    session.refresh(current)
    assert current.closed_early_at is not None
    board = client.get(f"/teams/{team.slug}").context["board"]
    assert board.current is None and board.latest.round_id == current.id


def test_delivery_figures_reach_the_cards(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    now = utcnow()
    for status in ("success", "success", "success", "failure"):
        make_deployment(session, team, status=status, finished_at=now - timedelta(minutes=5))
    make_incident(
        session,
        team,
        started_at=now - timedelta(minutes=90),
        resolved_at=now - timedelta(minutes=30),
    )
    client.cookies.update(login_cookie(session, make_user(session, teams=[team])))
    cards = {c.label: c for c in client.get(f"/teams/{team.slug}").context["board"].cards}
    assert cards["Deployments this week"].value == "4"
    # One of four failed (the incident may also link to a deployment: then two of four).
    assert cards["Change failure rate"].value in {"25%", "50%"}
    assert cards["MTTR (median)"].value == "60 min"


def test_teams_and_org_pages_list_my_teams_without_ranking(
    client: TestClient, session: Session
) -> None:
    mine = make_team(session, name="Alpha").team
    small = make_team(session, name="Beta").team
    hidden = make_team(session, name="Gamma").team
    add_responses(session, add_round(session, mine, monday=monday_weeks_ago(2)), FIVE)
    add_responses(session, add_round(session, small, monday=monday_weeks_ago(2)), FIVE[:2])
    client.cookies.update(login_cookie(session, make_user(session, teams=[mine, small])))
    teams = client.get("/teams")
    assert teams.status_code == 200
    rows = teams.context["overview"].teams
    assert [r.team.name for r in rows] == ["Alpha", "Beta"]
    assert hidden.name not in teams.text
    assert "<polyline" in teams.text and "3 more responses needed" in teams.text
    org = client.get("/org")
    assert "must not be used to rank" in org.text
    [week] = [w for w in org.context["overview"].weeks if w.week_start == monday_weeks_ago(2)]
    assert (week.teams_included, week.teams_excluded) == (1, 1)
    assert week.trust_index == pytest.approx(72.5)


def test_a_dashboard_request_runs_a_bounded_number_of_queries(
    client: TestClient, session: Session, app: FastAPI
) -> None:
    team = make_team(session).team
    for weeks_ago in range(1, 13):
        round_ = add_round(session, team, monday=monday_weeks_ago(weeks_ago))
        add_responses(session, round_, FIVE, comments=["fine", "ok"])
    for n in range(20):
        make_deployment(session, team, finished_at=utcnow() - timedelta(days=n * 3))
    client.cookies.update(login_cookie(session, make_user(session, teams=[team])))

    def statements_of_one_view() -> list[str]:
        with recorded_statements(app.state.engine) as statements:
            assert client.get(f"/teams/{team.slug}").status_code == 200
        return statements

    first = statements_of_one_view()
    later = statements_of_one_view()
    # 12 rounds with answers and comments, 20 deployments: the count must not grow with them.
    assert len(first) <= MAX_FIRST_DASHBOARD_QUERIES, "\n".join(first)
    assert len(later) <= MAX_DASHBOARD_QUERIES, "\n".join(later)


def test_more_responses_than_headcount_are_flagged(client: TestClient, session: Session) -> None:
    team = make_team(session, size=3).team
    add_responses(session, add_round(session, team, monday=monday_weeks_ago(2)), FIVE)
    client.cookies.update(login_cookie(session, make_user(session, teams=[team])))
    page = client.get(f"/teams/{team.slug}")
    assert "more responses than headcount" in page.text
    # The chart page keeps the strict policy: no inline scripts, only plotly's fixed styles.
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
