"""Login, logout, the home redirect and the admin page."""

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.auth import service as auth_service
from app.auth.csrf import (
    CsrfLogin,
    check_login_form_token,
    prepare_login_form,
    set_login_form_cookie,
)
from app.auth.deps import SESSION_COOKIE, PageAdmin, login_session_from_cookie
from app.config import Settings
from app.db import SessionDep, WriteSessionDep
from app.rate_limits import RateLimited, bucket_key, hit
from app.teams import service as team_service
from app.teams.models import Team
from app.teams.routes import known_surveys
from app.templating import templates

router = APIRouter(include_in_schema=False)

LOGIN_WINDOW = timedelta(minutes=1)
# One address may try several accounts (people share offices and proxies), but not endlessly.
LOGIN_CLIENT_FACTOR = 5
WRONG_LOGIN = "Email or password is incorrect."


def _settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def _secure(request: Request) -> bool:
    """Cookies are Secure when the installation is served over https."""
    return _settings(request).base_url.startswith("https://")


def safe_next(target: str | None) -> str | None:
    """The `next` target if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in target):
        return None
    return target


@router.get("/")
def home(request: Request, session: SessionDep) -> RedirectResponse:
    """Logged-in people go to their teams, everyone else to the login page."""
    login = login_session_from_cookie(session=session, cookie=request.cookies.get(SESSION_COOKIE))
    return RedirectResponse("/teams" if login else "/login", status_code=303)


def _login_page(
    request: Request,
    *,
    next_path: str | None,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    nonce = prepare_login_form(request=request, secret_key=_settings(request).secret_key)
    response = templates.TemplateResponse(
        request,
        "auth/login.html",
        {"next_path": safe_next(next_path) or "", "email": email, "error": error},
        status_code=status_code,
        headers=headers,
    )
    set_login_form_cookie(response=response, nonce=nonce, secure=_secure(request))
    return response


@router.get("/login")
def login_form(request: Request, session: SessionDep, next: str | None = None) -> Response:
    """The login form (a browser already logged in goes straight on)."""
    if login_session_from_cookie(session=session, cookie=request.cookies.get(SESSION_COOKIE)):
        return RedirectResponse(safe_next(next) or "/", status_code=303)
    return _login_page(request, next_path=next)


@router.post("/login")
def login_submit(
    request: Request,
    session: WriteSessionDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the password (rate-limited, generic error) and start a login session."""
    settings = _settings(request)
    check_login_form_token(request=request, form_token=csrf_token, secret_key=settings.secret_key)
    client = request.client.host if request.client else "unknown"
    try:
        hit(
            session=session,
            key=bucket_key("login:email", auth_service.normalise_email(email)),
            limit=settings.login_rate_limit,
            window=LOGIN_WINDOW,
        )
        hit(
            session=session,
            key=bucket_key("login:client", client),
            limit=settings.login_rate_limit * LOGIN_CLIENT_FACTOR,
            window=LOGIN_WINDOW,
        )
    except RateLimited as exc:
        return _login_page(
            request,
            next_path=next,
            email=email,
            error=f"Too many login attempts. Wait {exc.retry_after} seconds and try again.",
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    user = auth_service.authenticate(session=session, email=email, password=password)
    if user is None:
        return _login_page(request, next_path=next, email=email, error=WRONG_LOGIN, status_code=400)
    response = RedirectResponse(safe_next(next) or "/", status_code=303)
    auth_service.start_login_session(
        session=session, user=user, response=response, secure=_secure(request)
    )
    return response


@router.post("/logout")
def logout(login: CsrfLogin, session: WriteSessionDep) -> Response:
    """End the login session server-side and clear the cookie."""
    response = RedirectResponse("/login", status_code=303)
    auth_service.end_login_session(session=session, login=login, response=response)
    return response


def _admin_page(
    request: Request,
    session: Session,
    *,
    error: str | None = None,
    issued: team_service.IssuedTeam | None = None,
    status_code: int = 200,
) -> Response:
    users = auth_service.list_users(session=session)
    context: dict[str, Any] = {
        "users": [(user, auth_service.teams_of(session=session, user=user)) for user in users],
        "managers": [user for user in users if not user.is_admin],
        "teams": team_service.list_all(session=session),
        "roles": auth_service.ROLES,
        "error": error,
        "issued": issued,
        "issued_pulse_url": team_service.pulse_url(
            base_url=_settings(request).base_url, link=issued.team.pulse_link
        )
        if issued
        else None,
        "surveys": known_surveys(request),
        "notice": request.query_params.get("done"),
    }
    # A new team's credentials are on the page: browsers and proxies must not keep a copy.
    return templates.TemplateResponse(
        request,
        "auth/admin.html",
        context,
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/admin")
def admin(request: Request, admin: PageAdmin, session: SessionDep) -> Response:
    """Users, team assignments and teams (administrators only)."""
    return _admin_page(request, session)


def _teams_by_slug(session: Session, slugs: list[str]) -> list[Team]:
    teams = []
    for slug in slugs:
        team = team_service.get_by_slug(session=session, slug=slug)
        if team is None:
            raise auth_service.AuthError(f"there is no team with slug {slug!r}")
        teams.append(team)
    return teams


@router.post("/admin/users")
def admin_create_user(
    request: Request,
    login: CsrfLogin,
    admin: PageAdmin,
    session: WriteSessionDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "manager",
    teams: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create a user, optionally assigned to teams."""
    try:
        auth_service.create_user(
            session=session,
            email=email,
            password=password,
            role=role,
            teams=_teams_by_slug(session, teams or []),
        )
    except auth_service.AuthError as exc:
        session.rollback()
        return _admin_page(request, session, error=str(exc), status_code=400)
    return RedirectResponse("/admin?done=user", status_code=303)


@router.post("/admin/managers")
def admin_assign_manager(
    request: Request,
    login: CsrfLogin,
    admin: PageAdmin,
    session: WriteSessionDep,
    email: Annotated[str, Form()] = "",
    team: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "assign",
) -> Response:
    """Assign a manager to a team, or remove the assignment."""
    user = auth_service.get_user_by_email(session=session, email=email)
    found = team_service.get_by_slug(session=session, slug=team)
    if user is None or found is None or action not in ("assign", "unassign"):
        return _admin_page(
            request, session, error="Choose an existing user and team.", status_code=400
        )
    if action == "assign":
        auth_service.assign_manager(session=session, user=user, team=found)
    else:
        auth_service.unassign_manager(session=session, user=user, team=found)
    return RedirectResponse(f"/admin?done={action}", status_code=303)


@router.post("/admin/teams")
def admin_create_team(
    request: Request,
    login: CsrfLogin,
    admin: PageAdmin,
    session: WriteSessionDep,
    slug: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    size: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "UTC",
    survey: Annotated[str, Form()] = "release-pulse",
) -> Response:
    """Create a team and show its pulse link, ingest token and webhook secret once."""
    try:
        headcount = int(size)
    except ValueError:
        return _admin_page(
            request, session, error="size (the headcount) must be a whole number", status_code=400
        )
    try:
        issued = team_service.create(
            session=session,
            slug=slug.strip(),
            name=name,
            size=headcount,
            timezone=timezone.strip(),
            survey_id=survey.strip(),
            known_surveys=known_surveys(request),
        )
    except team_service.TeamError as exc:
        session.rollback()
        return _admin_page(request, session, error=str(exc), status_code=400)
    return _admin_page(request, session, issued=issued, status_code=201)
