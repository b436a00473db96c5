"""Everything the team dashboard shows, gathered in a fixed number of queries."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import plotly.graph_objects as go
from markupsafe import Markup
from sqlmodel import Session

from app.config import Settings
from app.insights import charts, survey_stats, trends
from app.insights.charts import WeekRow
from app.insights.survey_stats import QuestionFigures, RoundFigures, Scale
from app.insights.trends import TrendsWeek
from app.teams.models import Team


def figure_json(fig: go.Figure) -> Markup:
    """A figure as JSON that is safe inside <script type="application/json">."""
    # "</script>" or "<!--" in a label must not end the script element early.
    text = fig.to_json().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the script-data context


@dataclass(frozen=True)
class Chart:
    """One figure and the plain table that stands in for it."""

    id: str
    title: str
    figure: Markup
    columns: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass(frozen=True)
class Card:
    """One headline figure."""

    label: str
    value: str
    detail: str = ""


@dataclass
class TeamDashboard:
    """The team page's content."""

    team: Team
    weeks: list[WeekRow]
    cards: list[Card]
    charts: list[Chart]
    latest: RoundFigures | None
    current: RoundFigures | None
    comments: list[tuple[str, list[str]]] = field(default_factory=list)


def _fmt(value: float | None, pattern: str = "{:.0f}", missing: str = "—") -> str:
    return missing if value is None else pattern.format(value)


def week_row(week: TrendsWeek, *, rolling: float | None = None) -> WeekRow:
    """A week of the trends API as a chart row, with the rolling trust of eligible rounds."""
    return WeekRow(
        week=week.week,
        week_start=week.week_start,
        responses=week.responses,
        suppressed=week.suppressed,
        open=week.open,
        more_needed=week.more_needed,
        trust_index=week.trust_index,
        trust_ci_low=week.trust_ci_low,
        trust_ci_high=week.trust_ci_high,
        trust_rolling=rolling,
        deployments=week.deployments,
        failed_deployments=week.failed_deployments,
        change_failure_rate=week.change_failure_rate,
        mttr_minutes=week.mttr_minutes,
        incidents=week.incidents,
    )


def trend_chart(weeks: Sequence[WeekRow]) -> Chart:
    """Chart 1 with its table."""
    rows = [
        [
            w.week,
            _fmt(w.trust_index)
            if w.gap_label is None
            else (w.gap_label if w.responses is not None else "—"),
            f"{_fmt(w.trust_ci_low)}–{_fmt(w.trust_ci_high)}"
            if w.trust_ci_low is not None
            else "—",
            _fmt(w.trust_rolling),
            _fmt(w.deployments, "{:d}"),
            _fmt(w.failed_deployments, "{:d}"),
            _fmt(None if w.change_failure_rate is None else 100 * w.change_failure_rate, "{:.0f}%"),
            _fmt(w.mttr_minutes, "{:.0f} min"),
            _fmt(w.incidents, "{:d}"),
        ]
        for w in weeks
    ]
    return Chart(
        id="chart-trend",
        title="Trust and delivery, week by week",
        figure=figure_json(charts.trust_and_delivery(weeks)),
        columns=[
            "Week",
            "Trust index",
            "95% interval",
            "4-week rolling",
            "Deployments",
            "Failed",
            "CFR",
            "MTTR median",
            "Incidents",
        ],
        rows=rows,
    )


