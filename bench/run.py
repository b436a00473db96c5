"""Run the benchmark: generate the data, start the real server, measure each scenario against
its limit in the same run, and write bench/RESULTS.md.

    python -m bench.run            # full size, SQLite and PostgreSQL (make bench)
    python -m bench.run --quick    # small data and short bursts (make bench-quick)
    python -m bench.run --reuse    # skip generation, use the databases already in bench/out
"""

import argparse
import hashlib
import hmac
import json
import os
import platform
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from app.migrations import upgrade
from bench import generate, limits, load
from bench.server import Server

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
QUICK_RESULTS = BENCH_DIR / "out" / "RESULTS-quick.md"
BACKEND_TITLES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
NOT_AVAILABLE = "not available yet"


@dataclass(frozen=True)
class Plan:
    """How long and how often each scenario runs."""

    samples: int
    org_samples: int
    concurrency: int
    burst_seconds: float
    health_seconds: float
    webhook_seconds: float


FULL_PLAN = Plan(
    samples=40,
    org_samples=12,
    concurrency=64,
    burst_seconds=30,
    health_seconds=10,
    webhook_seconds=10,
)
QUICK_PLAN = Plan(
    samples=10, org_samples=4, concurrency=64, burst_seconds=4, health_seconds=3, webhook_seconds=3
)


@dataclass
class Row:
    """One line of a results table."""

    scenario: str
    measure: str
    app: str
    limit: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""


@dataclass
class BackendResults:
    backend: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def p95(values: Sequence[float]) -> float:
    return load.percentile(list(values), 95)


def ms(values: Sequence[float]) -> str:
    return f"{median(values):.1f} / {p95(values):.1f} ms"


def skipped(scenario: str, why: str) -> Row:
    return Row(scenario, "-", "-", "-", None, "-", None, f"skipped: {why}")


def server_ms(response: httpx.Response) -> float:
    """The app's own time from its Server-Timing header."""
    header = response.headers.get("server-timing", "")
    for part in header.split(","):
        name, _, rest = part.strip().partition(";")
        if name == "app" and rest.startswith("dur="):
            return float(rest.removeprefix("dur="))
    raise RuntimeError("the server sent no Server-Timing header")


def route_missing(response: httpx.Response) -> bool:
    """FastAPI answers an unknown path with 404 'Not Found' (a known team never does)."""
    return response.status_code in (404, 405) and response.text in (
        '{"detail":"Not Found"}',
        '{"detail":"Method Not Allowed"}',
    )


def forget_summaries(connection: limits.Connection) -> None:
    """Delete the stored summaries of closed rounds: the app fills them again as pages ask.

    The generator never writes them, and each run starts without them, so that the cold first
    requests below measure the same work whether or not the data was reused.
    """
    for table in ("round_histogram", "round_summary"):
        connection.execute(f"DELETE FROM {table}")


@dataclass(frozen=True)
class Cold:
    """The first request after the server started, before any summary existed."""

    server_ms: float
    client_ms: float

    def note(self) -> str:
        return (
            f"cold first request (fresh server, no stored summaries): {self.server_ms:.0f} ms "
            f"server, {self.client_ms:.0f} ms client"
        )


