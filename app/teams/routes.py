"""The team settings page and `GET /api/v1/teams`."""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from app.auth.csrf import CsrfLogin
from app.auth.deps import ApiUser, PageTeam, visible_teams
from app.ballots import roster_page
from app.ballots import service as ballot_service
from app.db import SessionDep, WriteSessionDep
from app.teams import service as team_service
from app.teams.models import Team
from app.templating import templates

router = APIRouter()
pages = APIRouter(include_in_schema=False)


class TeamRead(BaseModel):
    """A team as the API lists it."""

    slug: str
    name: str
    size: int
    timezone: str
    survey: str


@router.get("/api/v1/teams", response_model=list[TeamRead], tags=["teams"])
def list_teams(user: ApiUser, session: SessionDep) -> list[TeamRead]:
    """The teams the bearer of this token may see."""
    return [
        TeamRead(
            slug=team.slug,
            name=team.name,
            size=team.size,
            timezone=team.timezone,
            survey=team.survey_id,
        )
        for team in visible_teams(session=session, user=user)
    ]


def known_surveys(request: Request) -> list[str] | None:
    """The ids of the loaded surveys, when the app has loaded them (else None)."""
    surveys = getattr(request.app.state, "surveys", None)
    if surveys is None:
        return None
    if isinstance(surveys, Mapping):
        return sorted(str(key) for key in surveys)
    return sorted(str(getattr(survey, "id", survey)) for survey in surveys)


def _settings_page(
    request: Request,
    team: Team,
    *,
    error: str | None = None,
    ingest_token: str | None = None,
    form: Mapping[str, object] | None = None,
    status_code: int = 200,
    added_member: roster_page.AddedMemberView | None = None,
) -> Response:
    settings = request.app.state.settings
    previous_valid_until: datetime | None = None
    if len(team_service.webhook_secrets(team)) > 1 and team.webhook_secret_rotated_at:
        previous_valid_until = team.webhook_secret_rotated_at + team_service.WEBHOOK_SECRET_GRACE
    context: dict[str, Any] = {
        "team": team,
        "form": form or {},
        "surveys": known_surveys(request),
        "pulse_url": team_service.pulse_url(base_url=settings.base_url, link=team.pulse_link),
        "previous_valid_until": previous_valid_until,
        "ingest_token": ingest_token,
        "error": error,
        "notice": request.query_params.get("done"),
        **roster_page.roster_context(request=request, team=team, added=added_member),
    }
    # The page carries secrets: browsers and proxies must not keep a copy.
    return templates.TemplateResponse(
        request,
        "teams/settings.html",
        context,
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


@pages.get("/teams/{slug}/settings")
def settings_page(request: Request, team: PageTeam) -> Response:
    """Headcount, timezone, survey, delivery settings and the team's credentials."""
    return _settings_page(request, team)


def _whole_number(value: str, field: str) -> int:
    try:
        return int(value.strip())
    except ValueError as exc:
        raise team_service.TeamError(f"{field} must be a whole number") from exc


@pages.post("/teams/{slug}/settings")
def save_settings(
    request: Request,
    login: CsrfLogin,
    team: PageTeam,
    session: WriteSessionDep,
    size: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "",
    survey: Annotated[str, Form()] = "",
    production_environments: Annotated[str, Form()] = "",
    incident_link_window_hours: Annotated[str, Form()] = "",
) -> Response:
    """Change the team's settings; nothing changes when any value is refused."""
    # The team was loaded by a read session; change it through this request's write session.
    stored = session.get(Team, team.id)
    assert stored is not None
    try:
        team_service.update(
            session=session,
            team=stored,
            size=_whole_number(size, "headcount"),
            timezone=timezone,
            survey_id=survey,
            production_environments=production_environments,
            incident_link_window_hours=_whole_number(
                incident_link_window_hours, "incident link window"
            ),
            known_surveys=known_surveys(request),
        )
        # With personal ballots the headcount is the roster size, whatever the form said.
        ballot_service.sync_headcount(session=session, team=stored)
        session.commit()
    except team_service.TeamError as exc:
        session.rollback()
        form = {
            "size": size,
            "timezone": timezone,
            "survey": survey,
            "production_environments": production_environments,
            "incident_link_window_hours": incident_link_window_hours,
        }
        return _settings_page(request, team, error=str(exc), form=form, status_code=400)
    return RedirectResponse(f"/teams/{team.slug}/settings?done=saved", status_code=303)


@pages.post("/teams/{slug}/settings/pulse-link")
def rotate_pulse_link(login: CsrfLogin, team: PageTeam, session: WriteSessionDep) -> Response:
    """Give the team a new pulse link; the old one stops working at once."""
    stored = session.get(Team, team.id)
    assert stored is not None
    team_service.rotate_pulse_link(session=session, team=stored)
    return RedirectResponse(f"/teams/{team.slug}/settings?done=pulse-link", status_code=303)


@pages.post("/teams/{slug}/settings/ingest-token")
def rotate_ingest_token(
    request: Request, login: CsrfLogin, team: PageTeam, session: WriteSessionDep
) -> Response:
    """Issue a new ingest token and show it once; the old one stops working at once."""
    stored = session.get(Team, team.id)
    assert stored is not None
    token = team_service.rotate_ingest_token(session=session, team=stored)
    return _settings_page(request, stored, ingest_token=token)


@pages.post("/teams/{slug}/settings/webhook-secret")
def rotate_webhook_secret(login: CsrfLogin, team: PageTeam, session: WriteSessionDep) -> Response:
    """Issue a new webhook secret; the previous one keeps working for 24 hours."""
    stored = session.get(Team, team.id)
    assert stored is not None
    team_service.rotate_webhook_secret(session=session, team=stored)
    return RedirectResponse(f"/teams/{team.slug}/settings?done=webhook-secret", status_code=303)
