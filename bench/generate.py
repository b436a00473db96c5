"""Seeded benchmark data at scale, bulk-loaded into a fresh SQLite file and PostgreSQL database.

Full size: 200 teams x 104 weekly rounds x 30 responses x 8 questions (about 5 M answers), plus
several deployments a week, incidents in some weeks, and anonymous comments. The same seed and
end week always give the same rows. The rows keep the anonymity model: responses and comments
have random UUID4 ids (drawn from the seeded generator) and no time finer than their round.

    python -m bench.generate                 # both backends, full size
    python -m bench.generate --quick         # 10 teams x 26 weeks, for CI smoke runs
    python -m bench.generate --backend sqlite

Bulk loading drops the secondary indexes of the big tables, writes the rows in primary-key
order (executemany on SQLite with journalling off; COPY on PostgreSQL with foreign-key
triggers off, which is safe because the generator only writes consistent rows), then rebuilds
the indexes and refreshes the planner statistics.
"""

import argparse
import gc
import hashlib
import json
import math
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import Engine, create_engine, insert, inspect

from app.db import normalise_url
from app.migrations import upgrade
from app.schema import metadata

OUT_DIR = Path(__file__).resolve().parent / "out"
SQLITE_PATH = OUT_DIR / "bench.db"
POSTGRES_ADMIN_URL = os.environ.get(
    "REDBUTTON_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
POSTGRES_DATABASE = "redbutton_bench"
ADMIN_EMAIL = "bench-admin@example.com"
TIMEZONES = ("UTC", "Europe/Paris", "Europe/London", "America/New_York", "Asia/Tokyo")
COMMENTS = (
    "The rollback on Tuesday was calm, thanks to whoever wrote the runbook.",
    "Friday deploys still feel risky to me.",
    "After the outage nobody pointed fingers. That helped.",
    "Our staging environment does not look like production at all.",
    "I would like to pair on the next release.",
    "Feature flags made this week much less scary.",
    "Too many manual steps in the release checklist.",
    "Good retro, concrete actions.",
)
BULK_TABLES = ("response", "answer", "comment")
BATCH_TEAMS = 20


@dataclass(frozen=True)
class Size:
    """How much data to generate."""

    teams: int
    weeks: int
    responses: int

    @property
    def answers(self) -> int:
        return self.teams * self.weeks * self.responses * 8


FULL = Size(teams=200, weeks=104, responses=30)
QUICK = Size(teams=10, weeks=26, responses=30)


@dataclass(frozen=True)
class Question:
    key: str
    reverse: bool


@dataclass(frozen=True)
class Survey:
    """The survey the generated rounds were answered with, as the app snapshots it."""

    survey_id: str
    version: int
    content: str
    content_hash: str
    questions: tuple[Question, ...]
    scale_min: int
    scale_max: int


@dataclass
class TeamFacts:
    """What the benchmark needs to know about a generated team."""

    id: int
    slug: str
    name: str
    size: int
    timezone: str
    pulse_link: str
    webhook_secret: str
    ingest_token: str


@dataclass
class Manifest:
    """What the generator wrote, for the scenarios: credentials, teams, ranges, counts."""

    backend: str
    database_url: str
    seed: int
    size: dict[str, int]
    first_week: str
    last_week: str
    api_token: str
    teams: list[TeamFacts]
    questions: list[dict[str, Any]]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def load_survey() -> Survey:
    """The release-pulse survey, snapshotted exactly as the app would snapshot it."""
    try:
        from app.pulses.surveys import load_surveys
    except ImportError:  # before the survey files landed: the same eight keys, unsnapshotted
        keys = (
            ("breaking_prod_changes_reputation", True),
            ("can_raise_problems", False),
            ("comfortable_shipping", False),
            ("failure_met_with_help", False),
            ("knows_what_to_do_when_broken", False),
            ("mistakes_become_learning", False),
            ("mistakes_held_against", True),
            ("trusts_rollback", False),
        )
        return Survey("release-pulse", 1, "{}", "0" * 64, tuple(Question(*k) for k in keys), 1, 5)

    surveys = load_surveys(Path(__file__).resolve().parent.parent / "surveys")
    survey = surveys["release-pulse"]
    return Survey(
        survey_id=survey.id,
        version=survey.version,
        content=survey.content_json(),
        content_hash=survey.content_hash(),
        questions=tuple(Question(q.key, q.reverse) for q in survey.questions),
        scale_min=survey.scale.min,
        scale_max=survey.scale.max,
    )


def _uuid(rng: random.Random) -> str:
    # A version-4 UUID from the seeded generator: random-looking and reproducible.
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _token(rng: random.Random, nbytes: int = 24) -> str:
    return rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _period(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _score_tables(points: Sequence[int]) -> list[list[float]]:
    """Cumulative weights over the scale for each latent mood in 0.1 steps."""
    tables = []
    for step in range(0, 61):
        mood = points[0] - 0.5 + step * (points[-1] - points[0] + 1) / 60
        weights = [math.exp(-((p - mood) ** 2) / 1.1) for p in points]
        total = 0.0
        cumulative = []
        for w in weights:
            total += w
            cumulative.append(total)
        tables.append(cumulative)
    return tables


class Generator:
    """Produces every row from one seeded random stream, team by team."""

    def __init__(self, *, seed: int, size: Size, survey: Survey, last_monday: date) -> None:
        self.seed = seed
        self.size = size
        self.survey = survey
        self.mondays = [last_monday - timedelta(weeks=n) for n in range(size.weeks - 1, -1, -1)]
        self.rng = random.Random(seed)
        self.points = list(range(survey.scale_min, survey.scale_max + 1))
        self.tables = _score_tables(self.points)
        self.teams: list[TeamFacts] = []
        self.rounds: list[dict[str, Any]] = []
        # (team index, week index) -> mood shift of that round, set by the delivery story.
        self.shift: dict[tuple[int, int], float] = {}
        self.baseline: list[float] = []

    def make_teams(self) -> list[dict[str, Any]]:
        rows = []
        for n in range(1, self.size.teams + 1):
            timezone = TIMEZONES[n % len(TIMEZONES)]
            facts = TeamFacts(
                id=n,
                slug=f"team-{n:03d}",
                name=f"Team {n:03d}",
                size=self.rng.randint(self.size.responses + 2, self.size.responses + 16),
                timezone=timezone,
                pulse_link=_token(self.rng),
                webhook_secret=_token(self.rng, 32),
                ingest_token=_token(self.rng, 32),
            )
            self.teams.append(facts)
            self.baseline.append(self.rng.uniform(2.6, 4.4))
            rows.append(
                {
                    "id": n,
                    "slug": facts.slug,
                    "name": facts.name,
                    "size": facts.size,
                    "timezone": timezone,
                    "survey_id": self.survey.survey_id,
                    "cadence": "weekly",
                    "ballots": "link",
                    "pulse_link": facts.pulse_link,
                    "ingest_token_hash": hashlib.sha256(facts.ingest_token.encode()).hexdigest(),
                    "webhook_secret": facts.webhook_secret,
                    "previous_webhook_secret": None,
                    "webhook_secret_rotated_at": None,
                    "production_environments": "production,prod",
                    "incident_link_window_hours": 24,
                    "created_at": _local_midnight(self.mondays[0], ZoneInfo("UTC")),
                }
            )
        return rows

    def make_rounds(self) -> list[dict[str, Any]]:
        round_id = 0
        for t, team in enumerate(self.teams):
            zone = ZoneInfo(team.timezone)
            for monday in self.mondays:
                round_id += 1
                self.rounds.append(
                    {
                        "id": round_id,
                        "team_id": team.id,
                        "period": _period(monday),
                        "starts_on": monday,
                        "ends_on": monday + timedelta(days=6),
                        "closes_at": _local_midnight(monday + timedelta(days=7), zone),
                        "survey_version_id": 1,
                        "closed_early_at": None,
                    }
                )
            del t
        return self.rounds

    def make_delivery(
        self,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """Deployments several times a week, incidents in some weeks, and their links."""
        deployments: list[dict[str, Any]] = []
        incidents: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        rng = self.rng
        last = len(self.mondays) - 1
        for t, team in enumerate(self.teams):
            zone = ZoneInfo(team.timezone)
            shift = 0.0
            for w, monday in enumerate(self.mondays):
                start = _local_midnight(monday, zone)
                week_deploys: list[dict[str, Any]] = []
                for _ in range(rng.randint(2, 9)):
                    finished = start + timedelta(seconds=rng.randint(3600 * 8, 3600 * 24 * 5))
                    environment = "production" if rng.random() < 0.9 else "staging"
                    row: dict[str, Any] = {
                        "id": len(deployments) + 1,
                        "team_id": team.id,
                        "external_id": f"deploy-{len(deployments) + 1}",
                        "environment": environment,
                        "status": "failure" if rng.random() < 0.07 else "success",
                        "started_at": finished - timedelta(seconds=rng.randint(60, 1800)),
                        "finished_at": finished,
                        "sha": _token(rng, 20),
                        "is_rollback": False,
                        "rolls_back": None,
                        "rolled_back": False,
                        "source": "api",
                        "created_at": finished,
                        "updated_at": finished,
                    }
                    deployments.append(row)
                    if environment == "production":
                        week_deploys.append(row)
                shift *= 0.6
                if week_deploys and rng.random() < 0.18:
                    culprit = rng.choice(week_deploys)
                    started = culprit["finished_at"] + timedelta(minutes=rng.randint(5, 600))
                    minutes = min(60 * 24 * 10, int(rng.lognormvariate(math.log(75), 1.2)) + 5)
                    still_open = w >= last - 1 and rng.random() < 0.3
                    incident_id = len(incidents) + 1
                    incidents.append(
                        {
                            "id": incident_id,
                            "team_id": team.id,
                            "external_id": f"inc-{incident_id}",
                            "started_at": started,
                            "resolved_at": None
                            if still_open
                            else started + timedelta(minutes=minutes),
                            "severity": rng.choice(("sev1", "sev2", "sev3")),
                            "title": "Production incident",
                            "deployment_external_id": None,
                            "sha": None,
                            "source": "api",
                            "created_at": started,
                            "updated_at": started,
                        }
                    )
                    # The latest production deployment before the start is the one blamed.
                    blamed = max(
                        (d for d in week_deploys if d["finished_at"] <= started),
                        key=lambda d: d["finished_at"],
                    )
                    links.append(
                        {
                            "incident_id": incident_id,
                            "deployment_id": blamed["id"],
                            "method": "inferred_window",
                            "created_at": started,
                        }
                    )
                    # A bad week makes the next rounds dip: the story the dashboard tells.
                    shift = -rng.uniform(0.3, 0.9)
                self.shift[(t, w)] = shift
        return deployments, incidents, links

    def survey_chunks(
        self,
    ) -> Iterator[tuple[list[tuple[str, int]], list[tuple[Any, ...]], list[tuple[str, int, str]]]]:
        """Responses, answers and comments, a batch of teams at a time, in primary-key order."""
        rng = self.rng
        questions = self.survey.questions
        top = self.survey.scale_min + self.survey.scale_max
        points = self.points
        tables = self.tables
        weeks = len(self.mondays)
        for first in range(0, len(self.teams), BATCH_TEAMS):
            drawn: list[tuple[str, int, list[int]]] = []
            comments: list[tuple[str, int, str]] = []
            for t in range(first, min(first + BATCH_TEAMS, len(self.teams))):
                for w in range(weeks):
                    round_id = t * weeks + w + 1
                    mood = self.baseline[t] + self.shift.get((t, w), 0.0)
                    for _ in range(self.size.responses):
                        person = mood + rng.gauss(0.0, 0.5)
                        level = min(60, max(0, int((person - points[0] + 0.5) * 60 / len(points))))
                        scores = rng.choices(points, cum_weights=tables[level], k=len(questions))
                        drawn.append((_uuid(rng), round_id, scores))
                    for _ in range(rng.randint(0, 3)):
                        comments.append((_uuid(rng), round_id, rng.choice(COMMENTS)))
            drawn.sort(key=lambda row: row[0])
            responses = [(rid, round_id) for rid, round_id, _ in drawn]
            answers = []
            for rid, round_id, scores in drawn:
                for question, score in sorted(
                    zip(questions, scores, strict=True), key=lambda pair: pair[0].key
                ):
                    value = top - score if question.reverse else score
                    answers.append((rid, question.key, round_id, value, score))
            comments.sort()
            yield responses, answers, comments


class Sink:
    """One database being filled."""

    backend: str
    url: str

    def fresh(self) -> None:
        raise NotImplementedError

    def begin_bulk(self) -> None:
        raise NotImplementedError

    def bulk(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def end_bulk(self) -> None:
        raise NotImplementedError

    def engine(self) -> Engine:
        return create_engine(normalise_url(self.url))


class SqliteSink(Sink):
    """A fresh SQLite file: executemany in big batches with journalling off, then indexes."""

    backend = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self.connection: sqlite3.Connection | None = None
        self.indexes: list[tuple[str, str]] = []

    def fresh(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def begin_bulk(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "foreign_keys=OFF",
            "locking_mode=EXCLUSIVE",
            "temp_store=MEMORY",
            "cache_size=-400000",
        ):
            connection.execute(f"PRAGMA {pragma}")
        marks = ",".join("?" * len(BULK_TABLES))
        self.indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})",
            BULK_TABLES,
        ).fetchall()
        for name, _ in self.indexes:
            connection.execute(f'DROP INDEX "{name}"')
        connection.execute("BEGIN")
        self.connection = connection

    def bulk(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        assert self.connection is not None
        marks = ",".join("?" * len(columns))
        self.connection.executemany(
            f'INSERT INTO "{table}" ({",".join(columns)}) VALUES ({marks})', rows
        )

    def end_bulk(self) -> None:
        connection = self.connection
        assert connection is not None
        for _, sql in self.indexes:
            connection.execute(sql)
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.close()
        self.connection = None


class PostgresSink(Sink):
    """A fresh PostgreSQL database: COPY with foreign-key triggers off, then indexes."""

    backend = "postgres"

    def __init__(self, admin_url: str, name: str) -> None:
        self.admin_url = admin_url
        self.name = name
        base, _, _ = admin_url.rpartition("/")
        self.url = f"{base}/{name}"
        self.connection: psycopg.Connection[Any] | None = None
        self.indexes: list[tuple[str, str]] = []

    def fresh(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.name}"')

    def begin_bulk(self) -> None:
        connection = psycopg.connect(self.url)
        # Foreign keys are enforced by triggers; the generator writes only consistent rows.
        connection.execute("SET session_replication_role = replica")
        connection.execute("SET maintenance_work_mem = '256MB'")
        self.indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            (list(BULK_TABLES),),
        ).fetchall()
        for name, _ in self.indexes:
            connection.execute(f'DROP INDEX "{name}"')
        self.connection = connection

    def bulk(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        assert self.connection is not None
        lines = "".join("\t".join(map(str, row)) + "\n" for row in rows)
        with self.connection.cursor() as cursor:
            with cursor.copy(f'COPY "{table}" ({",".join(columns)}) FROM STDIN') as copy:
                copy.write(lines.encode())

    def end_bulk(self) -> None:
        connection = self.connection
        assert connection is not None
        for _, sql in self.indexes:
            connection.execute(sql)
        connection.commit()
        connection.autocommit = True
        # Index-only scans need the visibility map that VACUUM writes.
        connection.execute("VACUUM ANALYZE")
        connection.close()
        self.connection = None

    def reset_sequences(self, tables: Iterable[str]) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            for table in tables:
                connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT max(id) FROM "{table}"))'
                )


