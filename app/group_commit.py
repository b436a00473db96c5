"""Group commit: the writes of many concurrent requests share one durable commit.

A durable commit waits for the disk (SQLite with synchronous=FULL syncs the WAL; PostgreSQL
flushes its WAL), and on SQLite only one transaction writes at a time. One commit per request
therefore caps a whole company answering in the same hour at a few dozen answers a second.

Requests hand the committer a job (a function of a Session). One thread per process takes every
job waiting at that moment and runs them in one transaction, each inside its own savepoint so a
job that fails (a closed round, a replayed ballot, a duplicate webhook delivery) rolls back only
its own writes; then it commits once and only then answers each request. An acknowledged write
is a committed one: if the commit fails, every job of the batch gets the error.
"""

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine, Table, select
from sqlmodel import Session

from app.db import write_session_blocking

log = logging.getLogger("redbutton.group_commit")

T = TypeVar("T")

MAX_BATCH = 256
# The thread stops after this long without work and starts again on the next job.
IDLE_SECONDS = 5.0
_HOOKS = "redbutton.before_commit"
_LOCKS = "redbutton.batch_locks"


class ShuttingDownError(Exception):
    """The server is stopping and takes no more writes; nothing of this request was stored."""


@dataclass(frozen=True)
class RowLock:
    """A row the job must hold locked for the whole batch (PostgreSQL: SELECT ... FOR UPDATE)."""

    table: Table
    key: int


@dataclass
class _Pending:
    job: Callable[[Session], Any]
    lock: RowLock | None
    isolated: bool
    future: "Future[Any]" = field(default_factory=Future)


class GroupCommitter:
    """Runs jobs from any thread in shared transactions on one thread of its own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: deque[_Pending] = deque()
        self._mutex = threading.Lock()
        self._work = threading.Condition(self._mutex)
        self._thread: threading.Thread | None = None
        self._closed = False

    def run(
        self, job: Callable[[Session], T], *, lock: RowLock | None = None, isolated: bool = True
    ) -> T:
        """Run `job` in the next batch; its result once the batch is committed, or its error.

        Blocks the calling thread (a worker thread, never the event loop). The job must not
        commit or roll back; it may raise to undo its own writes. A job that only ever raises
        before it writes anything may pass isolated=False to skip its savepoint.
        """
        result: T = self._enqueue(job, lock, isolated).result()
        return result

    async def submit(
        self, job: Callable[[Session], T], *, lock: RowLock | None = None, isolated: bool = True
    ) -> T:
        """`run` for async code: waits for the commit without holding a worker thread."""
        result: T = await asyncio.wrap_future(self._enqueue(job, lock, isolated))
        return result

    def _enqueue(
        self, job: Callable[[Session], Any], lock: RowLock | None, isolated: bool
    ) -> "Future[Any]":
        pending = _Pending(job=job, lock=lock, isolated=isolated)
        with self._mutex:
            if self._closed:
                raise ShuttingDownError(
                    "The server is restarting; nothing was stored. Please try again."
                )
            self._queue.append(pending)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="redbutton-group-commit", daemon=True
                )
                self._thread.start()
            self._work.notify()
        return pending.future

    def open(self) -> None:
        """Take jobs again after close() (an app served again, as in tests)."""
        with self._mutex:
            self._closed = False

    def close(self, timeout: float = 30.0) -> None:
        """Finish the jobs already handed in, then stop the thread; later jobs are refused."""
        with self._mutex:
            self._closed = True
            thread = self._thread
            self._work.notify()
        if thread is not None:
            thread.join(timeout)

    def _take(self) -> list[_Pending]:
        """Every job waiting now (at most MAX_BATCH); [] and the thread ends when idle."""
        with self._mutex:
            if not self._queue and not self._closed:
                self._work.wait(IDLE_SECONDS)
            if not self._queue:
                self._thread = None
                return []
            batch: list[_Pending] = []
            while self._queue and len(batch) < MAX_BATCH:
                batch.append(self._queue.popleft())
            return batch

    def _serve(self) -> None:
        while batch := self._take():
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        outcomes: list[tuple[_Pending, Any, BaseException | None]] = []
        try:
            with write_session_blocking(self.engine) as session:
                locks = [p.lock for p in batch if p.lock is not None]
                session.info[_HOOKS] = {}
                session.info[_LOCKS] = locks
                _lock_rows(session, locks)
                for pending in batch:
                    try:
                        if pending.isolated:
                            with session.begin_nested():
                                result = pending.job(session)
                        else:
                            result = pending.job(session)
                    except Exception as exc:  # the job's own failure: only its writes undone
                        outcomes.append((pending, None, exc))
                    else:
                        outcomes.append((pending, result, None))
                hooks: dict[Hashable, Callable[[], None]] = session.info.pop(_HOOKS)
                for hook in hooks.values():
                    hook()
                session.commit()
        except Exception as exc:
            log.warning("a batch of %d writes failed and was rolled back: %r", len(batch), exc)
            for pending in batch:
                pending.future.set_exception(exc)
            return
        for pending, result, error in outcomes:
            if error is None:
                pending.future.set_result(result)
            else:
                pending.future.set_exception(error)


def _lock_rows(session: Session, locks: list[RowLock]) -> None:
    """Lock the batch's rows in one sorted order, so batches of several processes never deadlock.

    Only PostgreSQL needs it: a SQLite batch already holds the database's only write lock.
    """
    if not locks or session.get_bind().dialect.name != "postgresql":
        return
    by_table: dict[Table, set[int]] = {}
    for lock in locks:
        by_table.setdefault(lock.table, set()).add(lock.key)
    for table in sorted(by_table, key=lambda t: t.name):
        keys = sorted(by_table[table])
        session.execute(
            select(table.c.id).where(table.c.id.in_(keys)).order_by(table.c.id).with_for_update()
        ).all()


def in_batch(session: Session) -> bool:
    """Whether this session is the committer's, running a batch."""
    return _HOOKS in session.info


def batch_keys(session: Session, table: Table) -> list[int]:
    """The keys of this table's rows that the running batch holds (none outside a batch)."""
    locks: list[RowLock] = session.info.get(_LOCKS, [])
    return sorted({lock.key for lock in locks if lock.table is table})


def before_commit(session: Session, key: Hashable, hook: Callable[[], None]) -> None:
    """Run `hook` once per key just before the batch commits; at once outside a batch."""
    hooks: dict[Hashable, Callable[[], None]] | None = session.info.get(_HOOKS)
    if hooks is None:
        hook()
    else:
        hooks[key] = hook
