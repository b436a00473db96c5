"""The survey numbers of DESIGN.md §5, aggregated in SQL, for pages, APIs and exports alike.

Counts (responses, response rate) are always available. Scores, distributions and comments come
only from eligible rounds (closed and at or above `min_responses`, see thresholds.py), and every
roll-up across rounds or teams is built from eligible rounds only.
"""

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple, TypedDict, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from app.clock import utcnow
from app.insights import summaries as summary_store
from app.insights import thresholds
from app.insights.intervals import mean_interval
from app.insights.models import RoundSummary
from app.pulses.models import Comment, Response, Round, SurveyVersion
from app.teams.models import Team


@dataclass(frozen=True)
class Question:
    """One question of a frozen survey version."""

    key: str
    text: str
    reverse: bool


@dataclass(frozen=True)
class Scale:
    """A survey's answer scale and its questions, as they were answered."""

    minimum: int
    maximum: int
    labels: tuple[str, ...]
    questions: tuple[Question, ...]

    @property
    def points(self) -> list[int]:
        """Every point of the scale, lowest first."""
        return list(range(self.minimum, self.maximum + 1))

    @property
    def favorable_from(self) -> int:
        """The lowest favorable score: the top two points of the scale."""
        return self.maximum - 1

    def rescale(self, mean: float) -> float:
        """A mean score on this scale as 0-100."""
        return (mean - self.minimum) / (self.maximum - self.minimum) * 100.0


def scale_from_content(content: str) -> Scale:
    """The scale and questions of a survey version's JSON snapshot."""
    data = json.loads(content)
    scale = data.get("scale", {})
    return Scale(
        minimum=int(scale.get("min", 1)),
        maximum=int(scale.get("max", 5)),
        labels=tuple(str(label) for label in scale.get("labels", [])),
        questions=tuple(
            Question(
                key=str(q["key"]),
                text=str(q.get("text", q["key"])),
                reverse=bool(q.get("reverse", False)),
            )
            for q in data.get("questions", [])
        ),
    )


@dataclass(frozen=True)
class RoundFigures:
    """One round's numbers; the score fields are None unless the round is eligible."""

    round_id: int | None
    team_id: int
    period: str
    starts_on: date
    closes_at: datetime
    closed_early_at: datetime | None
    survey_version_id: int | None
    headcount: int
    responses: int
    open: bool
    suppressed: bool
    more_needed: int
    trust_index: float | None = None
    trust_ci_low: float | None = None
    trust_ci_high: float | None = None
    favorable_pct: float | None = None

    @property
    def eligible(self) -> bool:
        """Closed and at or above the threshold."""
        return not self.open and not self.suppressed

    @property
    def response_rate(self) -> float:
        """Responses / headcount, as a fraction."""
        return self.responses / self.headcount

    @property
    def over_headcount(self) -> bool:
        """More responses than people: flagged on the dashboard (invariant 7)."""
        return self.responses > self.headcount


@dataclass(frozen=True)
class QuestionFigures:
    """One question of one eligible round."""

    key: str
    text: str
    answers: int
    mean: float
    favorable_pct: float
    counts: dict[int, int] = field(default_factory=dict)  # score (after reverse) -> answers


_SCALES = "redbutton.survey_scales"


def load_scales(*, session: Session, version_ids: Iterable[int]) -> dict[int, Scale]:
    """The scales of these survey versions, in one query (none for those this session read)."""
    # Versions are frozen once answered, so a request that asks twice reads them once.
    known: dict[int, Scale] = session.info.setdefault(_SCALES, {})
    ids = sorted(set(version_ids))
    missing = [version_id for version_id in ids if version_id not in known]
    if missing:
        rows = session.exec(
            select(SurveyVersion.id, SurveyVersion.content).where(
                col(SurveyVersion.id).in_(missing)
            )
        ).all()
        known.update(
            {version_id: scale_from_content(content) for version_id, content in rows if version_id}
        )
    return {version_id: known[version_id] for version_id in ids if version_id in known}


