"""The three export formats, written as text pieces a chunk of weeks at a time.

Each writer is a generator: the HTTP route hands it to a StreamingResponse and the CLI writes
it to a file, so no export is ever held whole in memory.
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from app.delivery.dora import DORA_CAUTION
from app.exports import service
from app.exports.service import DeploymentEvent, ExportPlan, IncidentEvent
from app.exports.spreadsheet import Cell, cell
from app.insights.trends import TrendsWeek

# The /trends week fields in the order of DESIGN.md §7, then the two it grew since
# (open, more_needed); a test keeps this list equal to the API's fields.
TREND_COLUMNS = (
    "week",
    "week_start",
    "responses",
    "response_rate",
    "suppressed",
    "trust_index",
    "trust_ci_low",
    "trust_ci_high",
    "favorable_pct",
    "deployments",
    "failed_deployments",
    "change_failure_rate",
    "mttr_minutes",
    "mttr_p90_minutes",
    "incidents",
    "open_incidents",
    "open",
    "more_needed",
)
QUESTION_COLUMNS = (
    "week",
    "week_start",
    "period",
    "responses",
    "question",
    "text",
    "answers",
    "mean",
    "favorable_pct",
)


def render(*, session: Session, plan: ExportPlan) -> Iterator[str]:
    """The export of this plan, piece by piece."""
    service.begin_snapshot(session)
    if plan.format == "csv":
        yield from (
            questions_csv(session=session, plan=plan)
            if plan.questions
            else trends_csv(session=session, plan=plan)
        )
    elif plan.format == "json":
        yield from json_export(session=session, plan=plan)
    else:
        yield from markdown_brief(session=session, plan=plan)


class _CsvChunks:
    """A csv writer over a buffer that is emptied each time a chunk is taken."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def row(self, values: list[Cell]) -> None:
        self._writer.writerow([cell(v) for v in values])

    def take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


def trends_csv(*, session: Session, plan: ExportPlan) -> Iterator[str]:
    """One row per week with the /trends fields, after a header row."""
    out = _CsvChunks()
    out.row(list(TREND_COLUMNS))
    for index, week in enumerate(service.week_rows(session=session, plan=plan), start=1):
        values = week.model_dump()
        out.row([values[name] for name in TREND_COLUMNS])
        if index % service.CHUNK_WEEKS == 0:
            yield out.take()
    yield out.take()


def questions_csv(*, session: Session, plan: ExportPlan) -> Iterator[str]:
    """One row per week and question of eligible rounds: mean, favorable % and counts per point."""
    points = service.scale_points(session=session, plan=plan)
    out = _CsvChunks()
    out.row([*QUESTION_COLUMNS, *(f"count_{point}" for point in points)])
    yield out.take()
    for found in service.question_rounds(session=session, plan=plan):
        for q in found.questions:
            out.row(
                [
                    found.week,
                    found.week_start,
                    found.round.period,
                    found.round.responses,
                    q.key,
                    q.text,
                    q.answers,
                    q.mean,
                    q.favorable_pct,
                    # A point outside this round's scale is left empty, not counted as 0.
                    *(q.counts.get(point) for point in points),
                ]
            )
        yield out.take()


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _dumps(value: object) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _deployment(event: DeploymentEvent) -> dict[str, Any]:
    return {
        "week": event.week,
        "external_id": event.external_id,
        "environment": event.environment,
        "status": event.status,
        "failed": event.failed,
        "started_at": event.started_at,
        "finished_at": event.finished_at,
        "sha": event.sha,
        "is_rollback": event.is_rollback,
        "rolls_back": event.rolls_back,
        "rolled_back": event.rolled_back,
        "linked_to_incident": event.linked_to_incident,
    }


def _incident(event: IncidentEvent) -> dict[str, Any]:
    return {
        "week": event.week,
        "external_id": event.external_id,
        "title": event.title,
        "severity": event.severity,
        "started_at": event.started_at,
        "resolved_at": event.resolved_at,
        "open": event.open,
        "duration_minutes": event.duration_minutes,
        "deployment": event.deployment,
        "link_method": event.link_method,
    }


def _array(items: Iterator[Any]) -> Iterator[str]:
    yield "["
    for index, item in enumerate(items):
        yield ("," if index else "") + "\n  " + _dumps(item)
    yield "\n]"


