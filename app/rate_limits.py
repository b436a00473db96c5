"""Fixed-window rate limits counted in the database, so every app instance shares them.

Any domain may use it with its own bucket key (logins per email, submissions per team link…):
`hit(session=…, key="login:email:…", limit=10, window=timedelta(minutes=1))` raises
`RateLimited` with the seconds until the window ends once the limit is passed.
"""

import hashlib
import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

from app.clock import utcnow
from app.db import UTCDateTime


class RateLimit(SQLModel, table=True):
    """How many hits a bucket has taken in one window."""

    __tablename__ = "rate_limit"

    key: str = Field(max_length=128, primary_key=True)
    window_start: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    count: int = Field(default=0)


class RateLimited(Exception):
    """Too many hits in this window; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited, retry after {retry_after} s")
        self.retry_after = retry_after


def bucket_key(kind: str, value: str) -> str:
    """A bucket key that stores a hash, never the value itself (an email, an address…)."""
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window that contains `now`."""
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def hit(*, session: Session, key: str, limit: int, window: timedelta) -> int:
    """Count one hit on the bucket and commit; raise RateLimited past the limit, else the count.

    The count is committed even when the request then fails, so failed attempts add up. The
    increment is one INSERT … ON CONFLICT DO UPDATE, atomic across instances.
    """
    if window.total_seconds() < 1:
        raise ValueError("a rate-limit window is at least one second long")
    now = utcnow()
    start = window_start(now, window)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = RateLimit.__table__  # type: ignore[attr-defined]
    statement = (
        insert(table)
        .values(key=key, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"count": table.c["count"] + 1}
        )
        .returning(table.c["count"])
    )
    count = int(session.execute(statement).scalar_one())
    # Finished windows of this bucket are no longer needed.
    session.execute(
        delete(table).where(table.c["key"] == key).where(table.c["window_start"] < start)
    )
    session.commit()
    if count > limit:
        remaining = (start + window - now).total_seconds()
        raise RateLimited(max(1, math.ceil(remaining)))
    return count
