"""Weekly delivery figures per team, with the definitions of DESIGN.md section 5, in one place.

Weeks are ISO weeks (Monday 00:00 to the next Monday 00:00) in the team's timezone, turned into
UTC instants here so the database compares plain timestamps; counts are GROUP BY queries over a
CASE that maps each timestamp to its week. Medians need the individual durations, so the
resolved incidents of the asked weeks (few per week) are read and finished in Python.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, exists, func, null, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from app.delivery import dora
from app.delivery.models import Deployment, Incident, IncidentLink
from app.teams.models import Team


@dataclass(frozen=True)
class DeliveryWeek:
    """A team's delivery figures for one ISO week (production environments only)."""

    week_start: date
    deployments: int
    failed_deployments: int
    change_failure_rate: float | None
    mttr_minutes: float | None
    mttr_p90_minutes: float | None
    mttr_mean_minutes: float | None
    resolved_incidents: int
    incidents: int
    open_incidents: int

    @property
    def week(self) -> str:
        """The ISO week label, e.g. 2026-W09."""
        return week_label(self.week_start)

    @property
    def change_failure_band(self) -> dora.Band | None:
        """DORA 2023 band of the change failure rate."""
        return dora.change_failure_band(self.change_failure_rate)

    @property
    def recovery_band(self) -> dora.Band | None:
        """DORA 2023 band of the median time to restore."""
        return dora.recovery_band(self.mttr_minutes)


