"""The dashboard's figures, built from plain data so they can be tested without a browser.

Each function returns a plotly Figure; templates embed `fig.to_json()` and static/js/charts.js
draws it. Suppressed and open weeks are gaps in every survey series, never zeros.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.insights.correlation import RankCorrelation, spearman

TRUST = "#1f5fa8"
FAILED = "#c62828"
SUCCEEDED = "#7aa6d6"
MTTR = "#6a3d9a"
MUTED = "#8a8f98"
TEMPLATE = "plotly_white"


@dataclass(frozen=True)
class WeekRow:
    """One week of the trends: survey figures (None unless eligible) and delivery figures."""

    week: str
    week_start: date
    responses: int | None = None
    suppressed: bool = False
    open: bool = False
    more_needed: int = 0
    trust_index: float | None = None
    trust_ci_low: float | None = None
    trust_ci_high: float | None = None
    trust_rolling: float | None = None
    deployments: int | None = None
    failed_deployments: int | None = None
    change_failure_rate: float | None = None
    mttr_minutes: float | None = None
    incidents: int | None = None

    @property
    def gap_label(self) -> str | None:
        """Why this week has no trust figure, in words, or None when it has one."""
        if self.open:
            return "round still open"
        if self.suppressed:
            return f"{self.more_needed} more responses needed"
        return None


@dataclass(frozen=True)
class Distribution:
    """One question's answers at each scale point (after reverse scoring)."""

    label: str
    counts: Mapping[int, int]


def _labels(weeks: Sequence[WeekRow]) -> list[str]:
    return [w.week for w in weeks]


def trust_and_delivery(weeks: Sequence[WeekRow]) -> go.Figure:
    """Trust with its 95% band and incident marks; deployments with CFR; MTTR: one time axis."""
    x = _labels(weeks)
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        row_heights=[0.45, 0.3, 0.25],
        specs=[[{}], [{"secondary_y": True}], [{}]],
        subplot_titles=(
            "Trust index (95% interval)",
            "Deployments and change failure rate",
            "MTTR (median)",
        ),
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[w.trust_ci_high for w in weeks],
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
            connectgaps=False,
            name="95% upper",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[w.trust_ci_low for w in weeks],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(31, 95, 168, 0.18)",
            name="95% interval",
            hoverinfo="skip",
            connectgaps=False,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[w.trust_index for w in weeks],
            mode="lines+markers",
            name="Trust index",
            line={"color": TRUST, "width": 2},
            connectgaps=False,
            hovertemplate="%{x}: %{y:.0f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    if any(w.trust_rolling is not None for w in weeks):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[w.trust_rolling for w in weeks],
                mode="lines",
                name="4-week rolling mean",
                line={"color": TRUST, "dash": "dot", "width": 1},
                connectgaps=False,
                hovertemplate="%{x}: %{y:.0f} (4 weeks)<extra></extra>",
            ),
            row=1,
            col=1,
        )
    for w in weeks:
        if w.gap_label:
            # A gap, not a zero: say why in words, upright so that neighbouring weeks stay legible.
            fig.add_annotation(
                x=w.week,
                y=50,
                text=w.gap_label,
                textangle=-90,
                showarrow=False,
                font={"size": 10, "color": MUTED},
                row=1,
                col=1,
            )
    incident_weeks = [w for w in weeks if w.incidents]
    if incident_weeks:
        fig.add_trace(
            go.Scatter(
                x=[w.week for w in incident_weeks],
                y=[98] * len(incident_weeks),
                mode="markers",
                marker={"symbol": "triangle-down", "size": 10, "color": FAILED},
                name="Incidents",
                text=[f"{w.incidents} incident(s)" for w in incident_weeks],
                hovertemplate="%{x}: %{text}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Bar(
            x=x,
            y=[
                None if w.deployments is None else w.deployments - (w.failed_deployments or 0)
                for w in weeks
            ],
            name="Deployments (ok)",
            marker_color=SUCCEEDED,
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Bar(x=x, y=[w.failed_deployments for w in weeks], name="Failed", marker_color=FAILED),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[
                None if w.change_failure_rate is None else 100 * w.change_failure_rate
                for w in weeks
            ],
            mode="lines+markers",
            name="Change failure rate %",
            line={"color": "#333"},
            connectgaps=False,
        ),
        row=2,
        col=1,
        secondary_y=True,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[w.mttr_minutes for w in weeks],
            mode="lines+markers",
            name="MTTR median (min)",
            line={"color": MTTR},
            connectgaps=False,
        ),
        row=3,
        col=1,
    )
    fig.update_layout(
        template=TEMPLATE,
        barmode="stack",
        height=640,
        margin={"t": 40, "r": 20, "l": 50},
        legend={"orientation": "h", "y": -0.08},
    )
    fig.update_yaxes(range=[0, 100], title_text="0-100", row=1, col=1)
    fig.update_yaxes(title_text="deploys", row=2, col=1)
    fig.update_yaxes(title_text="CFR %", rangemode="tozero", row=2, col=1, secondary_y=True)
    fig.update_yaxes(title_text="minutes", rangemode="tozero", row=3, col=1)
    fig.update_xaxes(type="category")
    return fig


def question_heatmap(
    *,
    weeks: Sequence[str],
    questions: Sequence[str],
    means: Mapping[tuple[str, str], float],
    midpoint: float = 3.0,
) -> go.Figure:
    """Mean score per question (rows) and week (columns); blank cells where nothing is shown."""
    z = [[means.get((question, week)) for week in weeks] for question in questions]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(weeks),
            y=list(questions),
            colorscale="RdBu",
            zmid=3,
            hoverongaps=False,
            colorbar={"title": {"text": "mean"}},
            hovertemplate="%{y}<br>%{x}: %{z:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        height=120 + 36 * max(len(questions), 1),
        margin={"t": 20, "r": 20, "l": 20},
        xaxis={"type": "category"},
        yaxis={"automargin": True, "autorange": "reversed"},
    )
    return fig


