"""A team's weekly trend: survey figures next to delivery figures (DESIGN.md section 7).

Delivery figures come from app.delivery.stats; the survey figures are filled by
`survey_weeks`, the single place the pulse aggregation plugs in.
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field
from sqlmodel import Session

from app.config import Settings
from app.delivery import stats
from app.delivery.models import EARLIEST_YEAR, LATEST_YEAR
from app.insights import survey_stats
from app.insights.survey_stats import RoundFigures, SurveyWeekFields
from app.teams.models import Team

DEFAULT_WEEKS = 26
# Ten years of weeks: enough for any history, small enough to answer quickly.
MAX_WEEKS = 520


class TrendsRangeError(ValueError):
    """The asked date range cannot be served; the message says why."""


class TrendsWeek(BaseModel):
    """One ISO week of a team's trend."""

    week: str
    week_start: date
    responses: int | None
    response_rate: float | None
    suppressed: bool
    open: bool = Field(description="the round still takes answers: counts only, no scores")
    more_needed: int = Field(description="responses still needed to reach min_responses")
    trust_index: float | None
    trust_ci_low: float | None
    trust_ci_high: float | None
    favorable_pct: float | None
    deployments: int
    failed_deployments: int
    change_failure_rate: float | None
    mttr_minutes: float | None
    mttr_p90_minutes: float | None
    incidents: int
    open_incidents: int


class TrendsReport(BaseModel):
    """`GET /api/v1/teams/{slug}/trends`."""

    team: str
    min_responses: int
    weeks: list[TrendsWeek]


def survey_weeks(
    *,
    session: Session,
    team: Team,
    settings: Settings,
    weeks: Sequence[date],
    now: datetime,
    figures: Sequence[RoundFigures] | None = None,
) -> dict[date, SurveyWeekFields]:
    """Survey figures per week, from the round whose period starts in that week."""
    return survey_stats.survey_weeks(
        session=session,
        team=team,
        mondays=weeks,
        min_responses=settings.min_responses,
        now=now,
        figures=figures,
    )


def default_range(*, team: Team, now: datetime) -> tuple[date, date]:
    """The 26 weeks up to and including the current one (team-local)."""
    current = stats.monday_of(stats.local_today(team, now))
    return current - timedelta(weeks=DEFAULT_WEEKS - 1), current + timedelta(days=6)


def requested_range(
    *, team: Team, now: datetime, start: date | None, end: date | None
) -> tuple[date, date]:
    """The asked range with defaults: up to the current week, 26 weeks long."""
    default_start, default_end = default_range(team=team, now=now)
    if end is None:
        end = default_end
    if start is None:
        try:
            start = stats.monday_of(end) - timedelta(weeks=DEFAULT_WEEKS - 1)
        except OverflowError:
            # ?to=0001-01-05 has no 26 weeks before it: a 422, not a 500.
            raise TrendsRangeError(f"'to' ({end}) is too early; give a date after year 1") from None
    return start, end


def weeks_in_range(start: date, end: date) -> list[date]:
    """The Mondays from start to end, both included: a week is in range when its start is."""
    if start > end:
        raise TrendsRangeError(f"'from' ({start}) is after 'to' ({end})")
    if start.year < EARLIEST_YEAR or end.year > LATEST_YEAR:
        raise TrendsRangeError(f"dates must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    mondays = []
    try:
        monday = start + timedelta(days=(7 - start.weekday()) % 7)
        while monday <= end:
            mondays.append(monday)
            if len(mondays) > MAX_WEEKS:
                raise TrendsRangeError(f"the range is longer than {MAX_WEEKS} weeks; ask for less")
            monday += timedelta(weeks=1)
    except OverflowError:
        # The calendar ends at 9999-12-31: a range running into it ends there (no 500).
        pass
    return mondays


def team_trends(
    *,
    session: Session,
    team: Team,
    settings: Settings,
    start: date,
    end: date,
    now: datetime,
    figures: Sequence[RoundFigures] | None = None,
) -> TrendsReport:
    """The team's weekly survey and delivery figures for the weeks starting in [start, end].

    `figures` may pass the team's round figures covering the range, already computed.
    """
    mondays = weeks_in_range(start, end)
    delivery = stats.weekly_delivery(session=session, team=team, weeks=mondays, now=now)
    survey = survey_weeks(
        session=session, team=team, settings=settings, weeks=mondays, now=now, figures=figures
    )
    weeks = []
    for monday in mondays:
        d = delivery[monday]
        s = survey[monday]
        weeks.append(
            TrendsWeek(
                week=d.week,
                week_start=monday,
                **s,
                deployments=d.deployments,
                failed_deployments=d.failed_deployments,
                change_failure_rate=d.change_failure_rate,
                mttr_minutes=d.mttr_minutes,
                mttr_p90_minutes=d.mttr_p90_minutes,
                incidents=d.incidents,
                open_incidents=d.open_incidents,
            )
        )
    return TrendsReport(team=team.slug, min_responses=settings.min_responses, weeks=weeks)
