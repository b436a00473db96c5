"""The dashboard's export panel and its session-authenticated download."""

import csv
import io

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.exports.scenario import ELIGIBLE_COMMENT, build_retro
from tests.factories import make_login, make_team, make_user, settle


def test_the_dashboard_offers_the_exports_and_a_logged_in_manager_downloads_one(
    client: TestClient, session: Session
) -> None:
    retro = build_retro(session)
    manager = make_user(session, teams=[retro.team])
    make_login(client, session, manager)
    page = client.get(f"/teams/{retro.team.slug}")
    assert page.status_code == 200
    assert f'action="/teams/{retro.team.slug}/export"' in page.text
    assert f'href="/teams/{retro.team.slug}/export?format=md"' in page.text
    response = client.get(f"/teams/{retro.team.slug}/export?format=md&{retro.query}")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert ELIGIBLE_COMMENT in response.text
    # The form sends empty dates when left blank: that is the default range, not an error.
    blank = client.get(f"/teams/{retro.team.slug}/export?from=&to=&format=csv")
    assert blank.status_code == 200
    assert len(list(csv.reader(io.StringIO(blank.text)))) == 1 + 26


def test_the_page_download_needs_a_login_for_that_team(
    client: TestClient, session: Session
) -> None:
    team = make_team(session).team
    other = make_team(session).team
    settle(session)
    anonymous = client.get(f"/teams/{team.slug}/export?format=csv", follow_redirects=False)
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    make_login(client, session, make_user(session, teams=[other]))
    assert client.get(f"/teams/{team.slug}/export?format=csv").status_code == 403


def test_a_bad_range_from_the_form_is_explained(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    make_login(client, session, make_user(session, teams=[team]))
    response = client.get(
        f"/teams/{team.slug}/export?format=csv&from=2026-03-09&to=2026-03-01",
        headers={"accept": "text/html"},
    )
    assert response.status_code == 422
    assert "is after" in response.text
