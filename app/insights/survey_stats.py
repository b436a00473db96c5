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
from typing import TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import Float, cast, func
from sqlmodel import Session, col, select

from app.insights import thresholds
from app.insights.intervals import mean_interval
from app.pulses.models import Answer, Comment, Response, Round, SurveyVersion
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


def load_scales(*, session: Session, version_ids: Iterable[int]) -> dict[int, Scale]:
    """The scales of these survey versions, in one query."""
    ids = sorted(set(version_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(SurveyVersion.id, SurveyVersion.content).where(col(SurveyVersion.id).in_(ids))
    ).all()
    return {version_id: scale_from_content(content) for version_id, content in rows if version_id}


def round_figures(
    *,
    session: Session,
    teams: Sequence[Team],
    min_responses: int,
    now: datetime,
    starts_from: date | None = None,
    starts_to: date | None = None,
) -> list[RoundFigures]:
    """Every round of these teams starting in the range, oldest first, with what may be shown."""
    team_ids = [team.id for team in teams if team.id is not None]
    if not team_ids:
        return []
    headcount = {team.id: team.size for team in teams}
    responses = (
        select(Response.round_id, func.count().label("n"))
        .group_by(col(Response.round_id))
        .subquery()
    )
    statement = (
        select(Round, func.coalesce(responses.c.n, 0))
        .outerjoin(responses, responses.c.round_id == Round.id)
        .where(col(Round.team_id).in_(team_ids))
        .order_by(col(Round.starts_on), col(Round.team_id))
    )
    if starts_from is not None:
        statement = statement.where(Round.starts_on >= starts_from)
    if starts_to is not None:
        statement = statement.where(Round.starts_on <= starts_to)
    rows = session.exec(statement).all()

    shown: list[tuple[Round, int, thresholds.Visibility]] = []
    for round_, count in rows:
        seen = thresholds.visibility(
            responses=int(count),
            min_responses=min_responses,
            closes_at=round_.closes_at,
            closed_early_at=round_.closed_early_at,
            now=now,
        )
        shown.append((round_, int(count), seen))

    eligible_ids = [r.id for r, _, seen in shown if seen.eligible and r.id is not None]
    scales = load_scales(session=session, version_ids=(r.survey_version_id for r, _, _ in shown))
    trust = _trust(session=session, round_ids=eligible_ids)
    favorable = _favorable_counts(
        session=session, round_ids=eligible_ids, scales=scales, rounds=shown
    )

    figures = []
    for round_, count, seen in shown:
        scores: dict[str, float | None] = {}
        if seen.eligible and round_.id in trust:
            scale = scales[round_.survey_version_id]
            scores = _trust_figures(scale, *trust[round_.id])
            scores["favorable_pct"] = favorable.get(round_.id)
        figures.append(
            RoundFigures(
                round_id=round_.id,
                team_id=round_.team_id,
                period=round_.period,
                starts_on=round_.starts_on,
                closes_at=round_.closes_at,
                survey_version_id=round_.survey_version_id,
                headcount=headcount[round_.team_id],
                responses=count,
                open=seen.open,
                suppressed=seen.suppressed,
                more_needed=seen.more_needed,
                **scores,
            )
        )
    return figures


def _trust(*, session: Session, round_ids: list[int]) -> dict[int, tuple[int, float, float]]:
    """Per round: n, mean and sample variance of the per-response mean scores (all in SQL)."""
    if not round_ids:
        return {}
    per_response = (
        select(
            Answer.round_id,
            Answer.response_id,
            func.avg(cast(Answer.score, Float)).label("m"),
        )
        .where(col(Answer.round_id).in_(round_ids))
        .group_by(col(Answer.round_id), col(Answer.response_id))
        .subquery()
    )
    rows = session.exec(
        select(
            per_response.c.round_id,
            func.count(),
            func.avg(per_response.c.m),
            func.sum(per_response.c.m * per_response.c.m),
        ).group_by(per_response.c.round_id)
    ).all()
    result = {}
    for round_id, n, mean, sum_squares in rows:
        n, mean, sum_squares = int(n), float(mean), float(sum_squares)
        variance = (sum_squares - n * mean * mean) / (n - 1) if n > 1 else 0.0
        result[int(round_id)] = (n, mean, max(variance, 0.0))
    return result


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


def _score_histogram(*, session: Session, round_ids: list[int]) -> list[tuple[int, str, int, int]]:
    """(round, question, score, answers) for these rounds, counted in SQL."""
    if not round_ids:
        return []
    rows = session.exec(
        select(Answer.round_id, Answer.question_key, Answer.score, func.count())
        .where(col(Answer.round_id).in_(round_ids))
        .group_by(col(Answer.round_id), col(Answer.question_key), col(Answer.score))
    ).all()
    return [(int(r), str(k), int(s), int(c)) for r, k, s, c in rows]


def _favorable_counts(
    *,
    session: Session,
    round_ids: list[int],
    scales: dict[int, Scale],
    rounds: Sequence[tuple[Round, int, thresholds.Visibility]],
) -> dict[int, float]:
    """Per round: the share of answers in the top two points, as a percentage."""
    if not round_ids:
        return {}
    version_of = {r.id: r.survey_version_id for r, _, _ in rounds}
    rows = session.exec(
        select(Answer.round_id, Answer.score, func.count())
        .where(col(Answer.round_id).in_(round_ids))
        .group_by(col(Answer.round_id), col(Answer.score))
    ).all()
    totals: dict[int, int] = defaultdict(int)
    top: dict[int, int] = defaultdict(int)
    for round_id, score, count in rows:
        totals[round_id] += count
        if score >= scales[version_of[round_id]].favorable_from:
            top[round_id] += count
    return {rid: 100.0 * top[rid] / total for rid, total in totals.items() if total}


def question_figures(
    *,
    session: Session,
    rounds: Sequence[RoundFigures],
    scales: dict[int, Scale] | None = None,
) -> dict[int, list[QuestionFigures]]:
    """Per eligible round: each question's mean, favorable % and count at each scale point."""
    eligible = {r.round_id: r for r in rounds if r.eligible and r.round_id is not None}
    if scales is None:
        scales = load_scales(
            session=session,
            version_ids=(r.survey_version_id for r in eligible.values() if r.survey_version_id),
        )
    counts: dict[int, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for round_id, key, score, answers in _score_histogram(
        session=session, round_ids=list(eligible)
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
