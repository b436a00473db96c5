"""Firing many anonymous submissions at a live server, each from its own client (cookie jar)."""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from sqlalchemy import Engine, text

from tests.factories import shipped_surveys

# The load tests raise the per-team submission limit explicitly: 300 members of one team
# answering in the same minute is the load being proven here, not abuse.
LOAD_ENV = {"REDBUTTON_SUBMIT_RATE_LIMIT": "100000"}


@dataclass
class Outcome:
    """What the clients saw: acknowledged comment markers and every status code."""

    acknowledged: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    transport_errors: int = 0


T = TypeVar("T")


def answer_sheet(survey_id: str = "release-pulse") -> dict[str, int]:
    """A complete, valid answer for every question of the shipped survey."""
    survey = shipped_surveys()[survey_id]
    return {key: survey.scale.min + (i % 3) for i, key in enumerate(survey.keys)}


async def _submit_one(base_url: str, link: str, marker: str, outcome: Outcome) -> None:
    # A fresh client per submission: its own cookie jar, like a different member's phone.
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        try:
            response = await client.post(
                f"/api/v1/pulse/{link}/responses",
                json={"answers": answer_sheet(), "comment": marker},
            )
        except httpx.TransportError:
            outcome.transport_errors += 1
            return
    outcome.statuses.append(response.status_code)
    if 200 <= response.status_code < 300:
        outcome.acknowledged.append(marker)


async def fire(base_url: str, link: str, count: int, *, prefix: str = "load") -> Outcome:
    """Send `count` submissions all at once; each carries a unique comment marker."""
    outcome = Outcome()
    await asyncio.gather(
        *(_submit_one(base_url, link, f"{prefix}-{i:04d}", outcome) for i in range(count))
    )
    return outcome


async def fire_until_killed(
    base_url: str, link: str, *, concurrency: int, kill_after: int, kill: object
) -> Outcome:
    """Keep `concurrency` submissions in flight; call `kill()` once `kill_after` were
    acknowledged, while the others are still in flight, then stop."""
    outcome = Outcome()
    counter = 0
    killed = asyncio.Event()

    async def worker() -> None:
        nonlocal counter
        while not killed.is_set():
            counter += 1
            await _submit_one(base_url, link, f"crash-{counter:05d}", outcome)
            if len(outcome.acknowledged) >= kill_after and not killed.is_set():
                killed.set()
                assert callable(kill)
                kill()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcome


def stored_markers(engine: Engine) -> list[str]:
    """Every stored comment body (the load's markers)."""
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT body FROM comment"))]


def count(engine: Engine, sql: str) -> int:
    """One integer from a query."""
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def answers_per_response(engine: Engine) -> set[int]:
    """The distinct numbers of answers stored per response (one value when none is half-written)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT count(a.response_id) FROM response r "
                "LEFT JOIN answer a ON a.response_id = r.id GROUP BY r.id"
            )
        )
        return {int(row[0]) for row in rows}


def run_load(load: Coroutine[Any, Any, T]) -> T:
    """Run a load coroutine to completion on its own event loop, in its own thread.

    Browser tests earlier in the session leave Playwright's event loop running in the main
    thread, where asyncio.run() refuses to start a second one.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, load).result()
