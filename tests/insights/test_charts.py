"""The dashboard figures, checked on their data: gaps stay gaps, sides and labels are right."""

import json
from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import pytest

from app.insights import charts
from app.insights.charts import Distribution, WeekRow
from app.insights.correlation import ranks, spearman
from app.insights.dashboard import figure_json

MONDAY = date(2026, 9, 7)


def _week(n: int, **fields: object) -> WeekRow:
    monday = MONDAY + timedelta(weeks=n)
    year, week, _ = monday.isocalendar()
    return WeekRow(week=f"{year}-W{week:02d}", week_start=monday, **fields)  # type: ignore[arg-type]


WEEKS = [
    _week(0, responses=6, trust_index=70.0, trust_ci_low=60.0, trust_ci_high=80.0,
          deployments=4, failed_deployments=1, change_failure_rate=0.25, mttr_minutes=45.0,
          incidents=1),
    _week(1, responses=3, suppressed=True, more_needed=2, deployments=2, failed_deployments=0,
          change_failure_rate=0.0, incidents=0),
    _week(2, responses=7, trust_index=55.0, trust_ci_low=45.0, trust_ci_high=65.0,
          deployments=5, failed_deployments=2, change_failure_rate=0.4, mttr_minutes=120.0,
          incidents=2),
    _week(3, responses=2, open=True, suppressed=True, more_needed=3, deployments=0,
          failed_deployments=0, incidents=0),
]  # fmt: skip


def _trace(fig: go.Figure, name: str) -> Any:
    [found] = [t for t in fig.data if t.name == name]
    return found


def test_trust_has_gaps_not_zeros_where_nothing_may_be_shown() -> None:
    fig = charts.trust_and_delivery(WEEKS)
    assert list(_trace(fig, "Trust index").y) == [70.0, None, 55.0, None]
    assert list(_trace(fig, "95% interval").y) == [60.0, None, 45.0, None]
    assert _trace(fig, "Trust index").connectgaps is False
    labels = {a.text for a in fig.layout.annotations}
    assert {"2 more responses needed", "round still open"} <= labels


def test_deployments_stack_failed_on_top_with_cfr_and_mttr_on_the_same_axis() -> None:
    fig = charts.trust_and_delivery(WEEKS)
    assert list(_trace(fig, "Deployments (ok)").y) == [3, 2, 3, 0]
    assert list(_trace(fig, "Failed").y) == [1, 0, 2, 0]
    assert list(_trace(fig, "Change failure rate %").y) == [25.0, 0.0, 40.0, None]
    assert list(_trace(fig, "MTTR median (min)").y) == [45.0, None, 120.0, None]
    assert fig.layout.barmode == "stack"
    incidents = _trace(fig, "Incidents")
    assert list(incidents.x) == [WEEKS[0].week, WEEKS[2].week]
    # One shared time axis: every subplot's x axis follows the bottom one.
    assert fig.layout.xaxis.matches == "x3" and fig.layout.xaxis2.matches == "x3"


def test_heatmap_leaves_hidden_cells_blank() -> None:
    fig = charts.question_heatmap(
        weeks=["2026-W37", "2026-W38"],
        questions=["ship_friday", "rollback_calm"],
        means={("ship_friday", "2026-W37"): 3.5, ("rollback_calm", "2026-W37"): 4.0},
    )
    assert [list(row) for row in fig.data[0].z] == [[3.5, None], [4.0, None]]


def test_diverging_bars_put_unfavorable_left_and_split_neutral() -> None:
    fig = charts.diverging_distribution(
        questions=[Distribution(label="q", counts={1: 1, 2: 1, 3: 2, 4: 4, 5: 2})],
        points=[1, 2, 3, 4, 5],
        labels=["SD", "D", "N", "A", "SA"],
    )
    shares = {(t.name, t.x[0] < 0): t.x[0] for t in fig.data}
    assert shares[("SD", True)] == pytest.approx(-10.0)
    assert shares[("D", True)] == pytest.approx(-10.0)
    assert shares[("N", True)] == pytest.approx(-10.0) and shares[("N", False)] == 10.0
    assert shares[("A", False)] == pytest.approx(40.0)
    assert shares[("SA", False)] == pytest.approx(20.0)
    assert fig.layout.barmode == "relative"


def test_scatter_reports_spearman_and_n_and_says_association_not_causation() -> None:
    fig = charts.trust_vs_delivery(WEEKS)
    titles = " ".join(a.text for a in fig.layout.annotations)
    # Two weeks with both figures: too few for a rank correlation, and n says so.
    assert "n = 2" in titles
    assert "Association, not causation" in titles
    cfr = fig.data[0]
    assert list(cfr.x) == [25.0, 40.0] and list(cfr.y) == [70.0, 55.0]


def test_spearman_by_hand() -> None:
    assert spearman([(1, 10), (2, 20), (3, 30), (4, 40)]).rho == pytest.approx(1.0)
    assert spearman([(1, 4), (2, 3), (3, 2), (4, 1)]).rho == pytest.approx(-1.0)
    # Ranks x 1..5, y 2,1,4,3,5: d² = 1+1+1+1+0 = 4, rho = 1 - 6*4/(5*24) = 0.8.
    assert spearman([(1, 2), (2, 1), (3, 4), (4, 3), (5, 5)]).rho == pytest.approx(0.8)
    assert spearman([(1, 1), (2, 2)]).rho is None
    assert spearman([(1, 5), (2, 5), (3, 5)]).rho is None
    assert ranks([10, 20, 20, 30]) == [1.0, 2.5, 2.5, 4.0]


def test_sparkline_breaks_at_gaps() -> None:
    runs = charts.sparkline_points([0.0, 100.0, None, 50.0, 50.0], width=120, height=28)
    assert runs == ["0.0,28.0 30.0,0.0", "90.0,14.0 120.0,14.0"]


def test_figure_json_cannot_close_its_script_element() -> None:
    fig = charts.question_heatmap(weeks=["w"], questions=["</script><b>"], means={})
    text = str(figure_json(fig))
    assert "</script>" not in text and "<b>" not in text
    assert json.loads(text)["data"][0]["y"] == ["</script><b>"]


def test_the_rolling_mean_is_drawn_only_when_there_is_one() -> None:
    assert "4-week rolling mean" not in {t.name for t in charts.trust_and_delivery(WEEKS).data}
    rolled = [WEEKS[0], WEEKS[1], WEEKS[2]]
    rolled = [
        WeekRow(**{**vars(w), "trust_rolling": value})
        for w, value in zip(rolled, [70.0, 70.0, 61.0], strict=True)
    ]
    fig = charts.trust_and_delivery(rolled)
    assert list(_trace(fig, "4-week rolling mean").y) == [70.0, 70.0, 61.0]
