"""The retro export: the API download and its twin for logged-in pages."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from app.auth.deps import ApiTeam, PageTeam
from app.clock import utcnow
from app.exports import formats, service
from app.exports.service import ExportPlan
from app.teams.models import Team

router = APIRouter(tags=["exports"])

FormatQuery = Annotated[str, Query(description="csv, json or md")]
FromQuery = Annotated[str | None, Query(alias="from", description="first week start, YYYY-MM-DD")]
ToQuery = Annotated[str | None, Query(description="last week start, YYYY-MM-DD")]
VariantQuery = Annotated[
    str | None, Query(description="csv only: 'questions' for one row per week and question")
]


def _stream(request: Request, plan: ExportPlan) -> Iterator[str]:
    # The export reads in its own session: it outlives the request's dependencies while the
    # response streams, and one transaction gives every chunk the same snapshot.
    with Session(request.app.state.engine) as session:
        yield from formats.render(session=session, plan=plan)


def _download(
    request: Request, team: Team, fmt: str, start: str | None, end: str | None, variant: str | None
) -> StreamingResponse:
    try:
        plan = service.plan_export(
            team=team,
            settings=request.app.state.settings,
            now=utcnow(),
            format=fmt,
            start=start,
            end=end,
            variant=variant,
        )
    except service.ExportError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return StreamingResponse(
        _stream(request, plan),
        media_type=plan.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{plan.filename}"',
            # Team figures and comments: never kept by a shared cache.
            "Cache-Control": "no-store",
        },
    )


@router.get("/api/v1/teams/{slug}/export")
def export_api(
    request: Request,
    team: ApiTeam,
    format: FormatQuery = "csv",
    from_: FromQuery = None,
    to: ToQuery = None,
    variant: VariantQuery = None,
) -> StreamingResponse:
    """The team's retro export (csv, json or md) for a range of weeks, streamed as a file."""
    return _download(request, team, format, from_, to, variant)


@router.get("/teams/{slug}/export", include_in_schema=False)
def export_page(
    request: Request,
    team: PageTeam,
    format: FormatQuery = "csv",
    from_: FromQuery = None,
    to: ToQuery = None,
    variant: VariantQuery = None,
) -> StreamingResponse:
    """The same export for a logged-in browser: the dashboard's export panel links here."""
    return _download(request, team, format, from_, to, variant)