def heatmap_chart(
    *,
    figures: Sequence[RoundFigures],
    questions: dict[int, list[QuestionFigures]],
    scales: dict[int, Scale],
) -> Chart:
    """Chart 2 (question × week mean scores) with its table."""
    eligible = [f for f in figures if f.round_id in questions]
    weeks = [survey_stats.week_label(survey_stats.week_start(f.starts_on)) for f in figures]
    order: list[str] = []
    text: dict[str, str] = {}
    for f in figures:
        if f.survey_version_id in scales:
            for q in scales[f.survey_version_id].questions:
                if q.key not in text:
                    order.append(q.key)
                    text[q.key] = q.key
    means: dict[tuple[str, str], float] = {}
    for f in eligible:
        assert f.round_id is not None
        label = survey_stats.week_label(survey_stats.week_start(f.starts_on))
        for figure in questions[f.round_id]:
            means[(figure.key, label)] = figure.mean
            if figure.key not in text:
                order.append(figure.key)
                text[figure.key] = figure.key
    rows = [[w] + [_fmt(means.get((key, w)), "{:.2f}") for key in order] for w in weeks]
    known = [scales[f.survey_version_id] for f in figures if f.survey_version_id in scales]
    midpoint = (known[-1].minimum + known[-1].maximum) / 2 if known else 3.0
    return Chart(
        id="chart-questions",
        title="Each question, week by week (mean score after reverse scoring)",
        figure=figure_json(
            charts.question_heatmap(weeks=weeks, questions=order, means=means, midpoint=midpoint)
        ),
        columns=["Week", *order],
        rows=rows,
        note="Blank cells: the round was open or below the response threshold.",
    )


def distribution_chart(
    *,
    latest: RoundFigures | None,
    questions: dict[int, list[QuestionFigures]],
    scales: dict[int, Scale],
) -> Chart:
    """Chart 3: the latest eligible round's answers per question, diverging around neutral."""
    if latest is None or latest.round_id is None or latest.survey_version_id is None:
        empty = charts.diverging_distribution(questions=[], points=[], labels=[])
        return Chart(
            id="chart-distribution",
            title="Latest closed round: how people answered",
            figure=figure_json(empty),
            columns=["Question"],
            rows=[],
            note="No closed round has reached the response threshold yet.",
        )
    scale = scales[latest.survey_version_id]
    found = questions[latest.round_id]
    labels = [
        scale.labels[i] if i < len(scale.labels) else str(p) for i, p in enumerate(scale.points)
    ]
    fig = charts.diverging_distribution(
        questions=[charts.Distribution(label=q.key, counts=q.counts) for q in found],
        points=scale.points,
        labels=labels,
    )
    text = {q.key: q.text for q in scale.questions}
    rows = [
        [text.get(q.key, q.key), f"{q.mean:.2f}", f"{q.favorable_pct:.0f}%"]
        + [str(q.counts.get(p, 0)) for p in scale.points]
        for q in found
    ]
    return Chart(
        id="chart-distribution",
        title=f"Latest closed round ({latest.period}): how people answered",
        figure=figure_json(fig),
        columns=["Question", "Mean", "Favorable", *labels],
        rows=rows,
        note="Scores after reverse scoring: the right side is always the favorable side.",
    )


def association_chart(weeks: Sequence[WeekRow]) -> Chart:
    """Chart 4: weekly trust against CFR and MTTR, with Spearman's rho and n."""
    found = charts.associations(weeks)
    rows = [
        [
            w.week,
            _fmt(w.trust_index),
            _fmt(None if w.change_failure_rate is None else 100 * w.change_failure_rate, "{:.0f}%"),
            _fmt(w.mttr_minutes, "{:.0f} min"),
        ]
        for w in weeks
        if w.trust_index is not None
        and (w.change_failure_rate is not None or w.mttr_minutes is not None)
    ]
    return Chart(
        id="chart-association",
        title="Trust vs delivery — association, not causation",
        figure=figure_json(charts.trust_vs_delivery(weeks)),
        columns=["Week", "Trust index", "CFR", "MTTR median"],
        rows=rows,
        note=(
            f"Trust vs change failure rate: {charts.describe(found['cfr'].correlation)}. "
            f"Trust vs MTTR: {charts.describe(found['mttr'].correlation)}. "
            "A rank correlation shows that two things move together, not that one causes the other."
        ),
    )


