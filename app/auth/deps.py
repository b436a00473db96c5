"""Who is asking, and may they see this team: dependencies for API routes and pages.

API routes take a bearer token (401 without a valid one, 403 for a team outside the user's
scope); pages take the session cookie and send anonymous visitors to /login.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlmodel import Session, select

from app.auth.models import ApiToken, LoginSession, TeamManager, User
from app.clock import utcnow
from app.db import SessionDep
from app.teams import service as team_service
from app.teams.models import Team
from app.teams.tokens import hash_token

SESSION_COOKIE = "redbutton_session"


class LoginRequired(Exception):
    """A page needs a logged-in user; the handler redirects to /login."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def user_from_bearer(*, session: Session, authorization: str | None) -> User | None:
    """The active user whose unrevoked API token is in the Authorization header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = session.exec(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == hash_token(token.strip()))
        .where(ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .where(User.is_active)
    ).first()
    return row


def login_session_from_cookie(*, session: Session, cookie: str | None) -> LoginSession | None:
    """The unexpired login session for this cookie value."""
    if not cookie:
        return None
    login = session.exec(
        select(LoginSession).where(LoginSession.token_hash == hash_token(cookie))
    ).first()
    if login is None or login.expires_at <= utcnow():
        return None
    return login


def api_user(request: Request, session: SessionDep) -> User:
    """The user behind the bearer token, or 401."""
    user = user_from_bearer(session=session, authorization=request.headers.get("authorization"))
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="A valid API token is required: send 'Authorization: Bearer <token>' "
            "(create one with `redbutton token create --email you@example.com`).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def page_login(request: Request, session: SessionDep) -> LoginSession:
    """The login session of this browser, or a redirect to /login."""
    login = login_session_from_cookie(session=session, cookie=request.cookies.get(SESSION_COOKIE))
    if login is None:
        # After logging in, a GET comes back here; a form post cannot be replayed, so go home.
        if request.method != "GET":
            raise LoginRequired("/")
        query = request.url.query
        raise LoginRequired(request.url.path + (f"?{query}" if query else ""))
    # Templates read it through the csrf_token() global (app.auth.csrf).
    request.state.csrf_token = login.csrf_token
    return login


def page_user(
    request: Request, login: Annotated[LoginSession, Depends(page_login)], session: SessionDep
) -> User:
    """The logged-in user of this browser, or a redirect to /login."""
    user = session.get(User, login.user_id)
    if user is None or not user.is_active:
        raise LoginRequired("/")
    # The navigation in base.html shows who is logged in (current_user() global).
    request.state.user = user
    return user


ApiUser = Annotated[User, Depends(api_user)]
PageUser = Annotated[User, Depends(page_user)]
PageLogin = Annotated[LoginSession, Depends(page_login)]


def page_admin(user: PageUser) -> User:
    """The logged-in user if an admin, else 403."""
    if not user.is_admin:
        raise HTTPException(status_code=403, detail="Only administrators may open this page.")
    return user


PageAdmin = Annotated[User, Depends(page_admin)]


@pass_context
def current_user(context: Context) -> User | None:
    """Jinja global: the logged-in user of this page, or None."""
    request = context.get("request")
    user = getattr(request.state, "user", None) if request is not None else None
    return user if isinstance(user, User) else None


def can_view(*, session: Session, user: User, team: Team) -> bool:
    """Admins see every team; managers see the teams they are assigned."""
    if user.is_admin:
        return True
    return (
        session.exec(
            select(TeamManager)
            .where(TeamManager.user_id == user.id)
            .where(TeamManager.team_id == team.id)
        ).first()
        is not None
    )


def visible_teams(*, session: Session, user: User) -> list[Team]:
    """The teams this user may see, by name."""
    if user.is_admin:
        return team_service.list_all(session=session)
    statement = (
        select(Team)
        .join(TeamManager, TeamManager.team_id == Team.id)  # type: ignore[arg-type]
        .where(TeamManager.user_id == user.id)
        .order_by(Team.name)
    )
    return list(session.exec(statement))


def team_for_user(*, session: Session, user: User, slug: str) -> Team:
    """The team with this slug if the user may see it: 404 when unknown, 403 outside scope."""
    team = team_service.get_by_slug(session=session, slug=slug)
    if team is None:
        raise HTTPException(status_code=404, detail=f"No team with slug {slug!r}.")
    if not can_view(session=session, user=user, team=team):
        raise HTTPException(status_code=403, detail="You do not have access to this team.")
    return team


def api_team(slug: str, user: ApiUser, session: SessionDep) -> Team:
    """The team named in the path, for an API caller allowed to see it."""
    return team_for_user(session=session, user=user, slug=slug)


def page_team(slug: str, user: PageUser, session: SessionDep) -> Team:
    """The team named in the path, for a logged-in user allowed to see it."""
    return team_for_user(session=session, user=user, slug=slug)


ApiTeam = Annotated[Team, Depends(api_team)]
PageTeam = Annotated[Team, Depends(page_team)]
