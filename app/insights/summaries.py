"""Summaries of closed rounds: computed once from the answers, stored, and read instead of them.

No answer is accepted once a round is closed, so a closed round's aggregates never change. The
first page that needs the scores of a round closed at least SETTLE_MARGIN ago computes them from
the answers (the same aggregation as for any other round) and stores them; later pages read the
stored rows. Rounds closed more recently, and open ones, are always computed from the answers,
and never stored (invariant 4: nothing of an open round is kept).

Storing is an optimisation: when it cannot be done (the write lock is busy, the database is
read-only), a warning is logged and the computed figures are served all the same.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Integer,
    String,
    cast,
    func,
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

log = logging.getLogger("redbutton.insights.summaries")

# A submission checks that its round is open, then commits a few milliseconds later; instances
# behind a load balancer may also disagree on the time by a few seconds. A round is summarised
# only once it has been closed for longer than all of that, by a wide margin.
SETTLE_MARGIN = timedelta(minutes=5)
# A page waits this long at most for SQLite's write lock, then serves what it computed.
STORE_LOCK_TIMEOUT_MS = 500
# Histograms a session computed, by round: a page that shows them next needs no second read.
_HISTOGRAMS = "redbutton.round_histograms"


@dataclass(frozen=True)
class Summary:
    """A round's aggregates: the per-response means (trust index) and the answer counts."""

    responses: int
    sum_of_means: float
    sum_of_squared_means: float
    answers: int
    favorable_answers: int


# (question key, score after reverse scoring, answers)
HistogramRow = tuple[str, int, int]


def settled(*, closes_at: datetime, closed_early_at: datetime | None, now: datetime) -> bool:
    """Closed for longer than SETTLE_MARGIN, by the caller's clock and by the real one."""
    closed_at = closes_at if closed_early_at is None else min(closes_at, closed_early_at)
    # A caller may ask for figures "as of" a later time; only the real clock says it is over.
    return closed_at <= min(now, utcnow()) - SETTLE_MARGIN


def compute(
    *, session: Session, round_ids: Sequence[int], favorable_from: Mapping[int, int]
) -> tuple[dict[int, Summary], dict[int, list[HistogramRow]]]:
    """These rounds' aggregates and histograms, from their answers, in one statement.

    `favorable_from` gives each round's lowest favorable score. A round without answers has no
    summary (and so no scores), as when its figures are computed for display. The histograms
    are also kept for the rest of the session (see `histograms`).
    """
    if not round_ids:
        return {}, {}
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
    # Both aggregates in one round trip. Trust rows have no question; their score column holds
    # the answers per response (one value per survey version, so one row per round):
    # (round, NULL, answers per response, responses, sum of totals, sum of squared totals).
    trust = sql_select(
        per_response.c.round_id,
        cast(null(), String).label("question_key"),
        per_response.c.answers,
        func.count().label("n"),
        func.sum(total).label("totals"),
        func.sum(total * total).label("squared_totals"),
    ).group_by(per_response.c.round_id, per_response.c.answers)
    # Histogram rows: (round, question, score, answers, NULL, NULL).
    histogram = (
        sql_select(
            col(Answer.round_id),
            col(Answer.question_key),
            col(Answer.score),
            func.count(),
            cast(null(), Integer),
            cast(null(), Integer),
        )
        .where(col(Answer.round_id).in_(ids))
        .group_by(col(Answer.round_id), col(Answer.question_key), col(Answer.score))
    )
    responses: dict[int, int] = defaultdict(int)
    sum_of_means: dict[int, Fraction] = defaultdict(Fraction)
    sum_of_squared_means: dict[int, Fraction] = defaultdict(Fraction)
    histograms: dict[int, list[HistogramRow]] = {}
    for round_id, key, score, n, totals, squared_totals in session.execute(
        union_all(trust, histogram)
    ).all():
        if key is None:
            per_response_answers = int(score)
            responses[round_id] += int(n)
            sum_of_means[round_id] += Fraction(int(totals), per_response_answers)
            sum_of_squared_means[round_id] += Fraction(
                int(squared_totals), per_response_answers * per_response_answers
            )
        else:
            histograms.setdefault(int(round_id), []).append((str(key), int(score), int(n)))
    summaries = {}
    for round_id, n in responses.items():
        rows = histograms.get(round_id, [])
        top = favorable_from[round_id]
        summaries[int(round_id)] = Summary(
            responses=n,
            sum_of_means=float(sum_of_means[round_id]),
            sum_of_squared_means=float(sum_of_squared_means[round_id]),
            answers=sum(answers for _, _, answers in rows),
            favorable_answers=sum(answers for _, score, answers in rows if score >= top),
        )
    session.info.setdefault(_HISTOGRAMS, {}).update(histograms)
    return summaries, histograms


