"""What a retro export contains, gathered a few weeks at a time so any range streams.

Every figure comes from the insights and delivery services (trends, survey_stats, stats): this
module only asks them for one chunk of weeks after another and hands the rows on. Nothing here
decides what may be shown; survey_stats only returns scores, questions and comments of eligible
rounds (closed and at or above the threshold, see app/insights/thresholds.py).
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, exists, func, or_
from sqlmodel import Session, col, select

from app.config import Settings
from app.delivery import stats
from app.delivery.dora import CFR_BANDS, CFR_LOW, DORA_CAUTION, RECOVERY_BANDS, RECOVERY_LOW
from app.delivery.models import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    Deployment,
    Incident,
    IncidentLink,
)
from app.insights import survey_stats, trends
from app.insights.survey_stats import QuestionFigures, RoundFigures
from app.insights.trends import TrendsWeek
from app.pulses.models import Round
from app.teams.models import Team

ExportFormat = Literal["csv", "json", "md"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "json", "md")
VARIANTS = ("questions",)
MEDIA_TYPES: dict[ExportFormat, str] = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
}
SCHEMA_VERSION = 1
# Weeks asked of the database at once: a quarter keeps every query small and memory flat.
CHUNK_WEEKS = 13
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class ExportError(ValueError):
    """The asked export cannot be made; the message says what to change."""


@dataclass(frozen=True)
class ExportPlan:
    """One export: the team, the weeks (Mondays) in range, the format and the moment it reads."""

    team: Team
    settings: Settings
    format: ExportFormat
    questions: bool
    start: date
    end: date
    mondays: tuple[date, ...]
    now: datetime

    @property
    def filename(self) -> str:
        """`redbutton-{slug}-{from}-{to}.{ext}`, `-questions` before the extension for that csv."""
        suffix = "-questions" if self.questions else ""
        return f"redbutton-{self.team.slug}-{self.start}-{self.end}{suffix}.{self.format}"

    @property
    def media_type(self) -> str:
        """The content type of this format."""
        return MEDIA_TYPES[self.format]

    @property
    def min_responses(self) -> int:
        """The anonymity threshold the export applies."""
        return self.settings.min_responses

    def chunks(self) -> Iterator[tuple[date, ...]]:
        """The Mondays in range, CHUNK_WEEKS at a time."""
        for index in range(0, len(self.mondays), CHUNK_WEEKS):
            yield self.mondays[index : index + CHUNK_WEEKS]


def parse_day(value: str | None, *, name: str) -> date | None:
    """A YYYY-MM-DD query value as a date; empty means "use the default"."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not _DAY.fullmatch(text):
        raise ExportError(f"'{name}' must be a date written YYYY-MM-DD, e.g. 2026-03-02")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise ExportError(f"'{name}' is not a real date: {text}") from exc
    # Far-off years would overflow the default-range arithmetic before any check could speak.
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise ExportError(f"'{name}' must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return day


def plan_export(
    *,
    team: Team,
    settings: Settings,
    now: datetime,
    format: str,
    start: str | None = None,
    end: str | None = None,
    variant: str | None = None,
) -> ExportPlan:
    """Check the request and fix its range (default: the /trends default, 26 weeks)."""
    fmt = format.strip().lower()
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{format}': choose one of {', '.join(FORMATS)}")
    variant = (variant or "").strip().lower() or None
    if variant is not None and variant not in VARIANTS:
        raise ExportError(f"unknown variant '{variant}': the only variant is 'questions'")
    if variant == "questions" and fmt != "csv":
        raise ExportError("the questions variant is a csv layout; json and md include questions")
    start_day, end_day = trends.requested_range(
        team=team,
        now=now,
        start=parse_day(start, name="from"),
        end=parse_day(end, name="to"),
    )
    try:
        mondays = trends.weeks_in_range(start_day, end_day)
    except trends.TrendsRangeError as exc:
        raise ExportError(str(exc)) from exc
    return ExportPlan(
        team=team,
        settings=settings,
        format=fmt,
        questions=variant == "questions",
        start=start_day,
        end=end_day,
        mondays=tuple(mondays),
        now=now,
    )


def begin_snapshot(session: Session) -> None:
    """Read every chunk from one snapshot, so a long export adds up even while answers arrive."""
    # SQLite's read transaction is already a snapshot; PostgreSQL needs REPEATABLE READ for one,
    # set as the transaction begins (a session already reading keeps the level it has).
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def week_rows(*, session: Session, plan: ExportPlan) -> Iterator[TrendsWeek]:
    """The /trends weeks of the range, exactly as that API computes them."""
    for chunk in plan.chunks():
        report = trends.team_trends(
            session=session,
            team=plan.team,
            settings=plan.settings,
            start=chunk[0],
            end=chunk[-1],
            now=plan.now,
        )
        yield from report.weeks


def _round_chunks(*, session: Session, plan: ExportPlan) -> Iterator[list[RoundFigures]]:
    for chunk in plan.chunks():
        yield survey_stats.round_figures(
            session=session,
            teams=[plan.team],
            min_responses=plan.min_responses,
            now=plan.now,
            starts_from=chunk[0],
            starts_to=chunk[-1] + timedelta(days=6),
        )


@dataclass(frozen=True)
class RoundQuestions:
    """The per-question figures of one eligible round."""

    round: RoundFigures
    questions: list[QuestionFigures]

    @property
    def week_start(self) -> date:
        """The Monday of the week the round starts in."""
        return survey_stats.week_start(self.round.starts_on)

    @property
    def week(self) -> str:
        """The ISO week label of that Monday."""
        return survey_stats.week_label(self.week_start)


def question_rounds(*, session: Session, plan: ExportPlan) -> Iterator[RoundQuestions]:
    """Each eligible round of the range with its questions (open and suppressed ones: none)."""
    for figures in _round_chunks(session=session, plan=plan):
        questions = survey_stats.question_figures(session=session, rounds=figures)
        for round_ in figures:
            if round_.round_id is not None and round_.round_id in questions:
                yield RoundQuestions(round=round_, questions=questions[round_.round_id])


def scale_points(*, session: Session, plan: ExportPlan) -> list[int]:
    """Every scale point of the surveys answered in range: the count columns of the csv."""
    first, last = plan.mondays[0], plan.mondays[-1] + timedelta(days=6)
    versions = session.exec(
        select(Round.survey_version_id)
        .where(Round.team_id == plan.team.id)
        .where(Round.starts_on >= first, Round.starts_on <= last)
        .distinct()
    ).all()
    scales = survey_stats.load_scales(session=session, version_ids=(v for v in versions if v))
    return sorted({point for scale in scales.values() for point in scale.points})


@dataclass(frozen=True)
class RoundComments:
    """The comments of one eligible round, in a random order, bodies only."""

    week: str
    period: str
    comments: list[str]


def comment_rounds(*, session: Session, plan: ExportPlan) -> Iterator[RoundComments]:
    """Comments of the range's eligible rounds (survey_stats leaves out every other round)."""
    for figures in _round_chunks(session=session, plan=plan):
        comments = survey_stats.eligible_comments(session=session, rounds=figures)
        for round_ in figures:
            bodies = comments.get(round_.round_id) if round_.round_id is not None else None
            if bodies:
                yield RoundComments(
                    week=survey_stats.week_label(survey_stats.week_start(round_.starts_on)),
                    period=round_.period,
                    comments=bodies,
                )


@dataclass(frozen=True)
class DeploymentEvent:
    """A production deployment that finished in range."""

    week: str
    external_id: str
    environment: str
    status: str
    started_at: datetime | None
    finished_at: datetime
    sha: str | None
    is_rollback: bool
    rolls_back: str | None
    rolled_back: bool
    linked_to_incident: bool

    @property
    def failed(self) -> bool:
        """Failed, rolled back or linked to an incident: DESIGN.md §5, as app.delivery.stats."""
        return self.status == "failure" or self.rolled_back or self.linked_to_incident


@dataclass(frozen=True)
class IncidentEvent:
    """An incident that started in range, or was resolved in it after starting earlier."""

    week: str
    external_id: str
    title: str | None
    severity: str | None
    started_at: datetime | None
    resolved_at: datetime | None
    deployment: str | None
    link_method: str | None

    @property
    def open(self) -> bool:
        """Not resolved yet."""
        return self.resolved_at is None

    @property
    def duration_minutes(self) -> float | None:
        """Time to restore in minutes, when both ends are known."""
        if self.started_at is None or self.resolved_at is None:
            return None
        return (self.resolved_at - self.started_at).total_seconds() / 60


def _chunk_bounds(plan: ExportPlan, chunk: Sequence[date]) -> list[tuple[date, datetime, datetime]]:
    return [(monday, *stats.week_bounds(plan.team, monday)) for monday in chunk]


def _week_for(bounds: Sequence[tuple[date, datetime, datetime]], moment: datetime | None) -> str:
    for monday, start, end in bounds:
        if moment is not None and start <= moment < end:
            return stats.week_label(monday)
    return ""


def deployment_events(*, session: Session, plan: ExportPlan) -> Iterator[DeploymentEvent]:
    """Production deployments finished in range, oldest first, a chunk of weeks per query."""
    linked = exists().where(col(IncidentLink.deployment_id) == col(Deployment.id))
    for chunk in plan.chunks():
        bounds = _chunk_bounds(plan, chunk)
        first, last = bounds[0][1], bounds[-1][2]
        rows = session.execute(
            select(Deployment, linked.label("linked"))
            .where(col(Deployment.team_id) == plan.team.id)
            .where(
                func.lower(col(Deployment.environment)).in_(plan.team.production_environment_names)
            )
            .where(col(Deployment.status).in_(("success", "failure")))
            .where(col(Deployment.finished_at) >= first, col(Deployment.finished_at) < last)
            .order_by(col(Deployment.finished_at), col(Deployment.id))
        ).all()
        for deployment, is_linked in rows:
            yield DeploymentEvent(
                week=_week_for(bounds, deployment.finished_at),
                external_id=deployment.external_id,
                environment=deployment.environment,
                status=deployment.status,
                started_at=deployment.started_at,
                finished_at=deployment.finished_at,
                sha=deployment.sha,
                is_rollback=deployment.is_rollback,
                rolls_back=deployment.rolls_back,
                rolled_back=deployment.rolled_back,
                linked_to_incident=bool(is_linked),
            )


def incident_events(*, session: Session, plan: ExportPlan) -> Iterator[IncidentEvent]:
    """Incidents started in range, or resolved in it after starting earlier, oldest first."""
    range_start = stats.week_bounds(plan.team, plan.mondays[0])[0]
    for chunk in plan.chunks():
        bounds = _chunk_bounds(plan, chunk)
        first, last = bounds[0][1], bounds[-1][2]
        started = col(Incident.started_at)
        resolved = col(Incident.resolved_at)
        rows = session.execute(
            select(Incident, IncidentLink.method, Deployment.external_id)
            .outerjoin(IncidentLink, col(IncidentLink.incident_id) == col(Incident.id))
            .outerjoin(Deployment, col(Deployment.id) == col(IncidentLink.deployment_id))
            .where(col(Incident.team_id) == plan.team.id)
            .where(
                or_(
                    and_(started >= first, started < last),
                    # Resolved in range but started before it (or start unknown): its time to
                    # restore counts in this range's MTTR, so the brief lists it too.
                    and_(
                        or_(started.is_(None), started < range_start),
                        resolved >= first,
                        resolved < last,
                    ),
                )
            )
            .order_by(func.coalesce(started, resolved), col(Incident.id))
        ).all()
        for incident, method, deployment in rows:
            yield IncidentEvent(
                week=_week_for(bounds, incident.started_at)
                or _week_for(bounds, incident.resolved_at),
                external_id=incident.external_id,
                title=incident.title,
                severity=incident.severity,
                started_at=incident.started_at,
                resolved_at=incident.resolved_at,
                deployment=deployment,
                link_method=method,
            )


def definitions(plan: ExportPlan) -> dict[str, Any]:
    """The threshold and the definitions every figure of the export follows (DESIGN.md §4-5)."""
    return {
        "min_responses": plan.min_responses,
        "eligible_round": (
            "a round's scores, questions and comments are exported only once it has closed and "
            f"has at least {plan.min_responses} responses; other rounds show their response "
            "count only"
        ),
        "week": "ISO week (Monday to Sunday) in the team's timezone; in range when its Monday is",
        "trust_index": (
            "0-100: mean over responses of each response's mean score (after reverse scoring), "
            "rescaled (mean - min) / (max - min) x 100, with a 95% t-interval"
        ),
        "favorable_pct": "share of answers in the top two points of the scale, after reverse",
        "response_rate": "responses / team size, a fraction 0-1",
        "deployments": "production deployments finished in the week (success or failure)",
        "failed_deployments": (
            "deployments that failed, were rolled back, or are linked to an incident "
            f"(explicitly, or the latest one up to {plan.team.incident_link_window_hours} h "
            "before it started)"
        ),
        "change_failure_rate": "failed / deployments, a fraction 0-1; null when none",
        "mttr_minutes": "median of resolved - started over incidents resolved in the week",
        "production_environments": plan.team.production_environment_names,
        "dora_bands": {
            "change_failure_rate": [band.rule for _, band in CFR_BANDS] + [CFR_LOW.rule],
            "recovery": [band.rule for _, band in RECOVERY_BANDS] + [RECOVERY_LOW.rule],
            "caution": DORA_CAUTION,
        },
        "association": "figures shown side by side are associated, not causes of each other",
    }


@dataclass
class RangeSummary:
    """What the Markdown brief says about the whole range, gathered in one pass over chunks."""

    weeks: int = 0
    responses: int = 0
    suppressed: list[str] = field(default_factory=list)
    open: list[str] = field(default_factory=list)
    first_trust: TrendsWeek | None = None
    last_trust: TrendsWeek | None = None
    first_cfr: TrendsWeek | None = None
    last_cfr: TrendsWeek | None = None
    first_mttr: TrendsWeek | None = None
    last_mttr: TrendsWeek | None = None
    deployments: int = 0
    failed_deployments: int = 0
    incidents: int = 0
    first_round: RoundFigures | None = None
    last_round: RoundFigures | None = None

    def add_week(self, week: TrendsWeek) -> None:
        """Count one week in (the first and last weeks with each figure are kept)."""
        self.weeks += 1
        self.responses += week.responses or 0
        if week.open:
            self.open.append(week.week)
        elif week.suppressed:
            self.suppressed.append(week.week)
        self.deployments += week.deployments
        self.failed_deployments += week.failed_deployments
        self.incidents += week.incidents
        if week.trust_index is not None:
            self.first_trust = self.first_trust or week
            self.last_trust = week
        if week.change_failure_rate is not None:
            self.first_cfr = self.first_cfr or week
            self.last_cfr = week
        if week.mttr_minutes is not None:
            self.first_mttr = self.first_mttr or week
            self.last_mttr = week

    def add_round(self, round_: RoundFigures) -> None:
        """Keep the first and last eligible rounds: the movers compare their questions."""
        if round_.eligible:
            self.first_round = self.first_round or round_
            self.last_round = round_


def range_summary(*, session: Session, plan: ExportPlan) -> RangeSummary:
    """Totals, first and last figures of the range, one chunk of weeks at a time."""
    summary = RangeSummary()
    for week in week_rows(session=session, plan=plan):
        summary.add_week(week)
    for figures in _round_chunks(session=session, plan=plan):
        for round_ in figures:
            summary.add_round(round_)
    return summary


@dataclass(frozen=True)
class Mover:
    """A question's mean in the first and the last eligible round of the range."""

    key: str
    text: str
    before: float
    after: float

    @property
    def change(self) -> float:
        """After minus before, on the survey's scale."""
        return self.after - self.before


def movers_and_lowest(
    *, session: Session, summary: RangeSummary
) -> tuple[list[Mover], list[QuestionFigures]]:
    """Questions by size of change (first to last eligible round), and the last round's lowest."""
    rounds = [r for r in (summary.first_round, summary.last_round) if r is not None]
    if not rounds:
        return [], []
    figures = survey_stats.question_figures(session=session, rounds=rounds)
    last = figures.get(rounds[-1].round_id or -1, [])
    lowest = sorted(last, key=lambda q: (q.mean, q.key))
    if len(rounds) < 2 or rounds[0].round_id == rounds[-1].round_id:
        return [], lowest
    before = {q.key: q for q in figures.get(rounds[0].round_id or -1, [])}
    movers = [
        Mover(key=q.key, text=q.text, before=before[q.key].mean, after=q.mean)
        for q in last
        if q.key in before
    ]
    movers.sort(key=lambda m: (-abs(m.change), m.key))
    return movers, lowest
