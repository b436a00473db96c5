"""The limits: one hand-written SQL query per figure set, run straight on the database driver.

A limit is the least work any implementation must do to produce the same figures from the same
rows: one round trip, every aggregate in SQL, a few lines of Python to finish (rescaling, the
t-interval, medians of a handful of durations). The scenario divides the app's server time by
the limit's time, and checks that both give the same numbers.
"""

import math
import sqlite3
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

# Two-sided 95% t quantiles for small degrees of freedom; 1.96 beyond the table.
_T95 = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
]  # fmt: skip


def t95(df: int) -> float:
    """The 0.975 quantile of Student's t with df degrees of freedom (table, then approximated)."""
    if df <= len(_T95):
        return _T95[df - 1]
    # Cornish-Fisher expansion around the normal quantile: within 1e-3 for df > 30.
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Connection:
    """A driver connection and the dialect its SQL is written in."""

    raw: Any
    dialect: str  # sqlite | postgres

    @classmethod
    def open(cls, url: str) -> "Connection":
        if url.startswith("sqlite"):
            raw = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            return cls(raw, "sqlite")
        return cls(psycopg.connect(url, autocommit=True), "postgres")

    def rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self.dialect == "postgres":
            sql = sql.replace("?", "%s")
        return list(self.raw.execute(sql, params).fetchall())

    def execute(self, sql: str) -> None:
        """Run a statement that returns no rows (the connection is in autocommit mode)."""
        self.raw.execute(sql)

    def instant(self, value: datetime) -> Any:
        """A UTC instant as the app stores it (SQLite: naive text with microseconds)."""
        if self.dialect == "sqlite":
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def close(self) -> None:
        self.raw.close()


def _minutes(dialect: str, start: str, end: str) -> str:
    if dialect == "sqlite":
        return f"(julianday({end}) - julianday({start})) * 1440.0"
    return f"EXTRACT(EPOCH FROM ({end} - {start})) / 60.0"


def _list_agg(dialect: str, expression: str) -> str:
    if dialect == "sqlite":
        return f"group_concat({expression}, ',')"
    return f"string_agg(({expression})::text, ',')"


def _true(dialect: str, column: str) -> str:
    return f"{column} = 1" if dialect == "sqlite" else column


def trends_sql(dialect: str, weeks: int) -> str:
    """One statement: a team's survey and delivery figures for each of `weeks` weeks."""
    cast = "" if dialect == "sqlite" else "::date"
    ts = "" if dialect == "sqlite" else "::timestamptz"
    week_rows = ", ".join(
        [f"(?, ?{cast}, ?{ts}, ?{ts}, ?{ts})"] * weeks
    )  # index, monday, start, end, open-incident cut-off
    return f"""
WITH weeks(i, monday, ws, we, cutoff) AS (VALUES {week_rows}),
rounds AS (
  SELECT r.id, r.starts_on, r.closes_at, r.closed_early_at FROM round r
  WHERE r.team_id = ? AND r.starts_on >= ? AND r.starts_on <= ?
),
responses AS (
  SELECT round_id, COUNT(*) AS n FROM response
  WHERE round_id IN (SELECT id FROM rounds) GROUP BY round_id
),
per_response AS (
  SELECT round_id, AVG(score * 1.0) AS m,
         SUM(CASE WHEN score >= ? THEN 1 ELSE 0 END) AS fav, COUNT(*) AS answers
  FROM answer WHERE round_id IN (SELECT id FROM rounds) GROUP BY round_id, response_id
),
trust AS (
  SELECT round_id, COUNT(*) AS n, AVG(m) AS mean, SUM(m * m) AS ss,
         SUM(fav) AS fav, SUM(answers) AS answers
  FROM per_response GROUP BY round_id
),
deploys AS (
  SELECT w.i, COUNT(*) AS n,
         SUM(CASE WHEN d.status = 'failure' OR {_true(dialect, "d.rolled_back")}
                  OR EXISTS (SELECT 1 FROM incident_link l WHERE l.deployment_id = d.id)
             THEN 1 ELSE 0 END) AS failed
  FROM deployment d JOIN weeks w ON d.finished_at >= w.ws AND d.finished_at < w.we
  WHERE d.team_id = ? AND lower(d.environment) IN ('production', 'prod')
    AND d.status IN ('success', 'failure')
  GROUP BY w.i
),
started AS (
  SELECT w.i, COUNT(*) AS n
  FROM incident x JOIN weeks w ON x.started_at >= w.ws AND x.started_at < w.we
  WHERE x.team_id = ? GROUP BY w.i
),
restored AS (
  SELECT w.i, {_list_agg(dialect, _minutes(dialect, "x.started_at", "x.resolved_at"))} AS minutes
  FROM incident x JOIN weeks w ON x.resolved_at >= w.ws AND x.resolved_at < w.we
  WHERE x.team_id = ? AND x.started_at IS NOT NULL GROUP BY w.i
),
still_open AS (
  SELECT w.i, COUNT(*) AS n
  FROM weeks w JOIN incident x ON x.team_id = ? AND x.started_at < w.cutoff
   AND (x.resolved_at IS NULL OR x.resolved_at > w.cutoff)
  GROUP BY w.i
)
SELECT w.i, r.closes_at, r.closed_early_at, COALESCE(p.n, 0), t.n, t.mean, t.ss, t.fav,
       t.answers, COALESCE(d.n, 0), COALESCE(d.failed, 0), COALESCE(s.n, 0), rs.minutes,
       COALESCE(o.n, 0)
FROM weeks w
LEFT JOIN rounds r ON r.starts_on = w.monday
LEFT JOIN responses p ON p.round_id = r.id
LEFT JOIN trust t ON t.round_id = r.id
LEFT JOIN deploys d ON d.i = w.i
LEFT JOIN started s ON s.i = w.i
LEFT JOIN restored rs ON rs.i = w.i
LEFT JOIN still_open o ON o.i = w.i
ORDER BY w.i
"""