def headline_cards(*, weeks: Sequence[WeekRow], figures: Sequence[RoundFigures]) -> list[Card]:
    """Trust and its change, response rate, CFR, MTTR and this week's deployments."""
    eligible = [f for f in figures if f.eligible]
    latest = eligible[-1] if eligible else None
    previous = eligible[-2] if len(eligible) > 1 else None
    if latest is not None and latest.trust_index is not None:
        change = (
            f"{latest.trust_index - previous.trust_index:+.0f} vs {previous.period}"
            if previous is not None and previous.trust_index is not None
            else "no earlier round to compare"
        )
        trust = Card("Trust index", f"{latest.trust_index:.0f}", f"{latest.period}, {change}")
    else:
        trust = Card("Trust index", "—", "no closed round has reached the threshold yet")
    closed = [f for f in figures if not f.open]
    current = next((f for f in reversed(figures) if f.open), None)
    if closed:
        last = closed[-1]
        detail = f"{last.period}: {last.responses} of {last.headcount}"
        if last.over_headcount:
            detail += " — more responses than headcount, check the team size"
        rate = Card("Response rate", f"{100 * last.response_rate:.0f}%", detail)
    else:
        rate = Card("Response rate", "—", "no closed round yet")
    if current is not None:
        rate = Card(rate.label, rate.value, f"{rate.detail}; open now: {current.responses} so far")
    with_cfr = [w for w in weeks if w.change_failure_rate is not None]
    with_mttr = [w for w in weeks if w.mttr_minutes is not None]
    this_week = weeks[-1] if weeks else None
    return [
        trust,
        rate,
        Card(
            "Change failure rate",
            f"{100 * with_cfr[-1].change_failure_rate:.0f}%"
            if with_cfr and with_cfr[-1].change_failure_rate is not None
            else "—",
            with_cfr[-1].week if with_cfr else "no production deployments yet",
        ),
        Card(
            "MTTR (median)",
            _fmt(with_mttr[-1].mttr_minutes, "{:.0f} min") if with_mttr else "—",
            with_mttr[-1].week if with_mttr else "no resolved incidents yet",
        ),
        Card(
            "Deployments this week",
            _fmt(this_week.deployments if this_week else None, "{:d}", "0"),
            this_week.week if this_week else "",
        ),
    ]


def team_dashboard(
    *, session: Session, team: Team, settings: Settings, now: datetime
) -> TeamDashboard:
    """The team page: cards, the four charts with their tables, and eligible comments."""
    start, end = trends.default_range(team=team, now=now)
    # The weeks before the range only feed the rolling mean.
    with_history = survey_stats.round_figures(
        session=session,
        teams=[team],
        min_responses=settings.min_responses,
        now=now,
        starts_from=start - timedelta(weeks=survey_stats.ROLLING_WEEKS - 1),
        starts_to=end,
    )
    figures = [f for f in with_history if f.starts_on >= start]
    report = trends.team_trends(
        session=session,
        team=team,
        settings=settings,
        start=start,
        end=end,
        now=now,
        figures=figures,
    )
    rolling = survey_stats.rolling_trust(
        figures=with_history, mondays=[w.week_start for w in report.weeks]
    )
    weeks = [week_row(w, rolling=rolling[w.week_start]) for w in report.weeks]
    scales = survey_stats.load_scales(
        session=session, version_ids=(f.survey_version_id for f in figures if f.survey_version_id)
    )
    questions = survey_stats.question_figures(session=session, rounds=figures, scales=scales)
    eligible = [f for f in figures if f.eligible]
    latest = eligible[-1] if eligible else None
    recent = eligible[-4:]
    comments = survey_stats.eligible_comments(session=session, rounds=recent)
    return TeamDashboard(
        team=team,
        weeks=weeks,
        cards=headline_cards(weeks=weeks, figures=figures),
        charts=[
            trend_chart(weeks),
            heatmap_chart(figures=figures, questions=questions, scales=scales),
            distribution_chart(latest=latest, questions=questions, scales=scales),
            association_chart(weeks),
        ],
        latest=latest,
        current=next((f for f in reversed(figures) if f.open), None),
        comments=[
            (f.period, comments[f.round_id])
            for f in reversed(recent)
            if f.round_id is not None and f.round_id in comments
        ],
    )
