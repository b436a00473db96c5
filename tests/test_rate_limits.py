"""Database-backed fixed-window rate limits."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.db import writer
from app.rate_limits import RateLimit, RateLimited, bucket_key, hit, window_start


def test_window_start_is_the_start_of_the_fixed_window() -> None:
    now = datetime(2026, 11, 27, 10, 17, 42, tzinfo=UTC)
    assert window_start(now, timedelta(minutes=1)) == datetime(2026, 11, 27, 10, 17, tzinfo=UTC)
    assert window_start(now, timedelta(hours=1)) == datetime(2026, 11, 27, 10, tzinfo=UTC)


def test_bucket_keys_hold_a_hash_not_the_value() -> None:
    key = bucket_key("login:email", "ana@example.com")
    assert key.startswith("login:email:") and "ana" not in key and len(key) == 12 + 64


def test_the_limit_is_enforced_per_bucket_with_the_seconds_left(
    session: Session, rate_limit_now: datetime
) -> None:
    window = timedelta(minutes=1)
    assert [hit(session=session, key="a", limit=3, window=window) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(RateLimited) as refused:
        hit(session=session, key="a", limit=3, window=window)
    assert refused.value.retry_after == 30  # the clock stands 30 s into the minute
    assert hit(session=session, key="b", limit=3, window=window) == 1
    counts = {row.key: row.count for row in session.exec(select(RateLimit))}
    assert counts == {"a": 4, "b": 1}


def test_counts_survive_across_sessions_and_old_windows_are_dropped(
    engine: Engine, session: Session, rate_limit_now: datetime
) -> None:
    old = window_start(rate_limit_now, timedelta(minutes=1)) - timedelta(minutes=5)
    session.add(RateLimit(key="a", window_start=old, count=99))
    session.commit()
    with Session(writer(engine)) as other:
        assert hit(session=other, key="a", limit=5, window=timedelta(minutes=1)) == 1
    with Session(writer(engine)) as other:
        assert hit(session=other, key="a", limit=5, window=timedelta(minutes=1)) == 2
    session.expire_all()
    rows = session.exec(select(RateLimit)).all()
    assert [(row.key, row.count) for row in rows] == [("a", 2)]


def test_a_window_shorter_than_a_second_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="at least one second"):
        hit(session=session, key="a", limit=1, window=timedelta(milliseconds=10))


def test_concurrent_hits_are_all_counted(engine: Engine, rate_limit_now: datetime) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def hit_five_times(_: int) -> None:
        for _ in range(5):
            with Session(writer(engine)) as own:
                hit(session=own, key="shared", limit=1000, window=timedelta(hours=1))

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(hit_five_times, range(6)))
    with Session(engine) as check:
        assert check.exec(select(RateLimit.count).where(RateLimit.key == "shared")).one() == 30
