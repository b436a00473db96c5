"""Insights API: trends, per-question figures, closing a round early, the org roll-up."""

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.auth.deps import ApiTeam, ApiUser, visible_teams
from app.clock import utcnow
from app.db import SessionDep, WriteSessionDep
from app.insights import closing, org, survey_stats, trends
from app.pulses.models import Round
from app.teams.models import Team

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
    try:
        start, end = trends.requested_range(team=team, now=now, start=from_, end=to)
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


class QuestionOut(BaseModel):
    """One question of one eligible round."""

    key: str
    text: str
    answers: int
    mean: float
    favorable_pct: float
    counts: dict[str, int] = Field(description="answers at each scale point, after reverse scoring")


class QuestionsWeek(BaseModel):
    """One week: its round's per-question figures, or null when open or suppressed."""

    week: str
    week_start: date
    period: str | None
    responses: int | None
    open: bool
    suppressed: bool
    more_needed: int
    questions: list[QuestionOut] | None


class QuestionsReport(BaseModel):
    """`GET /api/v1/teams/{slug}/questions`."""

    team: str
    min_responses: int
    weeks: list[QuestionsWeek]


@router.get("/teams/{slug}/questions", response_model=QuestionsReport)
def get_questions(
    request: Request,
    team: ApiTeam,
    session: SessionDep,
    from_: Annotated[
        date | None, Query(alias="from", description="first week start, YYYY-MM-DD")
    ] = None,
    to: Annotated[date | None, Query(description="last week start, YYYY-MM-DD")] = None,
) -> QuestionsReport:
    """Per week, per question: mean, favorable % and the count at each scale point."""
    now = utcnow()
    settings = request.app.state.settings
    try:
        start, end = trends.requested_range(team=team, now=now, start=from_, end=to)
        mondays = trends.weeks_in_range(start, end)
    except trends.TrendsRangeError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    figures = survey_stats.round_figures(
        session=session,
        teams=[team],
        min_responses=settings.min_responses,
        now=now,
        starts_from=mondays[0] if mondays else start,
        starts_to=(mondays[-1] if mondays else end) + timedelta(days=6),
    )
    questions = survey_stats.question_figures(session=session, rounds=figures)
    survey = trends.survey_weeks(
        session=session, team=team, settings=settings, weeks=mondays, now=now
    )
    by_week = {survey_stats.week_start(f.starts_on): f for f in figures}
    weeks = []
    for monday in mondays:
        found = by_week.get(monday)
        fields = survey[monday]
        shown = questions.get(found.round_id) if found and found.round_id else None
        weeks.append(
            QuestionsWeek(
                week=survey_stats.week_label(monday),
                week_start=monday,
                period=found.period if found else None,
                responses=fields["responses"],
                open=fields["open"],
                suppressed=fields["suppressed"],
                more_needed=fields["more_needed"],
                questions=None
                if shown is None
                else [
                    QuestionOut(
                        key=q.key,
                        text=q.text,
                        answers=q.answers,
                        mean=q.mean,
                        favorable_pct=q.favorable_pct,
                        counts={str(point): n for point, n in q.counts.items()},
                    )
                    for q in shown
                ],
            )
        )
    return QuestionsReport(team=team.slug, min_responses=settings.min_responses, weeks=weeks)


class ClosedRound(BaseModel):
    """The round a manager just closed, with what may now be shown of it."""

    round: str
    closed_early_at: datetime
    responses: int
    suppressed: bool
    more_needed: int
    trust_index: float | None
    trust_ci_low: float | None
    trust_ci_high: float | None
    favorable_pct: float | None


def closed_round_figures(
    *, session: Session, team: Team, round_: Round, min_responses: int, now: datetime
) -> ClosedRound:
    """What the API answers after closing: the round's figures if it passes the threshold."""
    [figures] = [
        f
        for f in survey_stats.round_figures(
            session=session,
            teams=[team],
            min_responses=min_responses,
            now=now,
            starts_from=round_.starts_on,
            starts_to=round_.starts_on,
        )
        if f.round_id == round_.id
    ]
    assert round_.closed_early_at is not None
    return ClosedRound(
        round=round_.period,
        closed_early_at=round_.closed_early_at,
        responses=figures.responses,
        suppressed=figures.suppressed,
        more_needed=figures.more_needed,
        trust_index=figures.trust_index,
        trust_ci_low=figures.trust_ci_low,
        trust_ci_high=figures.trust_ci_high,
        favorable_pct=figures.favorable_pct,
    )


@router.post("/teams/{slug}/rounds/current/close", response_model=ClosedRound)
def close_current(request: Request, team: ApiTeam, session: WriteSessionDep) -> ClosedRound:
    """Close the current round early: its scores show at once if it has enough responses."""
    now = utcnow()
    try:
        round_ = closing.close_current_round(
            session=session, team=team, surveys=request.app.state.surveys, now=now
        )
    except closing.CloseError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return closed_round_figures(
        session=session,
        team=team,
        round_=round_,
        min_responses=request.app.state.settings.min_responses,
        now=now,
    )


class OrgTeam(BaseModel):
    """One team's latest eligible figures (no ranking: listed by name)."""

    slug: str
    name: str
    latest_round: str | None
    trust_index: float | None
    responses: int | None


class OrgWeekOut(BaseModel):
    """The pooled trust of one week, from eligible rounds only."""

    week: str
    week_start: date
    teams_included: int
    teams_excluded: int
    responses: int
    trust_index: float | None


class OrgReport(BaseModel):
    """`GET /api/v1/org/trends`: the teams I may see, rolled up."""

    min_responses: int
    teams: list[OrgTeam]
    weeks: list[OrgWeekOut]


@router.get("/org/trends", response_model=OrgReport)
def get_org_trends(request: Request, user: ApiUser, session: SessionDep) -> OrgReport:
    """Weekly trust pooled over my teams' eligible rounds (suppressed and open ones excluded)."""
    overview = org.org_overview(
        session=session,
        teams=visible_teams(session=session, user=user),
        min_responses=request.app.state.settings.min_responses,
        now=utcnow(),
    )
    return OrgReport(
        min_responses=request.app.state.settings.min_responses,
        teams=[
            OrgTeam(
                slug=row.team.slug,
                name=row.team.name,
                latest_round=row.latest.period if row.latest else None,
                trust_index=row.latest.trust_index if row.latest else None,
                responses=row.latest.responses if row.latest else None,
            )
            for row in overview.teams
        ],
        weeks=[OrgWeekOut(**vars(week)) for week in overview.weeks],
    )
