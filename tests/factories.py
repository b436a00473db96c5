"""Test data factories: real rows through the real service functions."""

import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.deps import SESSION_COOKIE
from app.auth.models import ApiToken, LoginSession, TeamManager, User
from app.auth.passwords import hash_password
from app.clock import utcnow
from app.config import PROJECT_ROOT
from app.delivery import service as delivery_service
from app.delivery.models import Deployment, DeploymentIn, Incident, IncidentIn
from app.pulses import rounds as round_service
from app.pulses import service as pulse_service
from app.pulses.models import Round
from app.pulses.surveys import Survey, load_surveys
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


@lru_cache
def shipped_surveys() -> dict[str, Survey]:
    """The survey files shipped in surveys/, by id."""
    return load_surveys(PROJECT_ROOT / "surveys")


def make_round(
    session: Session,
    team: Team,
    *,
    now: datetime | None = None,
    survey: Survey | None = None,
) -> Round:
    """The team's round for the period containing `now` (default: now; a past `now` gives a
    round that is already closed), with the team's shipped survey unless one is given."""
    round_ = round_service.current_round(
        session=session,
        team=team,
        survey=survey or shipped_surveys()[team.survey_id],
        now=now or utcnow(),
    )
    _release(session)
    return round_


def make_responses(
    session: Session,
    round: Round,
    n: int,
    *,
    answers: Mapping[str, int] | Sequence[Mapping[str, int]] | None = None,
    comments: Sequence[str] = (),
) -> list[str]:
    """n responses stored through submit_response, even in a round that has closed; their ids.

    Every question is answered with the scale's max unless `answers` says otherwise: one mapping
    for all n responses, or a list of n mappings (one per response); a mapping may name only
    some questions. `comments` are submitted with the first len(comments) responses.
    """
    survey = pulse_service.survey_of_round(session=session, round=round)
    if isinstance(answers, Sequence):
        assert len(answers) == n, "give one answers mapping per response"
        per_response: list[Mapping[str, int]] = list(answers)
    else:
        per_response = [answers or {}] * n
    assert len(comments) <= n, "at most one comment per response"
    # Just before the period ends: the round still takes answers then (unless closed early).
    during = round.closes_at - timedelta(seconds=1)
    created = []
    for index, overrides in enumerate(per_response):
        sheet = dict.fromkeys(survey.keys, survey.scale.max)
        sheet.update(overrides)
        created.append(
            pulse_service.submit_response(
                session=session,
                round=round,
                survey=survey,
                answers=sheet,
                comment=comments[index] if index < len(comments) else None,
                now=during,
            )
        )
    _release(session)
    return created


def make_deployment(session: Session, team: Team, **fields: object) -> Deployment:
    """A deployment recorded through the ingest service (production success by default)."""
    data: dict[str, object] = {
        "external_id": f"deploy-{next(_counter)}",
        "environment": "production",
        "status": "success",
    }
    data.update(fields)
    deployment = delivery_service.record_deployment(
        session=session, team=team, data=DeploymentIn.model_validate(data)
    ).record
    session.commit()  # end the read transaction, so SQLite's write lock is free for requests
    return deployment


def make_incident(session: Session, team: Team, **fields: object) -> Incident:
    """An incident recorded through the ingest service."""
    data: dict[str, object] = {"external_id": f"incident-{next(_counter)}"}
    data.update(fields)
    incident = delivery_service.record_incident(
        session=session, team=team, data=IncidentIn.model_validate(data)
    ).record
    session.commit()  # end the read transaction, so SQLite's write lock is free for requests
    return incident


def _release(session: Session) -> None:
    """End the session's transaction: on SQLite the test session's transactions take the write
    lock (BEGIN IMMEDIATE), which would make the app under test wait for it."""
    session.commit()


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
