"""Insights API: a team's weekly trend."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from app.auth.deps import ApiTeam
from app.clock import utcnow
from app.db import SessionDep
from app.insights import trends

router = APIRouter(prefix="/api/v1", tags=["insights"])


@router.get("/teams/{slug}/trends", response_model=trends.TrendsReport)
def get_trends(
    request: Request,
    team: ApiTeam,
    session: SessionDep,
    from_: Annotated[
        date | None, Query(alias="from", description="first week start, YYYY-MM-DD")
    ] = None,
    to: Annotated[date | None, Query(description="last week start, YYYY-MM-DD")] = None,
) -> trends.TrendsReport:
    """Weekly survey and delivery figures (default: the 26 weeks up to the current one)."""
    now = utcnow()
    start, end = trends.requested_range(team=team, now=now, start=from_, end=to)
    try:
        return trends.team_trends(
            session=session,
            team=team,
            settings=request.app.state.settings,
            start=start,
            end=end,
            now=now,
        )
    except trends.TrendsRangeError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
