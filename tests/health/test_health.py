"""Probes, security headers, body limits and the 503 when the database is gone."""

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


def test_healthz_answers_without_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_readyz_is_503_with_a_message_when_the_database_is_unreachable(settings: Settings) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    broken = settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:9/none?connect_timeout=2"}
    )
    with TestClient(create_app(broken)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "database is unavailable" in response.json()["detail"]
    assert response.headers["retry-after"] == "5"


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    response = client.get("/healthz")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


def test_a_body_over_the_limit_is_refused_with_413(client: TestClient, settings: Settings) -> None:
    response = client.post(
        "/healthz",
        content=b"x" * (settings.max_body_bytes + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert str(settings.max_body_bytes) in response.json()["detail"]