def _quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def team_trends(
    connection: Connection,
    *,
    team_id: int,
    timezone: str,
    size: int,
    mondays: Sequence[date],
    now: datetime,
    min_responses: int,
    scale: tuple[int, int],
) -> list[dict[str, Any]]:
    """The /trends figures of one team, from one statement."""
    zone = ZoneInfo(timezone)
    params: list[Any] = []
    for index, monday in enumerate(mondays):
        start = datetime.combine(monday, time.min, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=zone).astimezone(UTC)
        cutoff = min(end, now)
        params += [index, monday.isoformat(), *map(connection.instant, (start, end, cutoff))]
    low, high = scale
    params += [team_id, mondays[0].isoformat(), mondays[-1].isoformat(), high - 1]
    params += [team_id] * 4
    rows = connection.rows(trends_sql(connection.dialect, len(mondays)), params)
    weeks = []
    for (
        index,
        closes_at,
        closed_early_at,
        responses,
        n,
        mean,
        ss,
        fav,
        answers,
        deployments,
        failed,
        incidents,
        minutes,
        still_open,
    ) in rows:
        monday = mondays[index]
        week: dict[str, Any] = {
            "week_start": monday.isoformat(),
            "responses": responses,
            "response_rate": responses / size,
            "trust_index": None,
            "favorable_pct": None,
            "trust_ci_low": None,
            "trust_ci_high": None,
        }
        closed = closes_at is not None and (_aware(closes_at) <= now or closed_early_at is not None)
        week["suppressed"] = closes_at is not None and closed and responses < min_responses
        if closed and n and responses >= min_responses:
            mean, ss = float(mean), float(ss)
            variance = max((ss - n * mean * mean) / (n - 1), 0.0) if n > 1 else 0.0
            rescale = 100.0 / (high - low)
            week["trust_index"] = (mean - low) * rescale
            if n > 1:
                half = t95(n - 1) * math.sqrt(variance / n)
                week["trust_ci_low"] = max(0.0, (mean - half - low) * rescale)
                week["trust_ci_high"] = min(100.0, (mean + half - low) * rescale)
            week["favorable_pct"] = 100.0 * float(fav) / float(answers)
        durations = sorted(float(v) for v in minutes.split(",")) if minutes else []
        week.update(
            deployments=int(deployments),
            failed_deployments=int(failed),
            change_failure_rate=int(failed) / int(deployments) if deployments else None,
            mttr_minutes=statistics.median(durations) if durations else None,
            mttr_p90_minutes=_quantile(durations, 0.9) if durations else None,
            incidents=int(incidents),
            open_incidents=int(still_open),
        )
        weeks.append(week)
    return weeks


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


ORG_SQL = """
WITH rounds AS (
  SELECT id, team_id, period, starts_on, closes_at, closed_early_at FROM round
  WHERE starts_on >= ? AND starts_on <= ?
),
counts AS (
  SELECT round_id, COUNT(*) AS n FROM response
  WHERE round_id IN (SELECT id FROM rounds) GROUP BY round_id
),
per_response AS (
  SELECT round_id, AVG(score * 1.0) AS m FROM answer
  WHERE round_id IN (SELECT id FROM rounds WHERE closes_at <= ? OR closed_early_at IS NOT NULL)
  GROUP BY round_id, response_id
),
trust AS (SELECT round_id, AVG(m) AS mean FROM per_response GROUP BY round_id)
SELECT r.team_id, r.period, r.starts_on, COALESCE(c.n, 0), t.mean
FROM rounds r LEFT JOIN counts c ON c.round_id = r.id LEFT JOIN trust t ON t.round_id = r.id
ORDER BY r.starts_on, r.team_id
"""


def org_rollup(
    connection: Connection,
    *,
    mondays: Sequence[date],
    now: datetime,
    min_responses: int,
    scale: tuple[int, int],
) -> tuple[dict[int, tuple[str, float, int]], list[dict[str, Any]]]:
    """Every team's latest eligible round, and the weekly trust pooled over eligible rounds."""
    low, high = scale
    rows = connection.rows(
        ORG_SQL,
        [
            (mondays[0] - timedelta(days=6)).isoformat(),
            (mondays[-1] + timedelta(days=6)).isoformat(),
            connection.instant(now),
        ],
    )
    latest: dict[int, tuple[str, float, int]] = {}
    pooled: dict[date, list[tuple[float, int]]] = {}
    seen: dict[date, int] = {}
    for team_id, period, starts_on, responses, mean in rows:
        start = starts_on if isinstance(starts_on, date) else date.fromisoformat(starts_on)
        monday = start - timedelta(days=start.weekday())
        seen[monday] = seen.get(monday, 0) + 1
        if mean is None or responses < min_responses:
            continue
        index = (float(mean) - low) * 100.0 / (high - low)
        latest[team_id] = (period, index, responses)
        pooled.setdefault(monday, []).append((index, responses))
    weeks = []
    for monday in mondays:
        eligible = pooled.get(monday, [])
        total = sum(n for _, n in eligible)
        weeks.append(
            {
                "week_start": monday.isoformat(),
                "teams_included": len(eligible),
                "teams_excluded": seen.get(monday, 0) - len(eligible),
                "responses": total,
                "trust_index": sum(i * n for i, n in eligible) / total if total else None,
            }
        )
    return latest, weeks
