"""Users, passwords and tokens through the service functions."""

import pytest
from sqlmodel import Session, select

from app.auth import service as auth_service
from app.auth.deps import user_from_bearer
from app.auth.models import TeamManager
from tests.factories import make_team, make_user


def test_authenticate_checks_the_password_and_ignores_email_case(session: Session) -> None:
    user = make_user(session, email="ana@example.com")
    found = auth_service.authenticate(
        session=session, email=" ANA@example.com", password="correct horse battery staple"
    )
    assert found is not None and found.id == user.id
    assert (
        auth_service.authenticate(session=session, email="ana@example.com", password="nope") is None
    )
    assert (
        auth_service.authenticate(
            session=session, email="bo@example.com", password="correct horse battery staple"
        )
        is None
    )


def test_an_inactive_user_cannot_log_in(session: Session) -> None:
    user = make_user(session, email="ana@example.com")
    user.is_active = False
    session.add(user)
    session.commit()
    assert (
        auth_service.authenticate(
            session=session, email="ana@example.com", password="correct horse battery staple"
        )
        is None
    )


def test_create_user_refuses_a_duplicate_and_stores_a_hash(session: Session) -> None:
    user = auth_service.create_user(
        session=session, email="ana@example.com", password="long enough pw", role="admin"
    )
    assert user.password_hash.startswith("$argon2id$")
    with pytest.raises(auth_service.AuthError, match="already exists"):
        auth_service.create_user(
            session=session, email="ANA@example.com", password="long enough pw", role="admin"
        )


def test_assign_and_unassign_are_idempotent(session: Session) -> None:
    team = make_team(session).team
    user = make_user(session)
    for _ in range(2):
        auth_service.assign_manager(session=session, user=user, team=team)
    assert len(session.exec(select(TeamManager)).all()) == 1
    assert [t.id for t in auth_service.teams_of(session=session, user=user)] == [team.id]
    for _ in range(2):
        auth_service.unassign_manager(session=session, user=user, team=team)
    assert auth_service.teams_of(session=session, user=user) == []


def test_a_revoked_api_token_no_longer_authenticates(session: Session) -> None:
    user = make_user(session)
    token = auth_service.create_api_token(session=session, user=user)
    found = user_from_bearer(session=session, authorization=f"Bearer {token}")
    assert found is not None and found.id == user.id
    assert auth_service.revoke_api_token(session=session, token=token) is True
    assert auth_service.revoke_api_token(session=session, token=token) is False
    assert user_from_bearer(session=session, authorization=f"Bearer {token}") is None
