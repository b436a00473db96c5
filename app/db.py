"""Database engine, sessions and the SQLite pragmas that make it safe under concurrency."""

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, Dialect, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, SQLModel

from app.write_queue import write_queue

log = logging.getLogger("redbutton.db")

# Constraint names must be stable so migrations can find them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Marks engines whose transactions must take SQLite's write lock up front (see _begin).
WRITE_OPTION = "redbutton_write"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite turn on WAL, busy_timeout, foreign keys and durable commits."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # Connections are kept, not closed after each request: closing the last
            # connection of a WAL database checkpoints and syncs it, which cost a file-backed
            # request about 13 ms (see bench/RESULTS.md). Enough for the request threadpool.
            # Last in, first out: the few connections in steady use keep their page cache warm
            # instead of every request taking the coldest one.
            **(
                {}
                if ":memory:" in url
                else {"pool_size": 8, "max_overflow": 32, "pool_use_lifo": True}
            ),
            **kwargs,
        )
        _install_sqlite_hooks(engine)
        return engine
    return create_engine(
        # A request waits up to 60 s for a pooled connection. Submissions to one round queue on
        # its row lock (see pulses.service) while holding a connection, so a burst of 300 at
        # once drains in tens of seconds on a busy host: better a slow answer than a refusal.
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=60,
        **kwargs,
    )


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: an acknowledged answer survives a crash of the process and of the machine.
        cursor.execute("PRAGMA synchronous=FULL")
        # Keep 32 MiB of pages per connection: dashboards over years of answers read the same
        # index pages again and again.
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A deferred transaction that reads and then writes cannot wait for the lock: SQLite
        # answers "database is locked" at once. Writers therefore take the lock up front and
        # queue on busy_timeout; readers stay deferred and never block anyone in WAL mode.
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def writer(engine: Engine) -> Engine:
    """The same pool, but every transaction begins ready to write."""
    return engine.execution_options(**{WRITE_OPTION: True})


def is_writing(session: Session) -> bool:
    """Whether this session's transactions begin ready to write (it holds the write turn)."""
    bind = session.get_bind()
    return isinstance(bind, Engine) and bool(bind.get_execution_options().get(WRITE_OPTION))


@contextmanager
def request_session(engine: Engine) -> Iterator[Session]:
    """A session for one request, closed even when the database vanished mid-request.

    Closing rolls back on the connection; if the database went away, that rollback fails after
    the response (a 503) may already be on its way, and the error would reset the client's
    connection instead. The dead connection is discarded from the pool instead of raising.
    """
    session = Session(engine)
    try:
        yield session
    finally:
        try:
            session.close()
        except DBAPIError as exc:
            if not (exc.connection_invalidated or isinstance(exc, OperationalError)):
                raise
            log.warning("database connection lost while ending a request; discarded")
            session.invalidate()


def get_session(request: Request) -> Iterator[Session]:
    """A read-mostly session for one request."""
    with request_session(request.app.state.engine) as session:
        yield session


async def get_write_session(request: Request) -> AsyncIterator[Session]:
    """A session for a request that writes: one transaction, committed by the service code.

    On SQLite the writers of one process take turns first (app.write_queue), before asking
    SQLite for its lock.
    """
    engine: Engine = request.app.state.engine
    queue = write_queue(engine)
    if queue is None:
        with request_session(writer(engine)) as session:
            yield session
        return
    async with queue.turn():
        with request_session(writer(engine)) as session:
            yield session


@contextmanager
def write_session_blocking(engine: Engine) -> Iterator[Session]:
    """A writing session for code on a worker thread, after its turn in the write queue."""
    queue = write_queue(engine)
    if queue is None:
        with request_session(writer(engine)) as session:
            yield session
        return
    with queue.turn_blocking(), request_session(writer(engine)) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are never stored: give a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