def round_figures(
    *,
    session: Session,
    teams: Sequence[Team],
    min_responses: int,
    now: datetime,
    starts_from: date | None = None,
    starts_to: date | None = None,
) -> list[RoundFigures]:
    """Every round of these teams starting in the range, oldest first, with what may be shown.

    Scores come from the stored summaries of rounds closed a while ago (summaries.py), and from
    the answers for the others; a settled round without a summary gets one stored on the way.
    """
    team_ids = [team.id for team in teams if team.id is not None]
    if not team_ids:
        return []
    headcount = {team.id: team.size for team in teams}
    in_range: list[ColumnElement[bool]] = [col(Round.team_id).in_(team_ids)]
    if starts_from is not None:
        in_range.append(col(Round.starts_on) >= starts_from)
    if starts_to is not None:
        in_range.append(col(Round.starts_on) <= starts_to)
    # Counted for the asked rounds only: grouping the whole response table read every response
    # of every team on each request (bench/PLANS.md).
    responses = (
        select(Response.round_id, func.count().label("n"))
        .where(col(Response.round_id).in_(select(Round.id).where(*in_range)))
        .group_by(col(Response.round_id))
        .subquery()
    )
    rows = session.execute(
        sql_select(  # in _RoundRow's order
            col(Round.id),
            col(Round.team_id),
            col(Round.period),
            col(Round.starts_on),
            col(Round.closes_at),
            col(Round.closed_early_at),
            col(Round.survey_version_id),
            func.coalesce(responses.c.n, 0),
            col(RoundSummary.responses),
            col(RoundSummary.sum_of_means),
            col(RoundSummary.sum_of_squared_means),
            col(RoundSummary.answers),
            col(RoundSummary.favorable_answers),
        )
        .outerjoin(responses, responses.c.round_id == Round.id)
        .outerjoin(RoundSummary, col(RoundSummary.round_id) == Round.id)
        .where(*in_range)
        .order_by(col(Round.starts_on), col(Round.team_id))
    ).all()

    shown: list[tuple[_RoundRow, thresholds.Visibility]] = []
    summaries: dict[int, summary_store.Summary] = {}
    # Plain tuples: a Row's attribute access costs ~1.5 µs, felt over 2,600 rounds of /org.
    for row in map(_RoundRow._make, rows):
        seen = thresholds.visibility(
            responses=row.responses,
            min_responses=min_responses,
            closes_at=row.closes_at,
            closed_early_at=row.closed_early_at,
            now=now,
        )
        shown.append((row, seen))
        if seen.eligible and row.summary_responses is not None:
            # A summary's columns are NOT NULL: when one is there, all are.
            stored = cast(tuple[int, float, float, int, int], row[8:])
            summaries[row.id] = summary_store.Summary(*stored)

    eligible = [row for row, seen in shown if seen.eligible]
    scales = load_scales(session=session, version_ids=(row.version_id for row in eligible))
    missing = [row for row in eligible if row.id not in summaries]
    if missing:
        computed = summary_store.compute(
            session=session,
            round_ids=[row.id for row in missing],
            favorable_from={row.id: scales[row.version_id].favorable_from for row in missing},
        )
        summaries.update(computed)
        summary_store.store(
            session=session,
            summaries={
                row.id: computed[row.id]
                for row in missing
                if row.id in computed
                and summary_store.settled(
                    closes_at=row.closes_at, closed_early_at=row.closed_early_at, now=now
                )
            },
        )

    figures = []
    for row, seen in shown:
        scores: dict[str, float | None] = {}
        summary = summaries.get(row.id) if seen.eligible else None
        if summary is not None and summary.responses:
            scores = _scores(scales[row.version_id], summary)
        figures.append(
            RoundFigures(
                round_id=row.id,
                team_id=row.team_id,
                period=row.period,
                starts_on=row.starts_on,
                closes_at=row.closes_at,
                closed_early_at=row.closed_early_at,
                survey_version_id=row.version_id,
                headcount=headcount[row.team_id],
                responses=row.responses,
                open=seen.open,
                suppressed=seen.suppressed,
                more_needed=seen.more_needed,
                **scores,
            )
        )
    return figures


class _RoundRow(NamedTuple):
    """One row of round_figures' statement, in its column order."""

    id: int
    team_id: int
    period: str
    starts_on: date
    closes_at: datetime
    closed_early_at: datetime | None
    version_id: int
    responses: int
    summary_responses: int | None
    sum_of_means: float | None
    sum_of_squared_means: float | None
    answers: int | None
    favorable_answers: int | None


