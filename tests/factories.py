"""Test data factories: real rows through the real service functions."""

import itertools
import re
from collections.abc import Sequence

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.deps import SESSION_COOKIE
from app.auth.models import ApiToken, LoginSession, TeamManager, User
from app.auth.passwords import hash_password
from app.teams import service as team_service
from app.teams import tokens
from app.teams.models import Team

_counter = itertools.count(1)


def make_team(session: Session, **overrides: object) -> team_service.IssuedTeam:
    """A team with unique slug; override any create() argument."""
    n = next(_counter)
    arguments: dict[str, object] = {
        "slug": f"team-{n}",
        "name": f"Team {n}",
        "size": 8,
        "timezone": "UTC",
    }
    arguments.update(overrides)
    return team_service.create(session=session, **arguments)  # type: ignore[arg-type]


def make_user(
    session: Session,
    *,
    role: str = "manager",
    teams: Sequence[Team] = (),
    email: str | None = None,
    password: str = "correct horse battery staple",
) -> User:
    """A user (argon2-hashed password) assigned to the given teams."""
    user = User(
        email=email or f"user{next(_counter)}@example.com",
        password_hash=hash_password(password),
        role=role,
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    for team in teams:
        assert team.id is not None
        session.add(TeamManager(user_id=user.id, team_id=team.id))
    session.commit()
    session.refresh(user)
    return user


def make_api_token(session: Session, user: User) -> str:
    """A personal API token for the user; returns the token itself (only its hash is stored)."""
    token = tokens.new_secret()
    assert user.id is not None
    session.add(ApiToken(user_id=user.id, token_hash=tokens.hash_token(token)))
    session.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for an API token."""
    return {"Authorization": f"Bearer {token}"}


DEFAULT_PASSWORD = "correct horse battery staple"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF_FIELD.search(html)
    assert found, "the page has no form with a csrf_token"
    return found.group(1)


def settle(session: Session) -> None:
    """End the test session's transaction before the app writes or after it wrote.

    The test session begins its transactions ready to write, so on SQLite an open one (left by
    any read, or by the refresh a service does after committing) holds the write lock and a
    request that writes waits for it, then fails; ending it also lets the next read see what
    the request stored.
    """
    session.commit()


def make_login(
    client: TestClient, session: Session, user: User, *, password: str = DEFAULT_PASSWORD
) -> str:
    """Log the user in through the real /login form; returns the session's CSRF token for POSTs.

    A login the client already has is dropped first (the form redirects logged-in browsers).
    """
    settle(session)
    if SESSION_COOKIE in client.cookies:
        client.cookies.delete(SESSION_COOKIE)
    form = client.get("/login")
    assert form.status_code == 200, form.text
    response = client.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": csrf_from(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie, "the login did not set the session cookie"
    login = session.exec(
        select(LoginSession).where(LoginSession.token_hash == tokens.hash_token(cookie))
    ).one()
    settle(session)
    return login.csrf_token
