"""`GET /api/v1/teams`: the teams the token's user may see."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import bearer, make_api_token, make_login, make_team, make_user


def test_a_manager_sees_only_assigned_teams_and_an_admin_all(
    client: TestClient, session: Session
) -> None:
    mine = make_team(session, slug="payments", name="Payments", size=7, timezone="Europe/Paris")
    make_team(session, slug="search", name="Search")
    manager = make_user(session, teams=[mine.team])
    admin = make_user(session, role="admin")
    response = client.get("/api/v1/teams", headers=bearer(make_api_token(session, manager)))
    assert response.status_code == 200
    assert response.json() == [
        {
            "slug": "payments",
            "name": "Payments",
            "size": 7,
            "timezone": "Europe/Paris",
            "survey": "release-pulse",
        }
    ]
    response = client.get("/api/v1/teams", headers=bearer(make_api_token(session, admin)))
    assert [team["slug"] for team in response.json()] == ["payments", "search"]


def test_a_manager_without_teams_gets_an_empty_list(client: TestClient, session: Session) -> None:
    make_team(session)
    manager = make_user(session)
    response = client.get("/api/v1/teams", headers=bearer(make_api_token(session, manager)))
    assert response.status_code == 200 and response.json() == []


def test_401_without_a_valid_token(client: TestClient, session: Session) -> None:
    make_team(session)
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/teams", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "redbutton token create" in response.json()["detail"]


def test_a_session_cookie_is_not_an_api_credential(client: TestClient, session: Session) -> None:
    manager = make_user(session, teams=[make_team(session).team])
    make_login(client, session, manager)
    assert client.get("/api/v1/teams").status_code == 401
