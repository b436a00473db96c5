"""Query plans of the SQL the app really runs for its hot requests, on both backends.

Each hot request (team trends over every generated week, the org roll-up, an export) is sent to
an in-process app on the generated database while every statement is recorded; each recorded
SELECT is then explained with its own parameters. A statement that reads a big table from end
to end (SQLite `SCAN <table>`, PostgreSQL `Seq Scan on <table>`) is reported as a failure: at
5 M answers a missing index costs seconds, not milliseconds.

    python -m bench.plans              # both backends, needs `python -m bench.generate` first
    python -m bench.plans --backend sqlite
"""

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from app.config import Settings
from app.main import create_app
from bench import generate

PLANS = Path(__file__).resolve().parent / "PLANS.md"
# Tables that grow with teams x weeks: reading one whole is never acceptable on a request.
BIG_TABLES = (
    "answer",
    "response",
    "comment",
    "round",
    "round_summary",
    "round_histogram",
    "deployment",
    "incident",
    "incident_link",
)
_SQLITE_SCAN = re.compile(r"\bSCAN (\w+)")
_POSTGRES_SCAN = re.compile(r"Seq Scan on (\w+)")


@dataclass
class Statement:
    sql: str
    parameters: Any
    plan: list[str] = field(default_factory=list)
    full_scans: list[str] = field(default_factory=list)


@dataclass
class Request:
    name: str
    path: str
    params: dict[str, str]
    statements: list[Statement] = field(default_factory=list)


def hot_requests(manifest: generate.Manifest) -> list[Request]:
    """The requests whose SQL must stay on indexes."""
    from datetime import date

    slug = manifest.teams[0].slug
    last = date.fromisoformat(manifest.last_week)
    span = {"from": manifest.first_week, "to": (last + timedelta(days=6)).isoformat()}
    return [
        Request("team trends (all weeks)", f"/api/v1/teams/{slug}/trends", span),
        Request("org roll-up (12 weeks, every team)", "/api/v1/org/trends", {}),
        Request(
            "export csv (all weeks)", f"/api/v1/teams/{slug}/export", {**span, "format": "csv"}
        ),
    ]


def capture(manifest: generate.Manifest) -> list[Request]:
    """Send each hot request in-process and record the statements it ran."""
    settings = Settings(
        environment="production",
        secret_key="benchmark-secret-key-0123456789-abcdefghijkl",
        database_url=manifest.database_url,
    )
    app = create_app(settings)
    engine = app.state.engine
    current: list[Statement] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        current.append(Statement(sql, parameters))

    requests = hot_requests(manifest)
    with TestClient(app) as client:
        for request in requests:
            current.clear()
            response = client.get(
                request.path,
                params=request.params,
                headers={"Authorization": f"Bearer {manifest.api_token}"},
            )
            if response.status_code == 404 and response.json() == {"detail": "Not Found"}:
                request.statements = []
                request.name += " - not available yet"
                continue
            response.raise_for_status()
            request.statements = [
                s for s in current if s.sql.lstrip().upper().startswith(("SELECT", "WITH"))
            ]
        explain(engine, requests, dialect=engine.dialect.name)
    return requests


def explain(engine: Any, requests: Sequence[Request], *, dialect: str) -> None:
    """Fill each statement's plan and the big tables it scans whole."""
    with engine.connect() as connection:
        for request in requests:
            for statement in request.statements:
                if dialect == "sqlite":
                    rows = connection.exec_driver_sql(
                        "EXPLAIN QUERY PLAN " + statement.sql, statement.parameters
                    ).all()
                    statement.plan = [f"{row[0]:>3} {row[1]:>3}  {row[3]}" for row in rows]
                    scans = [
                        m.group(1) for line in statement.plan for m in _SQLITE_SCAN.finditer(line)
                    ]
                else:
                    rows = connection.exec_driver_sql(
                        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement.sql,
                        statement.parameters,
                    ).all()
                    statement.plan = [row[0] for row in rows]
                    scans = [
                        m.group(1) for line in statement.plan for m in _POSTGRES_SCAN.finditer(line)
                    ]
                statement.full_scans = [table for table in scans if table in BIG_TABLES]


def render(results: dict[str, list[Request]]) -> str:
    """Markdown: per backend and request, each statement and its plan."""
    lines = [
        "# Query plans of the hot requests",
        "",
        "Written by `make bench-plans` on the generated databases (see RESULTS.md for the size).",
        "A full read of a table that grows with teams x weeks "
        f"({', '.join(BIG_TABLES)}) fails the check.",
    ]
    for backend, requests in results.items():
        lines += ["", f"## {backend}"]
        for request in requests:
            verdict = "ok" if not any(s.full_scans for s in request.statements) else "FULL SCAN"
            lines += [
                "",
                f"### {request.name}: {len(request.statements)} SELECT statements, {verdict}",
            ]
            for n, statement in enumerate(request.statements, 1):
                sql = " ".join(statement.sql.split())
                if len(sql) > 600:
                    sql = sql[:600] + " …"
                lines += ["", f"{n}. `{sql}`", "", "```", *statement.plan, "```"]
                if statement.full_scans:
                    lines.append(f"**full scan of {', '.join(statement.full_scans)}**")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Explain the SQL of the hot requests.")
    parser.add_argument("--backend", default="both", choices=("sqlite", "postgres", "both"))
    parser.add_argument("--output", type=Path, default=PLANS)
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    results = {}
    for backend in backends:
        results[backend] = capture(generate.read_manifest(backend))
    text = render(results)
    args.output.write_text(text)
    failures = [
        f"{backend}: {request.name}: statement {n} scans {', '.join(s.full_scans)}"
        for backend, requests in results.items()
        for request in requests
        for n, s in enumerate(request.statements, 1)
        if s.full_scans
    ]
    for backend, requests in results.items():
        for request in requests:
            print(f"{backend:9} {request.name}: {len(request.statements)} statements")
    print("\n".join(failures) or "every hot statement uses an index")
    print(f"written to {args.output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
