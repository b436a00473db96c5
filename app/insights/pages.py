"""The manager's pages: a team's dashboard, my teams, and the organisation overview."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.auth.csrf import CsrfLogin
from app.auth.deps import PageTeam, PageUser, visible_teams
from app.clock import utcnow
from app.db import SessionDep, WriteSessionDep
from app.delivery.dora import DORA_CAUTION
from app.insights import closing, dashboard, org
from app.security_headers import CONTENT_SECURITY_POLICY
from app.templating import templates

router = APIRouter(include_in_schema=False)

# plotly.js inserts its stylesheet through the CSSOM into an empty <style> element and sets
# two fixed style attributes on its containers. CSP blocks both unless allowed by hash; chart
# pages allow exactly those three constant values (the empty string among them), nothing else.
# The hashes belong to the vendored plotly.min.js: re-check them after `make vendor-plotly`.
PLOTLY_STYLE_HASHES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-AR/cKIZjWPcPmBUPDA6oti9XBiTbJvz0Cro2J1VzzS8='",
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",
)
CHART_PAGE_CSP = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-hashes' " + " ".join(PLOTLY_STYLE_HASHES)
)
CHART_HEADERS = {"Content-Security-Policy": CHART_PAGE_CSP}


@router.get("/teams", response_class=HTMLResponse)
def teams_page(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    """The teams I may see, each with a small trust trend and its latest figures."""
    settings = request.app.state.settings
    overview = org.org_overview(
        session=session,
        teams=visible_teams(session=session, user=user),
        min_responses=settings.min_responses,
        now=utcnow(),
    )
    return templates.TemplateResponse(
        request, "insights/teams.html", {"overview": overview, "settings": settings}
    )


@router.get("/org", response_class=HTMLResponse)
def org_page(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    """Small multiples and a table of my teams, and the weekly roll-up of eligible rounds."""
    settings = request.app.state.settings
    overview = org.org_overview(
        session=session,
        teams=visible_teams(session=session, user=user),
        min_responses=settings.min_responses,
        now=utcnow(),
    )
    return templates.TemplateResponse(
        request,
        "insights/org.html",
        {"overview": overview, "settings": settings, "caution": DORA_CAUTION},
    )


@router.get("/teams/{slug}", response_class=HTMLResponse)
def team_page(request: Request, team: PageTeam, session: SessionDep) -> HTMLResponse:
    """The team dashboard: headline cards, four charts with tables, and comments."""
    settings = request.app.state.settings
    board = dashboard.team_dashboard(session=session, team=team, settings=settings, now=utcnow())
    return templates.TemplateResponse(
        request,
        "insights/team.html",
        {"board": board, "min_responses": settings.min_responses},
        headers=CHART_HEADERS,
    )


@router.post("/teams/{slug}/rounds/current/close")
def close_round_page(
    request: Request, team: PageTeam, login: CsrfLogin, session: WriteSessionDep
) -> RedirectResponse:
    """The dashboard's Close button: close the current round, then show the dashboard."""
    try:
        closing.close_current_round(
            session=session, team=team, surveys=request.app.state.surveys, now=utcnow()
        )
    except closing.CloseError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return RedirectResponse(f"/teams/{team.slug}", status_code=303)