def store(
    *,
    session: Session,
    summaries: Mapping[int, Summary],
    histograms: Mapping[int, Sequence[HistogramRow]],
) -> bool:
    """Keep these settled rounds' summaries; False (and a warning) when they could not be stored.

    A reading session stores them in a short transaction of its own, so the page's reads never
    wait for a write lock they do not need. A session that already writes (it holds SQLite's
    lock) stores them in its own transaction, behind a savepoint, committed with its work.
    Another process may store the same rounds at the same time: the first one wins, and both
    wrote the same numbers.
    """
    if not summaries:
        return True
    ids = sorted(summaries)
    summary_rows = [{"round_id": rid, **vars(summaries[rid])} for rid in ids]
    histogram_rows = [
        {"round_id": rid, "question_key": key, "score": score, "answers": answers}
        for rid in ids
        for key, score, answers in sorted(histograms.get(rid, ()))
    ]
    bind = session.get_bind()
    try:
        if bind.get_execution_options().get(WRITE_OPTION):
            with session.begin_nested():
                _insert(session.connection(), summary_rows, histogram_rows)
        else:
            engine = bind if isinstance(bind, Engine) else bind.engine
            with _short_write(engine) as connection:
                _insert(connection, summary_rows, histogram_rows)
    except SQLAlchemyError as exc:
        log.warning(
            "round summaries not stored (%s); figures were computed from the answers",
            type(exc).__name__,
        )
        return False
    return True


def _insert(
    connection: Connection,
    summary_rows: list[dict[str, Any]],
    histogram_rows: list[dict[str, Any]],
) -> None:
    # Keys in one order everywhere, so concurrent writers queue instead of deadlocking.
    connection.execute(_insert_ignoring_conflicts(connection, RoundSummary), summary_rows)
    if histogram_rows:
        connection.execute(_insert_ignoring_conflicts(connection, RoundHistogram), histogram_rows)


def _insert_ignoring_conflicts(connection: Connection, model: Any) -> Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    return sqlite.insert(model).on_conflict_do_nothing()


@contextmanager
def _short_write(engine: Engine) -> Iterator[Connection]:
    """A write transaction on a connection of its own that waits briefly for the lock.

    On SQLite it may wait for the database's one write lock, so for STORE_LOCK_TIMEOUT_MS at
    most. PostgreSQL locks rows: these inserts wait only for another writer of the same
    summaries, or for a submission holding the round's row (a closed round's: refused at once).
    """
    on_sqlite = engine.dialect.name == "sqlite"
    with writer(engine).connect() as connection:
        if on_sqlite:
            _busy_timeout(connection, STORE_LOCK_TIMEOUT_MS)
        try:
            with connection.begin():  # BEGIN IMMEDIATE on SQLite: waits for the lock here
                yield connection
        finally:
            if on_sqlite and not connection.invalidated:
                # Back to the pool with its usual patience.
                _busy_timeout(connection, SQLITE_BUSY_TIMEOUT_MS)


def _busy_timeout(connection: Connection, milliseconds: int) -> None:
    # On the driver's connection, outside any transaction, so it applies to the BEGIN.
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA busy_timeout={milliseconds}")


def histograms(*, session: Session, round_ids: Iterable[int]) -> list[tuple[int, str, int, int]]:
    """(round, question, score, answers) of these closed rounds.

    Those this session computed are not read again; of the others, summarised rounds give their
    stored rows and the rest are counted from their answers, in one statement.
    """
    known: dict[int, list[HistogramRow]] = session.info.get(_HISTOGRAMS, {})
    result = [
        (round_id, key, score, answers)
        for round_id in sorted(set(round_ids) & known.keys())
        for key, score, answers in known[round_id]
    ]
    ids = sorted(set(round_ids) - known.keys())
    if not ids:
        return result
    summarised = select(RoundSummary.round_id).where(col(RoundSummary.round_id).in_(ids))
    stored = select(
        RoundHistogram.round_id,
        RoundHistogram.question_key,
        RoundHistogram.score,
        RoundHistogram.answers,
    ).where(col(RoundHistogram.round_id).in_(ids))
    counted = (
        select(Answer.round_id, Answer.question_key, Answer.score, func.count())
        .where(col(Answer.round_id).in_(ids), col(Answer.round_id).not_in(summarised))
        .group_by(col(Answer.round_id), col(Answer.question_key), col(Answer.score))
    )
    rows = session.execute(union_all(stored, counted)).all()
    return result + [(int(r), str(k), int(s), int(c)) for r, k, s, c in rows]
