"""Summaries of closed rounds: computed once from the answers, stored, and read instead of them.

No answer is accepted once a round is closed, so a closed round's aggregates never change. The
first page that needs the scores of a round closed at least SETTLE_MARGIN ago computes them from
the answers (the same aggregation as for any other round) and stores them; later pages read the
stored rows. Rounds closed more recently, and open ones, are always computed from the answers,
and never stored (invariant 4: nothing of an open round is kept).

Each table is filled by the figures that need it: round_summary (trust index, favorable %) by
`round_figures`, which every page, roll-up and export asks for; round_histogram (per-question
figures) by `question_figures`, which only a team's dashboard, questions API and export need.

A manager closing a round early stores nothing either: that round is inside the margin then, and
a submission that passed its open check a moment before may still be committing. Its first view
after the margin stores it like any other.

Storing is an optimisation: when it cannot be done (the write lock is busy, the database is
read-only), a warning is logged and the computed figures are served all the same.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Integer,
    cast,
    func,
    literal,
    null,
    union_all,
)
from sqlalchemy import select as sql_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from app.clock import utcnow
from app.db import SQLITE_BUSY_TIMEOUT_MS, WRITE_OPTION, writer
from app.insights.models import RoundHistogram, RoundSummary
from app.pulses.models import Answer
from app.write_queue import write_queue

log = logging.getLogger("redbutton.insights.summaries")

# A submission checks that its round is open, then commits a few milliseconds later; instances
# behind a load balancer may also disagree on the time by a few seconds. A round is summarised
# only once it has been closed for longer than all of that, by a wide margin.
SETTLE_MARGIN = timedelta(minutes=5)
# A page waits this long at most for SQLite's write lock, then serves what it computed.
STORE_LOCK_TIMEOUT_MS = 500


@dataclass(frozen=True)
class Summary:
    """A round's aggregates: the per-response means (trust index) and the answer counts."""

    responses: int
    sum_of_means: float
    sum_of_squared_means: float
    answers: int
    favorable_answers: int


# (round, question key, score after reverse scoring, answers)
HistogramRow = tuple[int, str, int, int]


def settled(*, closes_at: datetime, closed_early_at: datetime | None, now: datetime) -> bool:
    """Closed for longer than SETTLE_MARGIN, by the caller's clock and by the real one."""
    closed_at = closes_at if closed_early_at is None else min(closes_at, closed_early_at)
    # A caller may ask for figures "as of" a later time; only the real clock says it is over.
    return closed_at <= min(now, utcnow()) - SETTLE_MARGIN


def compute(
    *, session: Session, round_ids: Sequence[int], favorable_from: Mapping[int, int]
) -> dict[int, Summary]:
    """These rounds' aggregates, from their answers, in one statement.

    `favorable_from` gives each round's lowest favorable score. A round without answers has no
    summary (and so no scores), as when its figures are computed for display.
    """
    if not round_ids:
        return {}
    ids = sorted(round_ids)
    # A response's mean is its score total over its answer count. Totals are summed as integers
    # in SQL and divided here, exactly: floating-point sums of the means would depend on the
    # order the database happens to add them in, which changes with the rounds asked for.
    per_response = (
        select(
            Answer.round_id,
            func.sum(Answer.score).label("total"),
            func.count().label("answers"),
        )
        .where(col(Answer.round_id).in_(ids))
        .group_by(col(Answer.round_id), col(Answer.response_id))
        .subquery()
    )
    total = per_response.c.total
    # Both aggregates in one round trip, told apart by which column is NULL:
    # (round, answers per response, NULL, responses, sum of totals, sum of squared totals) and
    # (round, NULL, score, answers, NULL, NULL). Answers per response are one value per survey
    # version, so a round has one trust row.
    trust = sql_select(
        per_response.c.round_id,
        per_response.c.answers,
        cast(null(), Integer).label("score"),
        func.count().label("n"),
        func.sum(total).label("totals"),
        func.sum(total * total).label("squared_totals"),
    ).group_by(per_response.c.round_id, per_response.c.answers)
    by_score = (
        sql_select(
            col(Answer.round_id),
            cast(null(), Integer),
            col(Answer.score),
            func.count(),
            cast(null(), Integer),
            cast(null(), Integer),
        )
        .where(col(Answer.round_id).in_(ids))
        .group_by(col(Answer.round_id), col(Answer.score))
    )
    responses: dict[int, int] = defaultdict(int)
    sum_of_means: dict[int, Fraction] = defaultdict(Fraction)
    sum_of_squared_means: dict[int, Fraction] = defaultdict(Fraction)
    answers: dict[int, int] = defaultdict(int)
    favorable: dict[int, int] = defaultdict(int)
    for round_id, per_response_answers, score, n, totals, squared_totals in session.execute(
        union_all(trust, by_score)
    ).all():
        if score is None:
            q = int(per_response_answers)
            responses[round_id] += int(n)
            sum_of_means[round_id] += Fraction(int(totals), q)
            sum_of_squared_means[round_id] += Fraction(int(squared_totals), q * q)
        else:
            answers[round_id] += int(n)
            if score >= favorable_from[round_id]:
                favorable[round_id] += int(n)
    return {
        int(round_id): Summary(
            responses=n,
            sum_of_means=float(sum_of_means[round_id]),
            sum_of_squared_means=float(sum_of_squared_means[round_id]),
            answers=answers[round_id],
            favorable_answers=favorable[round_id],
        )
        for round_id, n in responses.items()
    }


