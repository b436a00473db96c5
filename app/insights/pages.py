"""The manager's pages: a team's dashboard, my teams, and the organisation overview."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.auth.deps import PageTeam
from app.clock import utcnow
from app.db import SessionDep
from app.insights import dashboard
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


@router.get("/teams/{slug}", response_class=HTMLResponse)
def team_page(request: Request, team: PageTeam, session: SessionDep) -> HTMLResponse:
    """The team dashboard: headline cards, four charts with tables, and comments."""
    settings = request.app.state.settings
    board = dashboard.team_dashboard(
        session=session, team=team, min_responses=settings.min_responses, now=utcnow()
    )
    return templates.TemplateResponse(
        request,
        "insights/team.html",
        {"board": board, "min_responses": settings.min_responses, "close_form": None},
        headers=CHART_HEADERS,
    )