def json_export(*, session: Session, plan: ExportPlan) -> Iterator[str]:
    """One JSON object; its arrays are written item by item."""
    head = {
        "schema_version": service.SCHEMA_VERSION,
        "team": {"slug": plan.team.slug, "name": plan.team.name, "timezone": plan.team.timezone},
        "from": plan.start,
        "to": plan.end,
        "generated_at": plan.now,
        "min_responses": plan.min_responses,
        "definitions": service.definitions(plan),
    }
    yield _dumps(head)[:-1]
    sections: list[tuple[str, Iterator[Any]]] = [
        (
            "weeks",
            (w.model_dump(mode="json") for w in service.week_rows(session=session, plan=plan)),
        ),
        (
            "questions",
            (
                {
                    "week": found.week,
                    "week_start": found.week_start,
                    "period": found.round.period,
                    "responses": found.round.responses,
                    "questions": [
                        {
                            "key": q.key,
                            "text": q.text,
                            "answers": q.answers,
                            "mean": q.mean,
                            "favorable_pct": q.favorable_pct,
                            "counts": {str(point): n for point, n in q.counts.items()},
                        }
                        for q in found.questions
                    ],
                }
                for found in service.question_rounds(session=session, plan=plan)
            ),
        ),
        (
            "comments",
            (vars(found) for found in service.comment_rounds(session=session, plan=plan)),
        ),
        (
            "deployments",
            (_deployment(e) for e in service.deployment_events(session=session, plan=plan)),
        ),
        ("incidents", (_incident(e) for e in service.incident_events(session=session, plan=plan))),
    ]
    for name, items in sections:
        yield f', "{name}": '
        yield from _array(items)
    yield "}\n"