def _scores(scale: Scale, summary: summary_store.Summary) -> dict[str, float | None]:
    """Trust index, its interval and favorable % of one round, from its aggregates."""
    n = summary.responses
    mean = summary.sum_of_means / n
    variance = (summary.sum_of_squared_means - n * mean * mean) / (n - 1) if n > 1 else 0.0
    scores = _trust_figures(scale, n, mean, max(variance, 0.0))
    scores["favorable_pct"] = (
        100.0 * summary.favorable_answers / summary.answers if summary.answers else None
    )
    return scores


def _trust_figures(scale: Scale, n: int, mean: float, variance: float) -> dict[str, float | None]:
    """The 0-100 trust index and its 95% interval, kept inside 0-100 where the scale ends."""
    index = _clamp(scale.rescale(mean))
    interval = mean_interval(n=n, mean=mean, variance=variance)
    if interval is None:
        return {"trust_index": index, "trust_ci_low": None, "trust_ci_high": None}
    low, high = interval
    return {
        "trust_index": index,
        "trust_ci_low": _clamp(scale.rescale(low)),
        "trust_ci_high": _clamp(scale.rescale(high)),
    }


def _clamp(value: float) -> float:
    # Rounding can step a hair outside the scale; an interval can reach past its ends.
    return min(100.0, max(0.0, value))


