"""Submissions per link are limited in memory, never by writing down when answers arrived."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.config import Settings
from app.main import create_app
from app.pulses.throttle import SubmissionThrottle
from tests.pulses.test_pages import KEYS, Stored, new_team, stored


def test_the_limit_counts_per_link_and_resets_each_window() -> None:
    throttle = SubmissionThrottle(limit=2, window_seconds=60)
    assert throttle.retry_after("a", now=120.0) is None
    assert throttle.retry_after("a", now=130.0) is None
    assert throttle.retry_after("b", now=131.0) is None  # another team's link has its own count
    assert throttle.retry_after("a", now=135.5) == 45  # the window ends at 180 s
    assert throttle.retry_after("a", now=180.0) is None


def test_past_the_limit_submissions_get_429_and_nothing_is_stored(
    settings: Settings, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    app = create_app(settings.model_copy(update={"submit_rate_limit": 2}))
    assert app.state.submission_throttle.limit == 2
    # A stopped clock, so the requests cannot straddle two windows.
    app.state.submission_throttle = SubmissionThrottle(limit=2, clock=lambda: 30.0)
    url = f"/api/v1/pulse/{team.pulse_link}/responses"
    body = {"answers": dict.fromkeys(KEYS, 3)}
    statuses = []
    for _ in range(3):
        with TestClient(app) as client:  # a fresh browser each time: no round cookie
            statuses.append(client.post(url, json=body))
    assert [r.status_code for r in statuses] == [201, 201, 429]
    refused = statuses[-1]
    assert "try again in" in refused.json()["detail"]
    assert refused.headers["retry-after"] == "30"
    with TestClient(app) as client:
        form = dict.fromkeys(KEYS, "3")
        assert client.post(f"/p/{team.pulse_link}", data=form).status_code == 429
    assert stored(engine) == Stored(2, 16, 0)
