"""Test data factories: real rows through the real service functions."""

import itertools
from collections.abc import Sequence

from sqlmodel import Session

from app.auth.models import ApiToken, TeamManager, User
from app.auth.passwords import hash_password
from app.delivery import service as delivery_service
from app.delivery.models import Deployment, DeploymentIn, Incident, IncidentIn
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