def store(*, session: Session, summaries: Mapping[int, Summary]) -> bool:
    """Keep these settled rounds' summaries; False (and a warning) when they cannot be stored."""
    rows = [{"round_id": round_id, **vars(summaries[round_id])} for round_id in sorted(summaries)]
    return _store(session=session, model=RoundSummary, rows=rows)


def histograms(
    *, session: Session, round_ids: Iterable[int], settled_ids: Iterable[int]
) -> list[HistogramRow]:
    """(round, question, score, answers) of these closed rounds, in one statement.

    Rounds with stored histograms give those; the others are counted from their answers, and
    the counts of those in `settled_ids` are stored for the next page.
    """
    ids = sorted(set(round_ids))
    if not ids:
        return []
    has_histogram = select(RoundHistogram.round_id).where(col(RoundHistogram.round_id).in_(ids))
    stored = sql_select(
        col(RoundHistogram.round_id),
        col(RoundHistogram.question_key),
        col(RoundHistogram.score),
        col(RoundHistogram.answers),
        literal(True).label("stored"),
    ).where(col(RoundHistogram.round_id).in_(ids))
    counted = (
        sql_select(
            col(Answer.round_id),
            col(Answer.question_key),
            col(Answer.score),
            func.count(),
            literal(False),
        )
        .where(col(Answer.round_id).in_(ids), col(Answer.round_id).not_in(has_histogram))
        .group_by(col(Answer.round_id), col(Answer.question_key), col(Answer.score))
    )
    rows: list[HistogramRow] = []
    to_store: list[HistogramRow] = []
    settled_set = set(settled_ids)
    for round_id, key, score, answers, was_stored in session.execute(
        union_all(stored, counted)
    ).all():
        row = (int(round_id), str(key), int(score), int(answers))
        rows.append(row)
        if not was_stored and row[0] in settled_set:
            to_store.append(row)
    # A round's rows go in one transaction: a round with any stored row has all of them.
    _store(
        session=session,
        model=RoundHistogram,
        rows=[
            {"round_id": round_id, "question_key": key, "score": score, "answers": answers}
            for round_id, key, score, answers in sorted(to_store)
        ],
    )
    return rows


def _store(*, session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> bool:
    """Insert these rows, leaving those another process stored first; False if it failed.

    A reading session stores them in a short transaction of its own, so the page's reads never
    wait for a write lock they do not need. A session that already writes (it holds SQLite's
    lock) stores them in its own transaction, behind a savepoint, committed with its work.
    Rows come in key order, so concurrent writers of the same rounds queue, never deadlock;
    whoever is first wins, and both computed the same numbers.
    """
    if not rows:
        return True
    bind = session.get_bind()
    try:
        if bind.get_execution_options().get(WRITE_OPTION):
            with session.begin_nested():
                _insert(session.connection(), model, rows)
        else:
            engine = bind if isinstance(bind, Engine) else bind.engine
            with _short_write(engine) as connection:
                _insert(connection, model, rows)
    except SQLAlchemyError as exc:
        log.warning(
            "%s rows not stored (%s); the figures were computed from the answers",
            model.__tablename__,
            type(exc).__name__,
        )
        return False
    return True


def _insert(connection: Connection, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    if connection.dialect.name == "postgresql":
        statement: Insert = postgresql.insert(model).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(model).on_conflict_do_nothing()
    connection.execute(statement, rows)


@contextmanager
def _short_write(engine: Engine) -> Iterator[Connection]:
    """A write transaction on a connection of its own that waits briefly for the lock.

    On SQLite it may wait for the database's one write lock, so for STORE_LOCK_TIMEOUT_MS at
    most. PostgreSQL locks rows: these inserts wait only for another writer of the same
    summaries, or for a submission holding the round's row (a closed round's: refused at once).
    """
    on_sqlite = engine.dialect.name == "sqlite"
    with ExitStack() as stack:
        queue = write_queue(engine)
        if queue is not None and not _on_event_loop():
            # Behind this process's other writers (a burst of answers commits in batches):
            # the turn comes within one batch, where SQLite's busy handler could miss it.
            stack.enter_context(queue.turn_blocking())
        connection = stack.enter_context(writer(engine).connect())
        if on_sqlite:
            _busy_timeout(connection, STORE_LOCK_TIMEOUT_MS)
        try:
            with connection.begin():  # BEGIN IMMEDIATE on SQLite: waits for the lock here
                yield connection
        finally:
            if on_sqlite and not connection.invalidated:
                # Back to the pool with its usual patience.
                _busy_timeout(connection, SQLITE_BUSY_TIMEOUT_MS)


def _on_event_loop() -> bool:
    """Whether this thread runs an event loop (where blocking for a turn could deadlock it)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _busy_timeout(connection: Connection, milliseconds: int) -> None:
    # On the driver's connection, outside any transaction, so it applies to the BEGIN.
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA busy_timeout={milliseconds}")