def _insert_small(engine: Engine, table_name: str, rows: list[dict[str, Any]]) -> int:
    """Insert rows through SQLAlchemy (so dates and booleans are stored as the app stores them)."""
    if not rows:
        return 0
    table = metadata.tables[table_name]
    columns = {column.name for column in table.columns}
    missing = {
        c.name
        for c in table.columns
        if not c.nullable and c.default is None and c.server_default is None
    } - set(rows[0])
    if missing:
        raise SystemExit(f"generator: table {table_name} needs columns {sorted(missing)}")
    cleaned = [{k: v for k, v in row.items() if k in columns} for row in rows]
    with engine.begin() as connection:
        for start in range(0, len(cleaned), 20_000):
            connection.execute(insert(table), cleaned[start : start + 20_000])
    return len(rows)


def generate(
    *, sinks: Sequence[Sink], size: Size, seed: int, last_monday: date, log: bool = True
) -> list[Manifest]:
    """Fill every sink with the same rows; return what was written to each."""
    started = time.perf_counter()
    gc.disable()  # millions of small tuples: the cyclic collector only slows this down
    survey = load_survey()

    def say(message: str) -> None:
        if log:
            print(f"[generate {time.perf_counter() - started:6.1f}s] {message}", flush=True)

    for sink in sinks:
        sink.fresh()
        upgrade(sink.url)
    say("schemas migrated")
    generator = Generator(seed=seed, size=size, survey=survey, last_monday=last_monday)
    teams = generator.make_teams()
    rounds = generator.make_rounds()
    deployments, incidents, links = generator.make_delivery()
    token_rng = random.Random(seed + 1)
    api_token = _token(token_rng, 32)
    from app.auth.passwords import hash_password

    password_hash = hash_password(_token(token_rng))
    created = _local_midnight(generator.mondays[0], ZoneInfo("UTC"))
    small: list[tuple[str, list[dict[str, Any]]]] = [
        (
            "survey_version",
            [
                {
                    "id": 1,
                    "survey_id": survey.survey_id,
                    "version": survey.version,
                    "content_hash": survey.content_hash,
                    "content": survey.content,
                    "frozen_at": created,
                }
            ],
        ),
        ("team", teams),
        (
            "user_account",
            [
                {
                    "id": 1,
                    "email": ADMIN_EMAIL,
                    "password_hash": password_hash,
                    "role": "admin",
                    "is_active": True,
                    "created_at": created,
                }
            ],
        ),
        (
            "api_token",
            [
                {
                    "id": 1,
                    "user_id": 1,
                    "token_hash": hashlib.sha256(api_token.encode()).hexdigest(),
                    "created_at": created,
                    "revoked_at": None,
                }
            ],
        ),
        ("round", rounds),
    ]
    delivery = [("deployment", deployments), ("incident", incidents), ("incident_link", links)]
    counts: dict[str, int] = {}
    for sink in sinks:
        engine = sink.engine()
        present = set(inspect(engine).get_table_names())
        for name, rows in small:
            counts[name] = _insert_small(engine, name, rows)
        for name, rows in delivery:
            # The delivery tables exist once that domain's migration has landed.
            counts[name] = _insert_small(engine, name, rows) if name in present else 0
        engine.dispose()
        say(f"{sink.backend}: teams, rounds, users and delivery rows written")
    for sink in sinks:
        sink.begin_bulk()
    counts.update(response=0, answer=0, comment=0)
    for responses, answers, comments in generator.survey_chunks():
        for sink in sinks:
            sink.bulk("response", ("id", "round_id"), responses)
            sink.bulk(
                "answer", ("response_id", "question_key", "round_id", "value", "score"), answers
            )
            sink.bulk("comment", ("id", "round_id", "body"), comments)
        counts["response"] += len(responses)
        counts["answer"] += len(answers)
        counts["comment"] += len(comments)
        say(f"{counts['answer']:,} answers written")
    for sink in sinks:
        sink.end_bulk()
        if isinstance(sink, PostgresSink):
            sink.reset_sequences(
                name
                for name, _ in small + delivery
                if name
                in (
                    "team",
                    "round",
                    "user_account",
                    "api_token",
                    "survey_version",
                    "deployment",
                    "incident",
                )
                and counts.get(name)
            )
        say(f"{sink.backend}: indexes rebuilt, statistics refreshed")
    gc.enable()
    seconds = time.perf_counter() - started
    manifests = []
    for sink in sinks:
        manifest = Manifest(
            backend=sink.backend,
            database_url=sink.url,
            seed=seed,
            size=asdict(size),
            first_week=generator.mondays[0].isoformat(),
            last_week=generator.mondays[-1].isoformat(),
            api_token=api_token,
            teams=generator.teams,
            questions=[asdict(q) for q in survey.questions],
            counts=dict(counts),
            seconds=round(seconds, 1),
        )
        manifest_path(sink.backend).write_text(json.dumps(asdict(manifest), default=str, indent=1))
        manifests.append(manifest)
    say("done")
    return manifests


