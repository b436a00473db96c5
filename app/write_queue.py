"""One queue of SQLite writers per process: requests that write and the group committer take turns.

SQLite lets one connection write at a time. Left to its busy handler, which polls with sleeps of
up to 100 ms, a crowd of writers hands the lock on slowly and the last ones pass busy_timeout
("database is locked"). Writers of one process therefore queue here first, in arrival order, and
each is woken the moment the one before it finishes. Async code waits without holding a worker
thread; threads (the group committer, a sync route creating a round) block. busy_timeout still
orders writers of other processes (the CLI, several workers).
"""

import asyncio
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy import Engine
from sqlalchemy.pool import Pool


class WriteQueue:
    """A first-come, first-served turn to write, shared by event loops and threads."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._busy = False
        # Each waiter is woken by calling it once its turn has come.
        self._waiters: deque[_Waiter] = deque()

    def _enter_or_wait(self, waiter: "_Waiter") -> bool:
        """Take the turn at once (True) or queue the waiter (False)."""
        with self._mutex:
            if not self._busy:
                self._busy = True
                return True
            self._waiters.append(waiter)
            return False

    def _release(self) -> None:
        while True:
            with self._mutex:
                if not self._waiters:
                    self._busy = False
                    return
                # The turn passes straight to the next waiter: _busy stays True.
                waiter = self._waiters.popleft()
            if waiter.wake():
                return

    def _withdraw(self, waiter: "_Waiter") -> bool:
        """Remove a waiter that gave up; False when it was already handed the turn."""
        with self._mutex:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                return False
            return True

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold the turn for the body of an async with."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        waiter = _Waiter(loop=loop, future=future)
        if not self._enter_or_wait(waiter):
            try:
                await future
            except asyncio.CancelledError:
                if not self._withdraw(waiter):
                    # Cancelled just as the turn arrived: hand it on rather than leak it.
                    self._release()
                raise
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def turn_blocking(self) -> Iterator[None]:
        """Hold the turn for the body of a with, blocking this (non-event-loop) thread."""
        waiter = _Waiter(event=threading.Event())
        if not self._enter_or_wait(waiter):
            assert waiter.event is not None
            waiter.event.wait()
        try:
            yield
        finally:
            self._release()


class _Waiter:
    """A queued writer: an asyncio future on its loop, or an event a thread waits on."""

    def __init__(
        self,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        future: "asyncio.Future[None] | None" = None,
        event: threading.Event | None = None,
    ) -> None:
        self.loop = loop
        self.future = future
        self.event = event

    def wake(self) -> bool:
        """Hand this waiter the turn; False when nobody is left to take it."""
        if self.event is not None:
            self.event.set()
            return True
        assert self.loop is not None and self.future is not None
        try:
            self.loop.call_soon_threadsafe(_resolve, self.future)
        except RuntimeError:
            # Its event loop has closed (a test client shut down): the next waiter goes instead.
            return False
        return True


def _resolve(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)
    # A waiter cancelled after being handed the turn releases it in turn() itself.


_queues: "weakref.WeakKeyDictionary[Pool, WriteQueue]" = weakref.WeakKeyDictionary()
_queues_mutex = threading.Lock()


def write_queue(engine: Engine) -> WriteQueue | None:
    """The queue of this engine's writers in this process; None where the database needs none."""
    if engine.dialect.name != "sqlite":
        return None
    with _queues_mutex:
        queue = _queues.get(engine.pool)
        if queue is None:
            queue = _queues[engine.pool] = WriteQueue()
        return queue
