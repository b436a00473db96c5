"""The team dashboard as a manager gets it."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_team, make_user
from tests.insights.rows import add_responses, add_round, login_cookie, monday_weeks_ago

FIVE = [(5, 5), (4, 4), (3, 3), (4, 5), (2, 4)]


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