class Context:
    """What every scenario of one backend needs."""

    def __init__(self, manifest: generate.Manifest, server: Server, plan: Plan) -> None:
        self.manifest = manifest
        self.server = server
        self.plan = plan
        self.client = httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {manifest.api_token}"},
            timeout=120,
        )
        self.connection = limits.Connection.open(manifest.database_url)
        self.first = date.fromisoformat(manifest.first_week)
        self.last = date.fromisoformat(manifest.last_week)
        self.mondays = [
            self.first + timedelta(weeks=n) for n in range((self.last - self.first).days // 7 + 1)
        ]
        self.health: load.LoadResult | None = None

    def close(self) -> None:
        self.client.close()
        self.connection.close()

    def cold_request(self, path: str, params: dict[str, str] | None = None) -> Cold:
        """Restart the server without summaries, and time its first request."""
        self.server.stop()
        forget_summaries(self.connection)
        self.server.start()
        started = time.perf_counter()
        response = self.client.get(path, params=params)
        client_ms = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        return Cold(server_ms=server_ms(response), client_ms=client_ms)


def _close(a: Any, b: Any, tolerance: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a == b)
    return abs(float(a) - float(b)) <= tolerance * max(1.0, abs(float(a)))


def compare_trends(api: list[dict[str, Any]], limit: list[dict[str, Any]]) -> list[str]:
    """Where the app's weeks and the limit's weeks disagree (empty when they agree)."""
    problems = []
    if len(api) != len(limit):
        return [f"{len(api)} weeks from the app, {len(limit)} from the limit"]
    for mine, theirs in zip(api, limit, strict=True):
        for key, value in theirs.items():
            if key == "week_start":
                continue
            # t quantiles may come from different approximations: 0.01 points is the same.
            tolerance = 1e-4 if key.startswith("trust_ci") else 1e-6
            if key in mine and not _close(mine[key], value, tolerance):
                problems.append(f"{theirs['week_start']} {key}: app {mine[key]} limit {value}")
    return problems


def scenario_trends(ctx: Context) -> list[Row]:
    """GET /trends over every generated week, against one hand-written statement."""
    teams = ctx.manifest.teams
    path = "/api/v1/teams/{slug}/trends"
    query = {"from": ctx.first.isoformat(), "to": (ctx.last + timedelta(days=6)).isoformat()}
    probe = ctx.client.get(path.format(slug=teams[0].slug), params=query)
    if route_missing(probe):
        return [skipped("team trends", f"{path} {NOT_AVAILABLE}")]
    probe.raise_for_status()
    now = datetime.now(UTC)
    min_responses = int(probe.json()["min_responses"])
    scale = (1, 5)  # the release-pulse scale the generator answered with

    def limit_for(team: generate.TeamFacts) -> list[dict[str, Any]]:
        return limits.team_trends(
            ctx.connection,
            team_id=team.id,
            timezone=team.timezone,
            size=team.size,
            mondays=ctx.mondays,
            now=now,
            min_responses=min_responses,
            scale=scale,
        )

    cold = ctx.cold_request(path.format(slug=teams[0].slug), query)
    problems = compare_trends(probe.json()["weeks"], limit_for(teams[0]))
    sampled = [teams[(n * 7) % len(teams)] for n in range(ctx.plan.samples)]
    # Steady state: every closed round was asked for once since it closed (then summarised).
    for team in sampled:
        ctx.client.get(path.format(slug=team.slug), params=query).raise_for_status()
    app_server: list[float] = []
    app_client: list[float] = []
    limit_times: list[float] = []
    for n, team in enumerate(sampled):
        started = time.perf_counter()
        response = ctx.client.get(path.format(slug=team.slug), params=query)
        app_client.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        app_server.append(server_ms(response))
        started = time.perf_counter()
        figures = limit_for(team)
        limit_times.append((time.perf_counter() - started) * 1000)
        if n < 3:
            problems += compare_trends(response.json()["weeks"], figures)
    ratio = median(app_server) / median(limit_times)
    weeks = len(ctx.mondays)
    met = ratio <= 1.5
    target = "ratio <= 1.5"
    if ctx.manifest.backend == "sqlite":
        met = met and p95(app_server) <= 50
        target += ", p95 <= 50 ms"
    note = f"{weeks} weeks; client-side {ms(app_client)}"
    note += "; figures match the limit" if not problems else f"; MISMATCH: {problems[:3]}"
    note += f"; measured after one unmeasured request per sampled team; {cold.note()}"
    return [
        Row("team trends", "server time", ms(app_server), ms(limit_times), ratio, target, met, note)
    ]


def scenario_org(ctx: Context) -> list[Row]:
    """GET /api/v1/org/trends (every team, the last 12 weeks) against the hand-written roll-up."""
    path = "/api/v1/org/trends"
    probe = ctx.client.get(path)
    if route_missing(probe):
        return [skipped("org roll-up", f"{path} {NOT_AVAILABLE}")]
    probe.raise_for_status()
    min_responses = int(probe.json()["min_responses"])

    def limit() -> tuple[dict[int, tuple[str, float, int]], list[dict[str, Any]]]:
        now = datetime.now(UTC)
        today = now.date() - timedelta(days=now.weekday())
        mondays = [today - timedelta(weeks=n) for n in range(11, -1, -1)]
        return limits.org_rollup(
            ctx.connection, mondays=mondays, now=now, min_responses=min_responses, scale=(1, 5)
        )

    cold = ctx.cold_request(path)
    latest, weeks = limit()
    problems = compare_trends(probe.json()["weeks"], weeks)
    slug_ids = {team.slug: team.id for team in ctx.manifest.teams}
    for team in probe.json()["teams"]:
        mine = latest.get(slug_ids[team["slug"]])
        if mine is None or not _close(team["trust_index"], mine[1]):
            problems.append(f"{team['slug']}: app {team['trust_index']} limit {mine}")
    app_server: list[float] = []
    limit_times: list[float] = []
    for _ in range(ctx.plan.org_samples):
        response = ctx.client.get(path)
        response.raise_for_status()
        app_server.append(server_ms(response))
        started = time.perf_counter()
        limit()
        limit_times.append((time.perf_counter() - started) * 1000)
    ratio = median(app_server) / median(limit_times)
    note = f"{len(ctx.manifest.teams)} teams x 12 weeks"
    note += "; figures match the limit" if not problems else f"; MISMATCH: {problems[:3]}"
    note += f"; {cold.note()}"
    return [
        Row(
            "org roll-up",
            "server time",
            ms(app_server),
            ms(limit_times),
            ratio,
            "ratio <= 1.5",
            ratio <= 1.5,
            note,
        )
    ]


def _health(ctx: Context) -> load.LoadResult:
    if ctx.health is None:
        server = ctx.server
        raw = load.request_bytes("GET", "/healthz", host=f"{server.host}:{server.port}")
        ctx.health = load.hammer(
            server.host,
            server.port,
            lambda _: raw,
            concurrency=ctx.plan.concurrency,
            seconds=ctx.plan.health_seconds,
        )
    return ctx.health


def _throughput_rows(
    scenario: str,
    ctx: Context,
    result: load.LoadResult,
    *,
    ok: set[int],
    cpu: float,
    extra_note: str = "",
) -> list[Row]:
    health = _health(ctx)
    ratio = result.per_second / health.per_second
    errors = result.errors(ok)
    p99 = result.percentile(99)
    met = ratio >= 0.5 and errors == 0
    target = ">= 0.5 of /healthz, 0 errors"
    if scenario == "submission burst":
        met = met and p99 <= 100
        target += ", p99 <= 100 ms"
    note = (
        f"concurrency {ctx.plan.concurrency}, {result.requests} requests in "
        f"{result.seconds:.0f} s, {errors} errors, p99 {p99:.1f} ms "
        f"(/healthz p99 {health.percentile(99):.1f} ms), server CPU {cpu:.0%} of a core"
    )
    if errors:
        note += f", statuses {dict(result.statuses)}, {result.failures} client time-outs/resets"
    return [
        Row(
            scenario,
            "requests/s",
            f"{result.per_second:.0f}/s ({result.percentile(50):.1f} / "
            f"{result.percentile(95):.1f} ms)",
            f"{health.per_second:.0f}/s ({health.percentile(50):.1f} / "
            f"{health.percentile(95):.1f} ms)",
            ratio,
            target,
            met,
            note + extra_note,
        )
    ]


def _timed_load(
    ctx: Context, make: Callable[[int], bytes], seconds: float
) -> tuple[load.LoadResult, float]:
    server = ctx.server
    cpu_before = server.cpu_seconds()
    result = load.hammer(
        server.host, server.port, make, concurrency=ctx.plan.concurrency, seconds=seconds
    )
    cpu = (server.cpu_seconds() - cpu_before) / result.seconds
    return result, cpu


def _current_responses(ctx: Context, monday: date) -> int:
    """Responses stored in rounds starting on or after this Monday (only the burst adds them)."""
    rows = ctx.connection.rows(
        "SELECT COUNT(*) FROM response WHERE round_id IN "
        "(SELECT id FROM round WHERE starts_on >= ?)",
        [monday.isoformat()],
    )
    return int(rows[0][0])


def scenario_burst(ctx: Context) -> list[Row]:
    """The whole company answers at once: POST responses vs GET /healthz, same concurrency."""
    server = ctx.server
    teams = ctx.manifest.teams
    keys = [q["key"] for q in ctx.manifest.questions]
    probe = httpx.post(
        f"{server.base_url}/api/v1/pulse/{teams[0].pulse_link}/responses",
        json={"answers": dict.fromkeys(keys, 4)},
    )
    if route_missing(probe):
        return [
            skipped("submission burst", f"POST /api/v1/pulse/{{link}}/responses {NOT_AVAILABLE}")
        ]
    if probe.status_code != 201:
        return [skipped("submission burst", f"probe answered {probe.status_code}: {probe.text}")]
    before = _current_responses(ctx, ctx.last + timedelta(weeks=1))
    host = f"{server.host}:{server.port}"
    bodies = []
    for n in range(64):
        answers = {key: 1 + (n * 7 + i * 3) % 5 for i, key in enumerate(keys)}
        payload: dict[str, Any] = {"answers": answers}
        if n % 4 == 0:
            payload["comment"] = "Rollbacks felt calm this week."
        bodies.append(json.dumps(payload).encode())
    requests = [
        [
            load.request_bytes(
                "POST",
                f"/api/v1/pulse/{team.pulse_link}/responses",
                host=host,
                body=body,
                headers={"Content-Type": "application/json"},
            )
            for body in bodies
        ]
        for team in teams
    ]

    def make(n: int) -> bytes:
        return requests[n % len(teams)][(n // len(teams)) % len(bodies)]

    result, cpu = _timed_load(ctx, make, ctx.plan.burst_seconds)
    stored = _current_responses(ctx, ctx.last + timedelta(weeks=1)) - before
    acknowledged = result.statuses.get(201, 0)
    note = f"; {acknowledged} acknowledged, {stored} stored"
    rows = _throughput_rows("submission burst", ctx, result, ok={201}, cpu=cpu, extra_note=note)
    # Every acknowledged response must be stored; a request the client gave up on may be too.
    if not acknowledged <= stored <= acknowledged + result.failures:
        rows[0].met = False
        rows[0].note += " (LOST OR EXTRA RESPONSES)"
    return rows


def _github_body(n: int, finished: datetime) -> bytes:
    stamp = finished.strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {
            "action": "created",
            "deployment_status": {
                "state": "success" if n % 10 else "failure",
                "environment": "production",
                "created_at": stamp,
                "updated_at": stamp,
            },
            "deployment": {
                "id": 900_000_000 + n,
                "sha": hashlib.sha1(str(n).encode()).hexdigest(),
                "environment": "production",
                "created_at": stamp,
            },
        }
    ).encode()


def scenario_webhook(ctx: Context) -> list[Row]:
    """Signed GitHub deployment_status deliveries vs GET /healthz."""
    server = ctx.server
    teams = ctx.manifest.teams
    host = f"{server.host}:{server.port}"
    finished = datetime.now(UTC).replace(microsecond=0)

    def delivery(n: int) -> bytes:
        team = teams[n % len(teams)]
        body = _github_body(n, finished)
        signature = hmac.new(team.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return load.request_bytes(
            "POST",
            f"/api/v1/hooks/github/{team.slug}",
            host=host,
            body=body,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "deployment_status",
                "X-GitHub-Delivery": str(uuid.UUID(int=n + 1)),
                "X-Hub-Signature-256": f"sha256={signature}",
            },
        )

    probe = httpx.post(
        f"{server.base_url}/api/v1/hooks/github/{teams[0].slug}",
        content=b"{}",
        headers={"X-GitHub-Event": "ping"},
    )
    if route_missing(probe):
        return [skipped("webhook ingest", f"POST /api/v1/hooks/github/{{slug}} {NOT_AVAILABLE}")]
    # Pre-build the requests so signing costs the client nothing during the run.
    prepared = [delivery(n) for n in range(60_000)]
    result, cpu = _timed_load(ctx, lambda n: prepared[n % len(prepared)], ctx.plan.webhook_seconds)
    return _throughput_rows("webhook ingest", ctx, result, ok={200, 201, 202}, cpu=cpu)


def scenario_export(ctx: Context) -> list[Row]:
    """CSV and JSON exports of 13 and of all weeks: time, and the server's peak memory."""
    team = ctx.manifest.teams[0]
    path = f"/api/v1/teams/{team.slug}/export"
    end = (ctx.last + timedelta(days=6)).isoformat()
    probe = ctx.client.get(path, params={"format": "csv", "from": ctx.last.isoformat(), "to": end})
    if route_missing(probe):
        return [skipped("export", f"{path.replace(team.slug, '{slug}')} {NOT_AVAILABLE}")]
    rows = []
    for fmt in ("csv", "json"):
        measured: dict[int, tuple[float, float, int]] = {}
        for weeks in (13, len(ctx.mondays)):
            start = (ctx.last - timedelta(weeks=weeks - 1)).isoformat()
            baseline = ctx.server.rss_mb()
            ctx.server.reset_peak()
            started = time.perf_counter()
            response = ctx.client.get(path, params={"format": fmt, "from": start, "to": end})
            seconds = time.perf_counter() - started
            response.raise_for_status()
            measured[weeks] = (
                seconds * 1000,
                ctx.server.peak_mb() - baseline,
                len(response.content),
            )
        short, long = measured[13], measured[len(ctx.mondays)]
        weeks = len(ctx.mondays)
        growth = long[1] - short[1]
        rows.append(
            Row(
                f"export {fmt}",
                "peak RSS growth",
                f"{weeks} wk: {long[0]:.0f} ms, +{long[1]:.1f} MB, {long[2] / 1e6:.1f} MB out",
                f"13 wk: {short[0]:.0f} ms, +{short[1]:.1f} MB, {short[2] / 1e6:.1f} MB out",
                None,
                "peak does not grow with range (<= +5 MB)",
                growth <= 5,
                f"peak grows {growth:+.1f} MB from 13 to {len(ctx.mondays)} weeks",
            )
        )
    return rows


SCENARIOS = (scenario_trends, scenario_org, scenario_export, scenario_webhook, scenario_burst)


def run_backend(manifest: generate.Manifest, plan: Plan) -> BackendResults:
    """Every scenario against one server on one backend."""
    results = BackendResults(manifest.backend)
    upgrade(manifest.database_url)  # reused data may predate the latest migration
    connection = limits.Connection.open(manifest.database_url)
    try:
        forget_summaries(connection)
    finally:
        connection.close()
    with Server(manifest.database_url) as server:
        ctx = Context(manifest, server, plan)
        try:
            for scenario in SCENARIOS:
                started = time.perf_counter()
                try:
                    rows = scenario(ctx)
                except Exception as exc:  # one broken scenario must not hide the others
                    rows = [
                        Row(scenario.__name__, "-", "-", "-", None, "-", False, f"FAILED: {exc!r}")
                    ]
                results.rows += rows
                print(
                    f"[bench] {manifest.backend} {scenario.__name__}: "
                    f"{time.perf_counter() - started:.1f}s",
                    flush=True,
                )
            results.notes.append(f"server RSS at the end: {server.rss_mb():.0f} MB")
        finally:
            ctx.close()
    return results


def machine_facts(backends: Sequence[str]) -> list[tuple[str, str]]:
    """CPU, cores, memory and the versions that matter."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    facts = [
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("RAM", f"{memory_kb / 1024 / 1024:.1f} GiB"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
    ]
    if "postgres" in backends:
        with psycopg.connect(generate.POSTGRES_ADMIN_URL) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            facts.append(("PostgreSQL", str(row[0]) if row else "unknown"))
    return facts


def render(
    *,
    results: Sequence[BackendResults],
    manifests: Sequence[generate.Manifest],
    facts: Sequence[tuple[str, str]],
    started: datetime,
    seconds: float,
    loads: tuple[tuple[float, ...], tuple[float, ...]],
    generation_seconds: float | None,
    quick: bool,
) -> str:
    """The Markdown results."""
    m = manifests[0]
    size = m.size
    lines = [
        "# Benchmark results" + (" (quick size)" if quick else ""),
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC with `make bench{'-quick' if quick else ''}`, "
        f"{seconds / 60:.1f} minutes end to end.",
        f"Data: {size['teams']} teams x {size['weeks']} weeks x {size['responses']} responses x "
        f"8 questions = {m.counts.get('answer', 0):,} answers, "
        f"{m.counts.get('response', 0):,} responses, {m.counts.get('comment', 0):,} comments, "
        f"{m.counts.get('deployment', 0):,} deployments, {m.counts.get('incident', 0):,} "
        f"incidents (seed {m.seed}, weeks {m.first_week} to {m.last_week}).",
    ]
    if generation_seconds is not None:
        lines.append(f"Generating and bulk-loading both databases took {generation_seconds:.0f} s.")
    lines += [
        "",
        "Each scenario runs against one real `redbutton serve` process (one worker) on the "
        "generated database, and against its limit measured in the same run. Times are "
        "median / p95. Server time comes from the app's `Server-Timing` header; limits run "
        "the hand-written SQL through the plain database driver from the benchmark process.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value} |" for name, value in facts]
    lines += [
        f"| load average before / after | {' '.join(f'{x:.2f}' for x in loads[0])} / "
        f"{' '.join(f'{x:.2f}' for x in loads[1])} |",
        "",
        "The machine is shared: other processes were running during the run, so absolute "
        "figures are noisy; the ratios compare app and limit under the same conditions.",
    ]
    for backend in results:
        lines += [
            "",
            f"## {BACKEND_TITLES[backend.backend]}",
            "",
            "| scenario | measure | app | limit | ratio | target | met | notes |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in backend.rows:
            ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
            met = {True: "yes", False: "**no**", None: "-"}[row.met]
            lines.append(
                f"| {row.scenario} | {row.measure} | {row.app} | {row.limit} | {ratio} | "
                f"{row.target} | {met} | {row.note} |"
            )
        if backend.notes:
            lines += ["", *[f"- {note}" for note in backend.notes]]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the Redbutton benchmark.")
    parser.add_argument("--quick", action="store_true", help="small data, short bursts")
    parser.add_argument("--backend", default="both", choices=("sqlite", "postgres", "both"))
    parser.add_argument("--reuse", action="store_true", help="do not regenerate the data")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, help="where to write the Markdown")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    load_before = os.getloadavg()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    generation_seconds = None
    if args.reuse:
        manifests = [generate.read_manifest(backend) for backend in backends]
    else:
        size = generate.QUICK if args.quick else generate.FULL
        manifests = generate.generate(
            sinks=generate.make_sinks(backends),
            size=size,
            seed=args.seed,
            last_monday=generate.default_last_monday(),
        )
        generation_seconds = time.perf_counter() - started
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    results = [run_backend(manifest, plan) for manifest in manifests]
    text = render(
        results=results,
        manifests=manifests,
        facts=machine_facts(backends),
        started=started_at,
        seconds=time.perf_counter() - started,
        loads=(load_before, os.getloadavg()),
        generation_seconds=generation_seconds,
        quick=args.quick,
    )
    output = args.output or (QUICK_RESULTS if args.quick else RESULTS)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)
    print(f"[bench] written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
