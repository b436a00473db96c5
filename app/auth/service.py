"""Users, team assignments, API tokens and browser login sessions."""

import re
import secrets
from collections.abc import Sequence
from datetime import timedelta

from fastapi import Response
from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.auth.deps import SESSION_COOKIE
from app.auth.models import ApiToken, LoginSession, TeamManager, User
from app.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from app.clock import utcnow
from app.teams import tokens
from app.teams.models import Team

ROLES = ("admin", "manager")
LOGIN_SESSION_LIFETIME = timedelta(hours=12)
# Deliberately loose: the address only has to be one a person can recognise as theirs.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


class AuthError(ValueError):
    """A user or token cannot be created or changed as asked; the message says why."""


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def get_user_by_email(*, session: Session, email: str) -> User | None:
    """The user with this email, if any."""
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def list_users(*, session: Session) -> list[User]:
    """Every user, by email."""
    return list(session.exec(select(User).order_by(col(User.email))))


def teams_of(*, session: Session, user: User) -> list[Team]:
    """The teams this user is assigned to manage, by slug."""
    statement = (
        select(Team)
        .join(TeamManager, col(TeamManager.team_id) == col(Team.id))
        .where(TeamManager.user_id == user.id)
        .order_by(col(Team.slug))
    )
    return list(session.exec(statement))


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    role: str,
    teams: Sequence[Team] = (),
) -> User:
    """Create an active user with an argon2 password hash, assigned to the given teams."""
    email = normalise_email(email)
    if not EMAIL_PATTERN.match(email) or len(email) > 320:
        raise AuthError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "admin" and teams:
        raise AuthError("admins see every team: assign teams to managers only")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if get_user_by_email(session=session, email=email) is not None:
        raise AuthError(f"a user with email {email!r} already exists")
    user = User(email=email, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    for team in teams:
        session.add(TeamManager(user_id=_id(user.id), team_id=_id(team.id)))
    session.commit()
    session.refresh(user)
    return user


def authenticate(*, session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same cost either way)."""
    user = get_user_by_email(session=session, email=email)
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, user.password_hash) or not user.is_active:
        return None
    return user


def assign_manager(*, session: Session, user: User, team: Team) -> None:
    """Let this user see the team (idempotent)."""
    existing = session.get(TeamManager, (_id(user.id), _id(team.id)))
    if existing is None:
        session.add(TeamManager(user_id=_id(user.id), team_id=_id(team.id)))
        session.commit()


def unassign_manager(*, session: Session, user: User, team: Team) -> None:
    """Stop this user seeing the team (idempotent)."""
    session.execute(
        delete(TeamManager)
        .where(col(TeamManager.user_id) == user.id)
        .where(col(TeamManager.team_id) == team.id)
    )
    session.commit()


def create_api_token(*, session: Session, user: User) -> str:
    """Issue a personal API token; only its hash is stored, the token is returned once."""
    token = tokens.new_secret()
    session.add(ApiToken(user_id=_id(user.id), token_hash=tokens.hash_token(token)))
    session.commit()
    return token


def revoke_api_token(*, session: Session, token: str) -> bool:
    """Revoke this token; False when it is unknown or already revoked."""
    row = session.exec(
        select(ApiToken)
        .where(ApiToken.token_hash == tokens.hash_token(token))
        .where(col(ApiToken.revoked_at).is_(None))
    ).first()
    if row is None:
        return False
    row.revoked_at = utcnow()
    session.add(row)
    session.commit()
    return True


def revoke_api_tokens_of(*, session: Session, user: User) -> int:
    """Revoke every active token of this user; returns how many."""
    rows = list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .where(col(ApiToken.revoked_at).is_(None))
        )
    )
    now = utcnow()
    for row in rows:
        row.revoked_at = now
        session.add(row)
    session.commit()
    return len(rows)


def start_login_session(
    *, session: Session, user: User, response: Response, secure: bool
) -> LoginSession:
    """Store a login session that expires in 12 hours and set its cookie on the response."""
    cookie = secrets.token_urlsafe(32)
    now = utcnow()
    login = LoginSession(
        token_hash=tokens.hash_token(cookie),
        user_id=_id(user.id),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + LOGIN_SESSION_LIFETIME,
    )
    session.add(login)
    # Expired sessions of this user are dead weight; drop them while we are here.
    session.execute(
        delete(LoginSession)
        .where(col(LoginSession.user_id) == user.id)
        .where(col(LoginSession.expires_at) <= now)
    )
    session.commit()
    session.refresh(login)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(LOGIN_SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return login


def end_login_session(*, session: Session, login: LoginSession, response: Response) -> None:
    """Delete the login session server-side and clear its cookie."""
    session.execute(delete(LoginSession).where(col(LoginSession.id) == login.id))
    session.commit()
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def _id(value: int | None) -> int:
    """The id of a stored row (rows are flushed before their id is used)."""
    if value is None:
        raise AuthError("the row has not been stored yet")
    return value
