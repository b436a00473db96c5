"""Logging in and out through the real forms: cookies, sessions, CSRF, rate limits."""

import logging
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.deps import SESSION_COOKIE
from app.auth.models import LoginSession
from app.auth.routes import safe_next
from app.clock import utcnow
from app.config import Settings
from app.main import create_app
from app.rate_limits import RateLimit
from app.teams import tokens
from tests.factories import csrf_from, make_login, make_team, make_user, settle


def _set_cookie_headers(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def _login(client: TestClient, email: str, password: str, next_path: str = "") -> httpx.Response:
    form = client.get("/login")
    response: httpx.Response = client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_from(form.text),
            "next": next_path,
        },
        follow_redirects=False,
    )
    return response


def test_login_sets_a_session_cookie_and_stores_the_session(
    client: TestClient, session: Session
) -> None:
    user = make_user(session, email="ana@example.com")
    response = _login(client, "Ana@Example.com ", "correct horse battery staple")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie_header = next(h for h in _set_cookie_headers(response) if h.startswith(SESSION_COOKIE))
    flags = {part.strip().lower() for part in cookie_header.split(";")}
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "max-age=43200" in flags
    assert "secure" not in flags  # base_url is http://testserver
    cookie = client.cookies[SESSION_COOKIE]
    stored = session.exec(select(LoginSession)).one()
    # Only the hash of the cookie is stored; the session lives 12 hours.
    assert stored.user_id == user.id and stored.token_hash == tokens.hash_token(cookie)
    assert cookie not in stored.model_dump_json()
    lifetime = stored.expires_at - stored.created_at
    assert lifetime == timedelta(hours=12)
    assert client.get("/", follow_redirects=False).headers["location"] == "/teams"
    again = client.get("/login?next=/org", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/org"


def test_the_cookie_is_secure_when_served_over_https(settings: Settings, session: Session) -> None:
    make_user(session, email="ana@example.com")
    settle(session)
    https = settings.model_copy(update={"base_url": "https://redbutton.example.com"})
    with TestClient(create_app(https), base_url="https://testserver") as client:
        response = _login(client, "ana@example.com", "correct horse battery staple")
    assert response.status_code == 303
    cookie_header = next(h for h in _set_cookie_headers(response) if h.startswith(SESSION_COOKIE))
    assert "secure" in {part.strip().lower() for part in cookie_header.split(";")}


def test_a_wrong_password_or_unknown_email_gets_the_same_generic_error(
    client: TestClient, session: Session
) -> None:
    make_user(session, email="ana@example.com")
    wrong_password = _login(client, "ana@example.com", "not the password at all")
    unknown_email = _login(client, "nobody@example.com", "correct horse battery staple")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 400
        assert "Email or password is incorrect." in response.text
        assert SESSION_COOKIE not in client.cookies
    assert session.exec(select(LoginSession)).all() == []


def test_next_is_honoured_only_for_local_paths(client: TestClient, session: Session) -> None:
    make_user(session, email="ana@example.com")
    response = _login(client, "ana@example.com", "correct horse battery staple", "/teams/x?y=1")
    assert response.headers["location"] == "/teams/x?y=1"
    for target in ("https://evil.example", "//evil.example/x", "/\\evil.example", "teams"):
        assert safe_next(target) is None
    client.cookies.clear()
    response = _login(client, "ana@example.com", "correct horse battery staple", "//evil.example")
    assert response.headers["location"] == "/"


def test_a_protected_page_sends_anonymous_visitors_to_login(
    client: TestClient, session: Session
) -> None:
    team = make_team(session).team
    response = client.get(f"/teams/{team.slug}/settings", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/teams/{team.slug}/settings"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_the_login_form_refuses_a_missing_or_forged_csrf_token(
    client: TestClient, session: Session
) -> None:
    make_user(session, email="ana@example.com")
    client.get("/login")
    data = {"email": "ana@example.com", "password": "correct horse battery staple"}
    missing = client.post("/login", data=data, follow_redirects=False)
    forged = client.post("/login", data={**data, "csrf_token": "0" * 64}, follow_redirects=False)
    for response in (missing, forged):
        assert response.status_code == 403
        assert "reload the page" in response.text
    # A token from another browser does not fit this browser's cookie.
    with TestClient(client.app) as other:
        foreign = csrf_from(other.get("/login").text)
    stolen = client.post("/login", data={**data, "csrf_token": foreign}, follow_redirects=False)
    assert stolen.status_code == 403
    assert session.exec(select(LoginSession)).all() == []


def test_logout_ends_the_session_server_side(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    user = make_user(session, teams=[team])
    csrf = make_login(client, session, user)
    cookie = client.cookies[SESSION_COOKIE]
    assert client.get(f"/teams/{team.slug}/settings").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert any(
        h.startswith(f"{SESSION_COOKIE}=") and "max-age=0" in h.lower()
        for h in _set_cookie_headers(response)
    )
    assert session.exec(select(LoginSession)).all() == []
    # Even a browser that kept the old cookie is logged out.
    client.cookies.set(SESSION_COOKIE, cookie)
    page = client.get(f"/teams/{team.slug}/settings", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_logout_refuses_a_missing_or_wrong_csrf_token(client: TestClient, session: Session) -> None:
    user = make_user(session)
    make_login(client, session, user)
    for data in ({}, {"csrf_token": "wrong"}):
        response = client.post("/logout", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "security token" in response.json()["detail"]
    assert len(session.exec(select(LoginSession)).all()) == 1


def test_an_expired_session_is_refused(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    user = make_user(session, teams=[team])
    make_login(client, session, user)
    stored = session.exec(select(LoginSession)).one()
    stored.expires_at = utcnow() - timedelta(seconds=1)
    session.add(stored)
    session.commit()
    page = client.get(f"/teams/{team.slug}/settings", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_logins_are_rate_limited_per_email_with_retry_after(
    client: TestClient, session: Session, settings: Settings, rate_limit_now: datetime
) -> None:
    make_user(session, email="ana@example.com")
    for _ in range(settings.login_rate_limit):
        assert _login(client, "ana@example.com", "wrong password!").status_code == 400
    # Even the right password is refused until the window ends: guessing cannot go on.
    refused = _login(client, "ana@example.com", "correct horse battery staple")
    assert refused.status_code == 429
    # The clock stands 30 s into the one-minute window.
    assert refused.headers["retry-after"] == "30"
    assert "Too many login attempts" in refused.text
    assert SESSION_COOKIE not in client.cookies
    # The counters are in the database (shared by every instance), keyed by hashes only.
    rows = session.exec(select(RateLimit)).all()
    assert sum(row.count for row in rows if row.key.startswith("login:email:")) == 11
    assert all("ana@example.com" not in row.key for row in rows)
    # Another account is not locked out by Ana's bucket.
    make_user(session, email="bo@example.com")
    assert _login(client, "bo@example.com", "correct horse battery staple").status_code == 303


def test_the_rate_limit_is_shared_between_app_instances(
    settings: Settings, session: Session, rate_limit_now: datetime
) -> None:
    make_user(session, email="ana@example.com")
    settle(session)
    first, second = create_app(settings), create_app(settings)
    with TestClient(first) as one, TestClient(second) as two:
        for attempt in range(settings.login_rate_limit):
            client = one if attempt % 2 else two
            assert _login(client, "ana@example.com", "wrong password!").status_code == 400
        assert _login(two, "ana@example.com", "wrong password!").status_code == 429


def test_no_log_line_carries_the_session_cookie_or_csrf_token(
    client: TestClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    team = make_team(session).team
    user = make_user(session, teams=[team])
    with caplog.at_level(logging.DEBUG):
        csrf = make_login(client, session, user)
        cookie = client.cookies[SESSION_COOKIE]
        client.get(f"/teams/{team.slug}/settings")
        client.post("/logout", data={"csrf_token": csrf})
    assert caplog.records, "the access log should have written lines"
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert cookie not in text and csrf not in text


def test_scripts_may_send_the_csrf_token_in_a_header(client: TestClient, session: Session) -> None:
    user = make_user(session)
    csrf = make_login(client, session, user)
    refused = client.post("/logout", json={"csrf_token": csrf}, follow_redirects=False)
    assert refused.status_code == 403  # a JSON body is not a form: the header is needed
    accepted = client.post("/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    assert accepted.status_code == 303
    assert session.exec(select(LoginSession)).all() == []