# Every line starts with our own "- " or "| ", so only inline syntax needs escaping.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md_text(text: str) -> str:
    """Free text on one line, with every Markdown and HTML character escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _num(value: float | None, pattern: str = "{:.0f}") -> str:
    return "—" if value is None else pattern.format(value)


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.0f}%"


def _minutes(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.0f} min"
    return f"{value / 60:.1f} h"


def _change(
    first: TrendsWeek | None,
    last: TrendsWeek | None,
    field: str,
    fmt: str,
    change: str,
    scale: float = 1,
) -> list[str]:
    """First and last week with this figure, and the change between them."""
    if first is None or last is None:
        return ["—", "—", "—"]
    before, after = scale * getattr(first, field), scale * getattr(last, field)
    if first.week == last.week:
        return [f"{fmt.format(after)} ({last.week})", "—", "one week only"]
    return [
        f"{fmt.format(before)} ({first.week})",
        f"{fmt.format(after)} ({last.week})",
        change.format(after - before),
    ]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def markdown_brief(*, session: Session, plan: ExportPlan) -> Iterator[str]:
    """A retro brief: headline figures and their change, movers, events, comments, caveats."""
    summary = service.range_summary(session=session, plan=plan)
    movers, lowest = service.movers_and_lowest(session=session, summary=summary)
    yield (
        f"# Retro brief: {md_text(plan.team.name)}\n\n"
        f"Range: {plan.start} to {plan.end} ({summary.weeks} weeks, "
        f"{plan.mondays[0]} to {plan.mondays[-1]} by week start)  \n"
        f"Scores only from rounds that closed with at least {plan.min_responses} responses.\n\n"
    )
    yield "## Headline\n\n" + _table(
        ["Figure", "First", "Last", "Change"],
        [
            [
                "Trust index (0-100)",
                *_change(
                    summary.first_trust, summary.last_trust, "trust_index", "{:.1f}", "{:+.1f}"
                ),
            ],
            [
                "Favorable %",
                *_change(
                    summary.first_trust,
                    summary.last_trust,
                    "favorable_pct",
                    "{:.1f}%",
                    "{:+.1f} points",
                ),
            ],
            [
                "Change failure rate",
                *_change(
                    summary.first_cfr,
                    summary.last_cfr,
                    "change_failure_rate",
                    "{:.0f}%",
                    "{:+.0f} points",
                    scale=100,
                ),
            ],
            [
                "MTTR median (min)",
                *_change(
                    summary.first_mttr, summary.last_mttr, "mttr_minutes", "{:.0f}", "{:+.0f}"
                ),
            ],
        ],
    )
    yield (
        f"\nIn range: {summary.deployments} production deployments, "
        f"{summary.failed_deployments} failed; incidents started: {summary.incidents}; "
        f"pulse responses: {summary.responses}.\n\n"
    )

    yield "## Biggest movers\n\n"
    if movers:
        assert summary.first_round is not None and summary.last_round is not None
        yield (
            f"Mean score per question, {summary.first_round.period} to "
            f"{summary.last_round.period} (after reverse scoring: higher is better).\n\n"
        )
        yield _table(
            ["Question", "Before", "After", "Change"],
            [
                [md_text(m.text), f"{m.before:.2f}", f"{m.after:.2f}", f"{m.change:+.2f}"]
                for m in movers[:3]
            ],
        )
    else:
        yield "Fewer than two rounds in range reached the threshold: nothing to compare.\n"

    yield "\n## Lowest items\n\n"
    if lowest:
        assert summary.last_round is not None
        yield f"Latest round that reached the threshold: {summary.last_round.period}.\n\n"
        yield _table(
            ["Question", "Mean", "Favorable"],
            [[md_text(q.text), f"{q.mean:.2f}", f"{q.favorable_pct:.0f}%"] for q in lowest[:3]],
        )
    else:
        yield "No round in range reached the threshold.\n"

    yield "\n## Week by week\n\n"
    yield "| Week | n | Trust | Deployments | Failed | CFR | MTTR | Incidents |\n"
    yield "|---|---|---|---|---|---|---|---|\n"
    for week in service.week_rows(session=session, plan=plan):
        if week.open:
            trust = "open"
        elif week.suppressed:
            trust = f"suppressed ({week.more_needed} more needed)"
        else:
            trust = _num(week.trust_index)
        n = "—" if week.responses is None else str(week.responses)
        yield (
            f"| {week.week} | {n} | {trust} | {week.deployments} | {week.failed_deployments} "
            f"| {_pct(week.change_failure_rate)} | {_minutes(week.mttr_minutes)} "
            f"| {week.incidents} |\n"
        )

    yield "\n## Delivery events\n\n### Failed deployments\n\n"
    failed = 0
    for event in service.deployment_events(session=session, plan=plan):
        if event.failed:
            failed += 1
            reasons = [
                reason
                for reason, applies in (
                    ("status failure", event.status == "failure"),
                    ("rolled back", event.rolled_back),
                    ("linked to an incident", event.linked_to_incident),
                )
                if applies
            ]
            yield (
                f"- {event.week}: {md_text(event.external_id)} "
                f"({event.finished_at:%Y-%m-%d %H:%M} UTC; {', '.join(reasons)})\n"
            )
    if not failed:
        yield "None.\n"
    yield "\n### Incidents\n\n"
    incidents = 0
    for incident in service.incident_events(session=session, plan=plan):
        incidents += 1
        title = md_text(incident.title) if incident.title else "untitled"
        duration = "still open" if incident.open else _minutes(incident.duration_minutes)
        link = (
            f"; linked to {md_text(incident.deployment)} ({incident.link_method})"
            if incident.deployment
            else ""
        )
        severity = f", {md_text(incident.severity)}" if incident.severity else ""
        yield (
            f"- {incident.week}: {md_text(incident.external_id)} — {title}{severity}: "
            f"{duration}{link}\n"
        )
    if not incidents:
        yield "None.\n"

    yield "\n## Comments\n\nFrom rounds that reached the threshold, in a random order.\n"
    shown = 0
    for found in service.comment_rounds(session=session, plan=plan):
        shown += 1
        yield f"\n### {found.period}\n\n"
        yield "".join(f"- {md_text(body)}\n" for body in found.comments)
    if not shown:
        yield "\nNo comments in range.\n"

    yield "\n## Caveats\n\n"
    suppressed = ", ".join(summary.suppressed) or "none"
    still_open = ", ".join(summary.open) or "none"
    yield (
        f"- Suppressed weeks (below {plan.min_responses} responses): {suppressed}. "
        "Their scores and comments are left out of every figure here.\n"
        f"- Open rounds (scores hidden until they close): {still_open}.\n"
        "- n per week is in the week-by-week table; small n means wide uncertainty.\n"
        "- Trust and delivery figures side by side show association, not causation.\n"
        f"- {DORA_CAUTION}\n"
    )