def week_label(monday: date) -> str:
    """`YYYY-Www` for the ISO week starting on this Monday."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(day: date) -> date:
    """The Monday of the ISO week containing this day."""
    return day - timedelta(days=day.weekday())


def local_today(team: Team, now: datetime) -> date:
    """Today's date in the team's timezone."""
    return now.astimezone(ZoneInfo(team.timezone)).date()


def week_bounds(team: Team, monday: date) -> tuple[datetime, datetime]:
    """The UTC instants where this team-local week starts and ends (end excluded)."""
    zone = ZoneInfo(team.timezone)
    start = datetime.combine(monday, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


def _week_of(column: Any, bounds: Sequence[tuple[datetime, datetime]]) -> ColumnElement[Any]:
    """The index of the week a timestamp column falls in (NULL outside every week)."""
    return _week_case(column, tuple(bounds))


# Building the CASE for two years of weeks costs ~10 ms a column; a dashboard asks for the same
# range over and over (and teams of one timezone share it), so the built expression is kept.
@lru_cache(maxsize=128)
def _week_case(column: Any, bounds: tuple[tuple[datetime, datetime], ...]) -> ColumnElement[Any]:
    # Weeks are in order, so one "before this week's end" test per week is enough, plus a
    # "before its start" only where a gap precedes it.
    whens: list[tuple[ColumnElement[bool], Any]] = []
    previous_end: datetime | None = None
    for index, (start, end) in enumerate(bounds):
        if start != previous_end:
            whens.append((column < start, null()))
        whens.append((column < end, index))
        previous_end = end
    return case(*whens, else_=None)


def _minutes(started: datetime, resolved: datetime) -> float:
    return (resolved - started).total_seconds() / 60


def p90(values: Sequence[float]) -> float:
    """90th percentile, interpolated between the closest ranks (the value itself for one)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def weekly_delivery(
    *, session: Session, team: Team, weeks: Sequence[date], now: datetime
) -> dict[date, DeliveryWeek]:
    """Delivery figures per ISO week, keyed by each week's (team-local) Monday."""
    mondays = sorted({monday_of(day) for day in weeks})
    if not mondays:
        return {}
    bounds = [week_bounds(team, monday) for monday in mondays]
    first, last = bounds[0][0], bounds[-1][1]
    team_id = team.id

    # Deployments finished in the week, and those of them that failed.
    finished_at = col(Deployment.finished_at)
    linked = exists().where(col(IncidentLink.deployment_id) == col(Deployment.id))
    failed = or_(col(Deployment.status) == "failure", col(Deployment.rolled_back), linked)
    per_deployment = (
        select(
            _week_of(finished_at, bounds).label("week"),
            case((failed, 1), else_=0).label("failed"),
        )
        .where(col(Deployment.team_id) == team_id)
        .where(func.lower(col(Deployment.environment)).in_(team.production_environment_names))
        .where(col(Deployment.status).in_(("success", "failure")))
        .where(finished_at >= first, finished_at < last)
        .subquery()
    )
    deployments = {
        week: (total, failed_count or 0)
        for week, total, failed_count in session.execute(
            select(per_deployment.c.week, func.count(), func.sum(per_deployment.c.failed))
            .where(per_deployment.c.week.is_not(None))
            .group_by(per_deployment.c.week)
        ).all()
    }

    # Incidents started in the week.
    started_at = col(Incident.started_at)
    resolved_at = col(Incident.resolved_at)
    per_incident = (
        select(_week_of(started_at, bounds).label("week"))
        .where(col(Incident.team_id) == team_id)
        .where(started_at >= first, started_at < last)
        .subquery()
    )
    started_rows = session.execute(
        select(per_incident.c.week, func.count())
        .where(per_incident.c.week.is_not(None))
        .group_by(per_incident.c.week)
    ).all()
    started: dict[int, int] = {row[0]: row[1] for row in started_rows}

    # Time to restore of the incidents resolved in the week (a start is needed for a duration).
    durations: dict[int, list[float]] = {}
    for week, start, end in session.execute(
        select(_week_of(resolved_at, bounds), started_at, resolved_at)
        .where(col(Incident.team_id) == team_id)
        .where(started_at.is_not(None))
        .where(resolved_at >= first, resolved_at < last)
    ).all():
        if week is not None and start is not None and end is not None:
            durations.setdefault(week, []).append(_minutes(start, end))

    open_counts = _open_incidents(session=session, team=team, bounds=bounds, now=now)

    result: dict[date, DeliveryWeek] = {}
    for index, monday in enumerate(mondays):
        total, failed_count = deployments.get(index, (0, 0))
        values = sorted(durations.get(index, []))
        result[monday] = DeliveryWeek(
            week_start=monday,
            deployments=total,
            failed_deployments=failed_count,
            change_failure_rate=failed_count / total if total else None,
            mttr_minutes=statistics.median(values) if values else None,
            mttr_p90_minutes=p90(values) if values else None,
            mttr_mean_minutes=statistics.fmean(values) if values else None,
            resolved_incidents=len(values),
            incidents=started.get(index, 0),
            open_incidents=open_counts[index],
        )
    return result


def _open_incidents(
    *, session: Session, team: Team, bounds: Sequence[tuple[datetime, datetime]], now: datetime
) -> list[int]:
    """Per week: incidents started and not resolved at the week's end (or now, if sooner)."""
    cutoffs = [min(end, now) if start <= now else None for start, end in bounds]
    asked = [cutoff for cutoff in cutoffs if cutoff is not None]
    values = [0] * len(bounds)
    if not asked:
        return values  # weeks that have not begun have no open incidents yet
    # One read of the incidents open at some cut-off in the range (a handful per week), counted
    # per week here: a sub-query per week cost ~50 ms to build and run for two years of weeks.
    first, last = min(asked), max(asked)
    spans = session.execute(
        select(col(Incident.started_at), col(Incident.resolved_at))
        .where(col(Incident.team_id) == team.id)
        .where(col(Incident.started_at) < last)
        .where(or_(col(Incident.resolved_at).is_(None), col(Incident.resolved_at) > first))
    ).all()
    for index, cutoff in enumerate(cutoffs):
        if cutoff is None:
            continue
        values[index] = sum(
            1
            for started, resolved in spans
            if started is not None and started < cutoff and (resolved is None or resolved > cutoff)
        )
    return values