def manifest_path(backend: str) -> Path:
    """Where the manifest of a generated backend is written."""
    return OUT_DIR / f"manifest-{backend}.json"


def read_manifest(backend: str) -> Manifest:
    """The manifest the last generation wrote for this backend."""
    raw = json.loads(manifest_path(backend).read_text())
    raw["teams"] = [TeamFacts(**team) for team in raw["teams"]]
    return Manifest(**raw)


def make_sinks(backends: Iterable[str]) -> list[Sink]:
    """The databases to fill, by backend name."""
    sinks: list[Sink] = []
    for backend in backends:
        if backend == "sqlite":
            sinks.append(SqliteSink(SQLITE_PATH))
        elif backend == "postgres":
            sinks.append(PostgresSink(POSTGRES_ADMIN_URL, POSTGRES_DATABASE))
        else:
            raise SystemExit(f"unknown backend {backend!r}: use sqlite, postgres or both")
    return sinks


def default_last_monday() -> date:
    """The Monday of last week: every generated round is closed, this week's is left open."""
    return _monday(datetime.now(UTC).date()) - timedelta(weeks=1)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="both", choices=("sqlite", "postgres", "both"))
    parser.add_argument("--quick", action="store_true", help="10 teams x 26 weeks")
    parser.add_argument("--teams", type=int)
    parser.add_argument("--weeks", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--last-week",
        type=date.fromisoformat,
        help="Monday of the last generated week (default: last week's Monday)",
    )
    return parser.parse_args(argv)


def size_from(args: argparse.Namespace) -> Size:
    base = QUICK if args.quick else FULL
    return Size(
        teams=args.teams or base.teams, weeks=args.weeks or base.weeks, responses=base.responses
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    last_monday = _monday(args.last_week) if args.last_week else default_last_monday()
    generate(
        sinks=make_sinks(backends), size=size_from(args), seed=args.seed, last_monday=last_monday
    )


if __name__ == "__main__":
    main()