def diverging_distribution(
    *, questions: Sequence[Distribution], points: Sequence[int], labels: Sequence[str]
) -> go.Figure:
    """Answer shares per question: unfavorable to the left of zero, favorable to the right."""
    middle = (points[0] + points[-1]) / 2 if points else 0
    colours = _diverging_colours(len(points))
    fig = go.Figure()
    totals = [sum(q.counts.values()) or 1 for q in questions]
    y = [q.label for q in questions]
    for index, point in enumerate(points):
        shares = [
            100.0 * q.counts.get(point, 0) / total
            for q, total in zip(questions, totals, strict=True)
        ]
        label = labels[index] if index < len(labels) else str(point)
        if point == middle:
            # The neutral point straddles zero: half on each side.
            for side in (-1, 1):
                fig.add_trace(
                    go.Bar(
                        x=[side * s / 2 for s in shares],
                        y=y,
                        orientation="h",
                        name=label,
                        marker_color=colours[index],
                        showlegend=side == 1,
                        legendgroup=label,
                        customdata=shares,
                        hovertemplate=f"{label}: %{{customdata:.0f}}%<extra></extra>",
                    )
                )
            continue
        side = -1 if point < middle else 1
        fig.add_trace(
            go.Bar(
                x=[side * s for s in shares],
                y=y,
                orientation="h",
                name=label,
                marker_color=colours[index],
                customdata=shares,
                hovertemplate=f"{label}: %{{customdata:.0f}}%<extra></extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        barmode="relative",
        height=140 + 40 * max(len(questions), 1),
        margin={"t": 20, "r": 20, "l": 20},
        xaxis={"title": {"text": "% of answers (unfavorable ← → favorable)"}, "range": [-100, 100]},
        yaxis={"automargin": True, "autorange": "reversed"},
        legend={"orientation": "h", "y": -0.25, "traceorder": "normal"},
    )
    return fig


def _diverging_colours(count: int) -> list[str]:
    palette = {
        2: ["#d6604d", "#4393c3"],
        3: ["#d6604d", "#dddddd", "#4393c3"],
        4: ["#b2182b", "#f4a582", "#92c5de", "#2166ac"],
        5: ["#b2182b", "#ef8a62", "#dddddd", "#67a9cf", "#2166ac"],
        6: ["#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"],
        7: ["#b2182b", "#ef8a62", "#fddbc7", "#dddddd", "#d1e5f0", "#67a9cf", "#2166ac"],
    }
    return palette.get(count, [MUTED] * count)


@dataclass(frozen=True)
class Association:
    """The scatter of weekly trust against a delivery figure, and its rank correlation."""

    pairs: list[tuple[float, float]]
    correlation: RankCorrelation


def associations(weeks: Sequence[WeekRow]) -> dict[str, Association]:
    """Weeks with both a trust index and CFR (in %), or both a trust index and an MTTR."""
    cfr = [
        (100.0 * w.change_failure_rate, w.trust_index)
        for w in weeks
        if w.trust_index is not None and w.change_failure_rate is not None
    ]
    mttr = [
        (w.mttr_minutes, w.trust_index)
        for w in weeks
        if w.trust_index is not None and w.mttr_minutes is not None
    ]
    return {
        "cfr": Association(pairs=cfr, correlation=spearman(cfr)),
        "mttr": Association(pairs=mttr, correlation=spearman(mttr)),
    }


def describe(correlation: RankCorrelation) -> str:
    """Spearman's rho and n in words."""
    if correlation.rho is None:
        return f"rank correlation: not enough weeks (n = {correlation.n})"
    return f"Spearman ρ = {correlation.rho:.2f}, n = {correlation.n}"


def trust_vs_delivery(weeks: Sequence[WeekRow]) -> go.Figure:
    """Weekly trust against change failure rate and against MTTR, with Spearman's rho and n."""
    found = associations(weeks)
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            f"vs change failure rate — {describe(found['cfr'].correlation)}",
            f"vs MTTR — {describe(found['mttr'].correlation)}",
        ),
    )
    for column, key, colour in ((1, "cfr", FAILED), (2, "mttr", MTTR)):
        pairs = found[key].pairs
        fig.add_trace(
            go.Scatter(
                x=[a for a, _ in pairs],
                y=[b for _, b in pairs],
                mode="markers",
                marker={"color": colour, "size": 9, "opacity": 0.75},
                showlegend=False,
                name=key,
            ),
            row=1,
            col=column,
        )
    fig.update_xaxes(title_text="change failure rate %", rangemode="tozero", row=1, col=1)
    fig.update_xaxes(title_text="MTTR median (minutes)", rangemode="tozero", row=1, col=2)
    fig.update_yaxes(title_text="trust index", range=[0, 100])
    fig.update_layout(
        template=TEMPLATE,
        height=380,
        margin={"t": 60, "r": 20, "l": 50, "b": 70},
        annotations=[
            *fig.layout.annotations,
            {
                "text": "Association, not causation: each point is one week.",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": -0.28,
                "font": {"color": MUTED},
            },
        ],
    )
    return fig


def sparkline_points(
    values: Sequence[float | None], *, width: int = 120, height: int = 28
) -> list[str]:
    """SVG polyline point lists (one per unbroken run) for values on 0-100; gaps break the line."""
    if not values:
        return []
    step = width / max(len(values) - 1, 1)
    runs: list[list[str]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        y = height - value / 100.0 * height
        runs[-1].append(f"{index * step:.1f},{y:.1f}")
    return [" ".join(run) for run in runs if run]
