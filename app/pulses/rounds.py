"""Rounds: the period of a team's pulse that contains "now" in the team's timezone.

Rounds are created on first use, so no scheduler is needed; the unique (team, period) constraint
makes creation idempotent even when several app instances race for it.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.pulses.freezing import freeze_survey
from app.pulses.models import Round, SurveyVersion
from app.pulses.surveys import Survey
from app.teams.models import Team


class RoundError(ValueError):
    """A round cannot be changed as asked; the message says why."""


@dataclass(frozen=True)
class Period:
    """One period of a cadence in one timezone."""

    label: str  # 2026-W48 (weekly, ISO week), 2026-11 (monthly) or 2026-Q4 (quarterly)
    starts_on: date  # first day, in the team's timezone
    ends_on: date  # last day, in the team's timezone
    opens_at: datetime  # the first instant of the period (aware, UTC)
    closes_at: datetime  # the first instant of the next period (aware, UTC)


def _start_of_day(day: date, zone: ZoneInfo) -> datetime:
    # Midnight may not exist on a DST day (clocks jump at 00:00 in some zones); fold=0 then maps
    # to the instant of the jump, which is exactly when that day begins.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def period_for(*, cadence: str, timezone: str, now: datetime) -> Period:
    """The period of this cadence that contains `now` in the given IANA timezone."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    if cadence == "weekly":
        year, week, _ = today.isocalendar()
        label = f"{year}-W{week:02d}"
        starts_on = today - timedelta(days=today.weekday())
        next_start = starts_on + timedelta(days=7)
    elif cadence == "monthly":
        label = f"{today.year}-{today.month:02d}"
        starts_on = today.replace(day=1)
        next_start = (starts_on + timedelta(days=32)).replace(day=1)
    elif cadence == "quarterly":
        quarter = (today.month - 1) // 3 + 1
        label = f"{today.year}-Q{quarter}"
        starts_on = date(today.year, 3 * quarter - 2, 1)
        next_start = (starts_on + timedelta(days=95)).replace(day=1)
    else:
        raise ValueError(f"unknown cadence {cadence!r}: use weekly, monthly or quarterly")
    return Period(
        label=label,
        starts_on=starts_on,
        ends_on=next_start - timedelta(days=1),
        opens_at=_start_of_day(starts_on, zone),
        closes_at=_start_of_day(next_start, zone),
    )


def get_round(*, session: Session, team: Team, period: str) -> Round | None:
    """The team's round for this period label, if it exists."""
    return session.exec(
        select(Round).where(Round.team_id == team.id).where(Round.period == period)
    ).first()


@dataclass(frozen=True)
class LinkTarget:
    """What a pulse link leads to: the team, and its current round with its survey snapshot
    when that round exists already."""

    team: Team
    round: Round | None
    snapshot: str | None


def find_by_pulse_link(*, session: Session, link: str, now: datetime) -> LinkTarget | None:
    """The team of this shared link with its current round, in one query; None if unknown.

    The current round is the team's earliest round whose period has not ended: no later round
    can exist yet, so it is this period's round if it was created, else the round is None.
    """
    row = session.exec(
        select(Team, Round, SurveyVersion.content)
        .outerjoin(
            Round,
            and_(col(Round.team_id) == Team.id, col(Round.closes_at) > now),
        )
        .outerjoin(SurveyVersion, col(SurveyVersion.id) == Round.survey_version_id)
        .where(Team.pulse_link == link)
        .order_by(col(Round.closes_at))
        .limit(1)
    ).first()
    if row is None:
        return None
    team, round_, snapshot = row
    period = period_for(cadence=team.cadence, timezone=team.timezone, now=now)
    if round_ is None or round_.period != period.label:
        return LinkTarget(team=team, round=None, snapshot=None)
    return LinkTarget(team=team, round=round_, snapshot=snapshot)


def current_round(*, session: Session, team: Team, survey: Survey, now: datetime) -> Round:
    """The team's round for the period containing `now`, created (and committed) on first use."""
    period = period_for(cadence=team.cadence, timezone=team.timezone, now=now)
    existing = get_round(session=session, team=team, period=period.label)
    if existing is not None:
        return existing
    team_id = team.id
    assert team_id is not None
    version = freeze_survey(session=session, survey=survey)
    assert version.id is not None
    round_ = Round(
        team_id=team_id,
        period=period.label,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        closes_at=period.closes_at,
        survey_version_id=version.id,
    )
    session.add(round_)
    try:
        session.commit()
    except IntegrityError:
        # Another request or instance created it first: theirs is the round.
        session.rollback()
        existing = get_round(session=session, team=team, period=period.label)
        if existing is None:
            raise
        return existing
    session.refresh(round_)
    return round_


def is_open(round_: Round, now: datetime) -> bool:
    """A round takes answers until its period ends, unless a manager closed it early."""
    return round_.closed_early_at is None and now < round_.closes_at


def close_early(*, session: Session, round: Round, now: datetime) -> Round:
    """Stop the round taking answers now; refused when it is already closed."""
    if not is_open(round, now):
        raise RoundError(f"round {round.period} is already closed")
    round.closed_early_at = now
    session.add(round)
    session.commit()
    session.refresh(round)
    return round


def describe_period(round: Round) -> str:
    """The period in words for people, e.g. "week 48 (23 November – 29 November 2026)"."""
    start, end = round.starts_on, round.ends_on
    span = f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    if "-W" in round.period:
        return f"week {int(round.period.rsplit('W', 1)[1])} ({span})"
    if "-Q" in round.period:
        return f"{round.period.rsplit('-', 1)[1]} {start.year} ({span})"
    return f"{start:%B %Y}"