def question_figures(
    *,
    session: Session,
    rounds: Sequence[RoundFigures],
    scales: dict[int, Scale] | None = None,
) -> dict[int, list[QuestionFigures]]:
    """Per eligible round: each question's mean, favorable % and count at each scale point.

    The counts of rounds closed a while ago are stored on first use, and read from then on.
    """
    eligible = {r.round_id: r for r in rounds if r.eligible and r.round_id is not None}
    if scales is None:
        scales = load_scales(
            session=session,
            version_ids=(r.survey_version_id for r in eligible.values() if r.survey_version_id),
        )
    counts: dict[int, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    now = utcnow()
    settled = [
        round_id
        for round_id, f in eligible.items()
        if summary_store.settled(closes_at=f.closes_at, closed_early_at=f.closed_early_at, now=now)
    ]
    for round_id, key, score, answers in summary_store.histograms(
        session=session, round_ids=eligible, settled_ids=settled
    ):
        counts[round_id][key][score] = answers
    result: dict[int, list[QuestionFigures]] = {}
    for round_id, figures in eligible.items():
        assert figures.survey_version_id is not None
        scale = scales[figures.survey_version_id]
        known = [q.key for q in scale.questions]
        text = {q.key: q.text for q in scale.questions}
        keys = known + sorted(set(counts[round_id]) - set(known))
        questions = []
        for key in keys:
            histogram = counts[round_id].get(key)
            if not histogram:
                continue
            total = sum(histogram.values())
            questions.append(
                QuestionFigures(
                    key=key,
                    text=text.get(key, key),
                    answers=total,
                    mean=sum(s * c for s, c in histogram.items()) / total,
                    favorable_pct=100.0
                    * sum(c for s, c in histogram.items() if s >= scale.favorable_from)
                    / total,
                    counts={point: histogram.get(point, 0) for point in scale.points},
                )
            )
        result[round_id] = questions
    return result


def eligible_comments(
    *, session: Session, rounds: Sequence[RoundFigures], rng: random.Random | None = None
) -> dict[int, list[str]]:
    """Per eligible round: its comments in a random order, bodies only (no time, no id)."""
    eligible = [r.round_id for r in rounds if r.eligible and r.round_id is not None]
    if not eligible:
        return {}
    rows = session.exec(
        select(Comment.round_id, Comment.body).where(col(Comment.round_id).in_(eligible))
    ).all()
    by_round: dict[int, list[str]] = defaultdict(list)
    for round_id, body in rows:
        by_round[round_id].append(body)
    shuffle = (rng or random.SystemRandom()).shuffle
    for bodies in by_round.values():
        shuffle(bodies)
    return dict(by_round)


@dataclass(frozen=True)
class Rollup:
    """A trust index pooled over several eligible rounds (teams or weeks)."""

    rounds: int
    responses: int
    trust_index: float | None


def rollup(figures: Iterable[RoundFigures]) -> Rollup:
    """Pool eligible rounds only, weighting each by its responses (invariant 5)."""
    eligible = [f for f in figures if f.eligible and f.trust_index is not None]
    responses = sum(f.responses for f in eligible)
    if not responses:
        return Rollup(rounds=0, responses=0, trust_index=None)
    pooled = sum(f.trust_index * f.responses for f in eligible if f.trust_index is not None)
    return Rollup(rounds=len(eligible), responses=responses, trust_index=pooled / responses)


class SurveyWeekFields(TypedDict):
    """The survey fields of one week of GET /api/v1/teams/{slug}/trends."""

    responses: int | None
    response_rate: float | None
    suppressed: bool
    open: bool
    more_needed: int
    trust_index: float | None
    trust_ci_low: float | None
    trust_ci_high: float | None
    favorable_pct: float | None


def week_start(day: date) -> date:
    """The Monday of this day's ISO week."""
    return day - timedelta(days=day.weekday())


def week_label(monday: date) -> str:
    """The ISO week label YYYY-Www."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def survey_weeks(
    *,
    session: Session,
    team: Team,
    mondays: Sequence[date],
    min_responses: int,
    now: datetime,
    figures: Sequence[RoundFigures] | None = None,
) -> dict[date, SurveyWeekFields]:
    """Per week, the survey fields of the round whose period starts in that week.

    A weekly team's week without a round had no answers (rounds are created on first use): it
    shows 0 responses, suppressed, once the team has started; other cadences leave it empty.
    `figures` may pass this team's rounds already computed, to spare the queries.
    """
    if not mondays:
        return {}
    if figures is None:
        figures = round_figures(
            session=session,
            teams=[team],
            min_responses=min_responses,
            now=now,
            starts_from=min(mondays),
            starts_to=max(mondays) + timedelta(days=6),
        )
    by_week = {week_start(f.starts_on): f for f in figures}
    started = min(
        [week_start(team.created_at.astimezone(ZoneInfo(team.timezone)).date())]
        + [week_start(f.starts_on) for f in figures]
    )
    today = week_start(now.astimezone(ZoneInfo(team.timezone)).date())
    result: dict[date, SurveyWeekFields] = {}
    for monday in mondays:
        found = by_week.get(monday)
        if found is not None:
            result[monday] = SurveyWeekFields(
                responses=found.responses,
                response_rate=found.response_rate,
                suppressed=found.suppressed,
                open=found.open,
                more_needed=found.more_needed,
                trust_index=found.trust_index,
                trust_ci_low=found.trust_ci_low,
                trust_ci_high=found.trust_ci_high,
                favorable_pct=found.favorable_pct,
            )
        elif team.cadence == "weekly" and started <= monday <= today:
            result[monday] = SurveyWeekFields(
                responses=0,
                response_rate=0.0,
                suppressed=True,
                open=monday == today,
                more_needed=min_responses,
                trust_index=None,
                trust_ci_low=None,
                trust_ci_high=None,
                favorable_pct=None,
            )
        else:
            result[monday] = SurveyWeekFields(
                responses=None,
                response_rate=None,
                suppressed=False,
                open=False,
                more_needed=0,
                trust_index=None,
                trust_ci_low=None,
                trust_ci_high=None,
                favorable_pct=None,
            )
    return result


@dataclass(frozen=True)
class OrgWeek:
    """The organisation's pooled trust for one week, from eligible rounds only."""

    week: str
    week_start: date
    teams_included: int
    teams_excluded: int
    responses: int
    trust_index: float | None


def org_weeks(*, figures: Sequence[RoundFigures], mondays: Sequence[date]) -> list[OrgWeek]:
    """Per week, the roll-up of the rounds starting in it; suppressed and open ones left out."""
    by_week: dict[date, list[RoundFigures]] = defaultdict(list)
    for f in figures:
        by_week[week_start(f.starts_on)].append(f)
    result = []
    for monday in mondays:
        rounds_ = by_week.get(monday, [])
        pooled = rollup(rounds_)
        result.append(
            OrgWeek(
                week=week_label(monday),
                week_start=monday,
                teams_included=pooled.rounds,
                teams_excluded=len(rounds_) - pooled.rounds,
                responses=pooled.responses,
                trust_index=pooled.trust_index,
            )
        )
    return result


ROLLING_WEEKS = 4


def rolling_trust(
    *, figures: Sequence[RoundFigures], mondays: Sequence[date], window: int = ROLLING_WEEKS
) -> dict[date, float | None]:
    """Per week, trust pooled over the eligible rounds starting in it and the weeks before it."""
    result = {}
    for monday in mondays:
        earliest = monday - timedelta(weeks=window - 1)
        in_window = [f for f in figures if earliest <= week_start(f.starts_on) <= monday]
        result[monday] = rollup(in_window).trust_index
    return result
