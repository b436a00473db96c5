"""The admin page: only admins, and what they can do there."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth import service as auth_service
from app.auth.models import TeamManager, User
from app.auth.passwords import verify_password
from app.teams import service as team_service
from app.teams import tokens
from tests.factories import make_login, make_team, make_user


def test_managers_get_403_and_anonymous_visitors_go_to_login(
    client: TestClient, session: Session
) -> None:
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/login?next=/admin"
    manager = make_user(session)
    csrf = make_login(client, session, manager)
    assert client.get("/admin").status_code == 403
    response = client.post(
        "/admin/users",
        data={"csrf_token": csrf, "email": "x@example.com", "password": "long enough pass"},
    )
    assert response.status_code == 403
    assert auth_service.get_user_by_email(session=session, email="x@example.com") is None


def test_the_nav_shows_the_admin_link_only_to_admins(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    manager = make_user(session, teams=[team], email="mia@example.com")
    make_login(client, session, manager)
    page = client.get(f"/teams/{team.slug}/settings").text
    assert "mia@example.com" in page and 'href="/admin"' not in page
    assert 'action="/logout"' in page
    admin = make_user(session, role="admin", email="root@example.com")
    client.cookies.clear()
    make_login(client, session, admin)
    page = client.get("/admin").text
    assert "root@example.com" in page and 'href="/admin"' in page


def test_an_admin_creates_a_manager_for_a_team(client: TestClient, session: Session) -> None:
    team = make_team(session, slug="payments").team
    admin = make_user(session, role="admin")
    csrf = make_login(client, session, admin)
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "email": "New@Example.com",
            "password": "a long password",
            "role": "manager",
            "teams": ["payments"],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin?done=user"
    user = auth_service.get_user_by_email(session=session, email="new@example.com")
    assert user is not None and user.role == "manager"
    assert verify_password("a long password", user.password_hash)
    assert [t.slug for t in auth_service.teams_of(session=session, user=user)] == [team.slug]


def test_bad_user_input_is_refused_with_a_message_and_nothing_stored(
    client: TestClient, session: Session
) -> None:
    admin = make_user(session, role="admin", email="root@example.com")
    csrf = make_login(client, session, admin)
    cases: list[tuple[dict[str, str | list[str]], str]] = [
        ({"email": "root@example.com", "password": "a long password"}, "already exists"),
        ({"email": "x@example.com", "password": "short"}, "at least 10 characters"),
        ({"email": "x@example.com", "password": "a long password", "role": "boss"}, "role"),
        ({"email": "not-an-email", "password": "a long password"}, "not an email"),
        ({"email": "x@example.com", "password": "a long password", "teams": ["nope"]}, "nope"),
    ]
    for data, message in cases:
        response = client.post("/admin/users", data={"csrf_token": csrf, **data})
        assert response.status_code == 400, data
        assert message in response.text, data
    assert [u.email for u in session.exec(select(User))] == ["root@example.com"]


def test_an_admin_assigns_and_unassigns_a_manager(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    manager = make_user(session, email="mia@example.com")
    admin = make_user(session, role="admin")
    csrf = make_login(client, session, admin)
    data = {"csrf_token": csrf, "email": "mia@example.com", "team": team.slug}
    assert client.post("/admin/managers", data=data, follow_redirects=False).status_code == 303
    # Assigning twice is harmless.
    assert client.post("/admin/managers", data=data, follow_redirects=False).status_code == 303
    assert session.exec(select(TeamManager)).all() == [
        TeamManager(user_id=manager.id, team_id=team.id)  # type: ignore[arg-type]
    ]
    response = client.post(
        "/admin/managers", data={**data, "action": "unassign"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert session.exec(select(TeamManager)).all() == []
    missing = client.post("/admin/managers", data={**data, "team": "ghost"})
    assert missing.status_code == 400 and "existing user and team" in missing.text


def test_an_admin_creates_a_team_and_sees_its_credentials_once(
    client: TestClient, session: Session
) -> None:
    admin = make_user(session, role="admin")
    csrf = make_login(client, session, admin)
    response = client.post(
        "/admin/teams",
        data={
            "csrf_token": csrf,
            "slug": "checkout",
            "name": "Checkout",
            "size": "6",
            "timezone": "Europe/Paris",
        },
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    team = team_service.get_by_slug(session=session, slug="checkout")
    assert team is not None and team.size == 6 and team.timezone == "Europe/Paris"
    context = response.context
    assert context["issued_pulse_url"] == f"http://testserver/p/{team.pulse_link}"
    assert tokens.hash_token(context["issued"].ingest_token) == team.ingest_token_hash
    assert context["issued"].ingest_token in response.text
    assert team.webhook_secret in response.text
    # The ingest token cannot be shown again: only its hash is stored.
    assert context["issued"].ingest_token not in client.get("/admin").text


def test_bad_team_input_is_refused_and_nothing_stored(client: TestClient, session: Session) -> None:
    admin = make_user(session, role="admin")
    csrf = make_login(client, session, admin)
    base = {"csrf_token": csrf, "slug": "ok", "name": "OK", "size": "4", "timezone": "UTC"}
    for change, message in [
        ({"size": "many"}, "whole number"),
        ({"size": "0"}, "at least 1"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"timezone": "Mars/Olympus"}, "IANA timezone"),
    ]:
        response = client.post("/admin/teams", data={**base, **change})
        assert response.status_code == 400 and message in response.text, change
    assert team_service.list_all(session=session) == []


def test_admin_forms_refuse_a_missing_csrf_token(client: TestClient, session: Session) -> None:
    admin = make_user(session, role="admin")
    make_login(client, session, admin)
    for path in ("/admin/users", "/admin/teams", "/admin/managers"):
        assert client.post(path, data={"slug": "x", "email": "a@b.cd"}).status_code == 403
        assert client.post(path, data={"csrf_token": "nope"}).status_code == 403
    assert team_service.list_all(session=session) == []
    assert len(session.exec(select(User)).all()) == 1
