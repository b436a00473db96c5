"""The Server-Timing header operators and the benchmark read the app's own time from."""

import re

from fastapi.testclient import TestClient


def test_every_response_says_how_long_the_app_took(client: TestClient) -> None:
    response = client.get("/healthz")

    match = re.fullmatch(r"app;dur=(\d+\.\d\d)", response.headers["server-timing"])
    assert match is not None
    assert 0 <= float(match.group(1)) < 5_000


def test_error_responses_carry_it_too(client: TestClient) -> None:
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.headers["server-timing"].startswith("app;dur=")
