"""The process's SQLite writers take turns in arrival order, async code and threads alike."""

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from app.write_queue import WriteQueue


def _wait_until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine on an event loop of its own thread (whatever loop this thread has)."""
    failures: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # re-raised below, in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the event loop did not finish"
    if failures:
        raise failures[0]


def test_turns_pass_in_arrival_order_between_threads_and_coroutines() -> None:
    queue = WriteQueue()
    order: list[str] = []

    def thread_writer(name: str) -> None:
        with queue.turn_blocking():
            order.append(name)

    async def main() -> None:
        async def async_writer(name: str) -> None:
            async with queue.turn():
                order.append(name)

        with queue.turn_blocking():  # held while the others queue up
            first = threading.Thread(target=thread_writer, args=("thread 1",))
            first.start()
            _wait_until(lambda: len(queue._waiters) == 1)
            task = asyncio.create_task(async_writer("coroutine 2"))
            while len(queue._waiters) < 2:
                await asyncio.sleep(0.005)
            second = threading.Thread(target=thread_writer, args=("thread 3",))
            second.start()
            _wait_until(lambda: len(queue._waiters) == 3)
            order.append("holder")
        await asyncio.wait_for(task, 10)
        first.join(10)
        second.join(10)

    _run(main)
    assert order == ["holder", "thread 1", "coroutine 2", "thread 3"]
    assert not queue._busy


def test_a_cancelled_waiter_does_not_keep_the_turn_from_the_next_one() -> None:
    queue = WriteQueue()
    got: list[str] = []

    async def main() -> None:
        async def writer(name: str) -> None:
            async with queue.turn():
                got.append(name)

        async with queue.turn():
            cancelled = asyncio.create_task(writer("cancelled"))
            waiting = asyncio.create_task(writer("next"))
            while len(queue._waiters) < 2:
                await asyncio.sleep(0.005)
            cancelled.cancel()
            await asyncio.sleep(0)
        await asyncio.wait_for(waiting, 10)
        assert cancelled.cancelled()

    _run(main)
    assert got == ["next"]
    assert not queue._busy
