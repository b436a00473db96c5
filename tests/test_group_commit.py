"""Group commit: many requests' writes share one commit, and nothing is acknowledged uncommitted."""

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, event, func
from sqlmodel import Session, select

from app import group_commit
from app.clock import utcnow
from app.group_commit import GroupCommitter, RowLock, before_commit
from app.pulses import service as pulse_service
from app.pulses.models import Answer, Comment, Response, Round
from app.pulses.rounds import close_early
from tests.factories import make_round, make_team, shipped_surveys


def _count(engine: Engine, model: type[Response] | type[Answer] | type[Comment]) -> int:
    with Session(engine) as own:
        return int(own.exec(select(func.count()).select_from(model)).one())


@pytest.fixture
def committer(engine: Engine) -> Iterator[GroupCommitter]:
    committer = GroupCommitter(engine)
    yield committer
    committer.close()


@pytest.fixture
def open_round(session: Session) -> Round:
    round_ = make_round(session, make_team(session).team)
    session.commit()  # release SQLite's write lock for the committer
    return round_


def _sheet(round_: Round, value: int, comment: str | None = None) -> pulse_service.StoreResponse:
    survey = shipped_surveys()["release-pulse"]
    return pulse_service.prepare_submission(
        round=round_, survey=survey, answers=dict.fromkeys(survey.keys, value), comment=comment
    )


def _commits(engine: Engine) -> list[int]:
    """A list that grows by one at every commit on this engine's connections."""
    seen: list[int] = []
    event.listen(engine, "commit", lambda _connection: seen.append(1))
    return seen


def _run_as_one_batch(
    committer: GroupCommitter, jobs: list[Callable[[Session], Any]], lock: RowLock | None
) -> list[Any]:
    """Run the jobs so they land in the same batch: a first job holds the committer until all
    the others are queued behind it. Each result is the job's value or the exception it got."""
    holding_now, go = threading.Event(), threading.Event()

    def hold(_session: Session) -> None:
        holding_now.set()
        assert go.wait(30)

    def outcome(job: Callable[[Session], Any]) -> Any:
        try:
            return committer.run(job, lock=lock)
        except Exception as exc:  # collected for the assertions
            return exc

    with ThreadPoolExecutor(max_workers=len(jobs) + 1) as pool:
        holding = pool.submit(committer.run, hold)
        assert holding_now.wait(30)
        futures = [pool.submit(outcome, job) for job in jobs]
        deadline = time.monotonic() + 30
        while len(committer._queue) < len(jobs):
            assert time.monotonic() < deadline, "the jobs never queued"
            time.sleep(0.01)
        go.set()
        holding.result(30)
        return [future.result(30) for future in futures]


def test_queued_jobs_share_one_commit_and_each_gets_its_own_result(
    engine: Engine, committer: GroupCommitter, open_round: Round
) -> None:
    commits = _commits(engine)
    jobs = [_sheet(open_round, 1 + n % 5, comment=f"c{n}") for n in range(12)]
    lock = RowLock(table=pulse_service.ROUND_TABLE, key=open_round.id or 0)
    ids = _run_as_one_batch(committer, list(jobs), lock)
    assert len(set(ids)) == 12 and all(isinstance(i, str) for i in ids)
    # The holding job wrote nothing (no transaction to commit); the twelve share one commit.
    assert len(commits) == 1
    assert (_count(engine, Response), _count(engine, Answer), _count(engine, Comment)) == (
        12,
        96,
        12,
    )


def test_a_failing_job_undoes_only_its_own_writes(
    engine: Engine, committer: GroupCommitter, open_round: Round
) -> None:
    def half_written(session: Session) -> None:
        session.add(Comment(round_id=open_round.id or 0, body="must not stay"))
        session.flush()
        raise ValueError("changed my mind")

    results = _run_as_one_batch(
        committer, [_sheet(open_round, 4), half_written, _sheet(open_round, 2)], lock=None
    )
    assert isinstance(results[0], str) and isinstance(results[2], str)
    assert isinstance(results[1], ValueError)
    assert (_count(engine, Response), _count(engine, Comment)) == (2, 0)


def test_when_the_commit_fails_every_job_of_the_batch_gets_the_error_and_nothing_is_kept(
    engine: Engine, committer: GroupCommitter, open_round: Round
) -> None:
    def breaks_the_commit(session: Session) -> None:
        def fail() -> None:
            raise RuntimeError("disk full")

        before_commit(session, "break", fail)

    results = _run_as_one_batch(
        committer, [_sheet(open_round, 4), breaks_the_commit, _sheet(open_round, 5)], lock=None
    )
    assert all(isinstance(r, RuntimeError) and str(r) == "disk full" for r in results)
    assert _count(engine, Response) == 0


def test_a_round_closed_before_the_batch_takes_nothing(
    engine: Engine, committer: GroupCommitter, session: Session, open_round: Round
) -> None:
    store = _sheet(open_round, 3)
    close_early(session=session, round=open_round, now=utcnow())
    session.commit()
    with pytest.raises(pulse_service.RoundClosedError):
        committer.run(store)
    assert _count(engine, Response) == 0


def test_the_thread_stops_when_idle_and_starts_again_for_the_next_job(
    engine: Engine, committer: GroupCommitter, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_commit, "IDLE_SECONDS", 0.05)
    committer.run(_sheet(open_round, 3))
    deadline = time.monotonic() + 10
    while committer._thread is not None:
        assert time.monotonic() < deadline, "the idle thread never stopped"
        time.sleep(0.01)
    committer.run(_sheet(open_round, 4))
    assert _count(engine, Response) == 2


def test_after_close_jobs_are_refused_until_it_opens_again(
    engine: Engine, committer: GroupCommitter, open_round: Round
) -> None:
    committer.close()
    with pytest.raises(group_commit.ShuttingDownError):
        committer.run(_sheet(open_round, 3))
    committer.open()
    committer.run(_sheet(open_round, 3))
    assert _count(engine, Response) == 1


def test_before_commit_runs_at_once_outside_a_batch(session: Session) -> None:
    ran: list[str] = []
    before_commit(session, "k", lambda: ran.append("now"))
    assert ran == ["now"]
