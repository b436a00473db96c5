"""Provider webhooks with payloads shaped like the providers' documented examples."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.delivery.models import Deployment, Incident, WebhookDelivery
from app.teams import service as team_service
from app.teams.service import IssuedTeam
from tests.delivery import providers
from tests.factories import make_team


@pytest.fixture
def issued(session: Session) -> IssuedTeam:
    issued = make_team(session, slug="payments", timezone="Europe/Paris")
    session.commit()  # release SQLite's write lock before the requests
    return issued


def rows(session: Session, model: Any) -> list[Any]:
    session.expire_all()
    found = list(session.exec(select(model)))
    session.commit()
    return found


def count(session: Session, model: Any) -> int:
    session.expire_all()
    value = int(session.exec(select(func.count()).select_from(model)).one())
    session.commit()
    return value


GITHUB = "/api/v1/hooks/github/payments"
GITLAB = "/api/v1/hooks/gitlab/payments"
PAGERDUTY = "/api/v1/hooks/pagerduty/payments"


# --- GitHub ---------------------------------------------------------------------------------


def test_github_deployment_status_is_recorded(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    raw = providers.body(providers.payload("github_deployment_status"))
    response = client.post(
        GITHUB, content=raw, headers=providers.github_headers(issued.webhook_secret, raw)
    )
    assert response.status_code == 200, response.text
    (deployment,) = rows(session, Deployment)
    assert deployment.external_id == "1730001"
    assert deployment.environment == "production"
    assert deployment.status == "success"
    assert deployment.sha == "9f2c4e1a7b3d5f6081a2b3c4d5e6f708192a3b4c"
    assert deployment.finished_at == datetime(2026, 3, 3, 14, 5, tzinfo=UTC)
    assert deployment.started_at == datetime(2026, 3, 3, 13, 58, tzinfo=UTC)
    assert deployment.source == "github"


def test_github_redelivery_is_acknowledged_and_counted_once(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    raw = providers.body(providers.payload("github_deployment_status"))
    headers = providers.github_headers(issued.webhook_secret, raw, delivery="72d3162e-1")
    assert client.post(GITHUB, content=raw, headers=headers).status_code == 200
    again = client.post(GITHUB, content=raw, headers=headers)
    assert again.status_code == 200
    assert again.json() == {"detail": "delivery already received"}
    assert count(session, Deployment) == 1 and count(session, WebhookDelivery) == 1


@pytest.mark.parametrize(("state", "stored"), [("failure", "failure"), ("error", "failure")])
def test_github_failure_and_error_are_failed_deployments(
    client: TestClient, session: Session, issued: IssuedTeam, state: str, stored: str
) -> None:
    data = providers.github_status(deployment_id=7, state=state, at="2026-03-03T14:05:00Z")
    raw = providers.body(data)
    client.post(GITHUB, content=raw, headers=providers.github_headers(issued.webhook_secret, raw))
    (deployment,) = rows(session, Deployment)
    assert deployment.status == stored


@pytest.mark.parametrize("state", ["pending", "queued", "in_progress", "inactive"])
def test_github_states_that_are_not_final_are_ignored(
    client: TestClient, session: Session, issued: IssuedTeam, state: str
) -> None:
    data = providers.github_status(deployment_id=7, state=state, at="2026-03-03T14:05:00Z")
    raw = providers.body(data)
    response = client.post(
        GITHUB, content=raw, headers=providers.github_headers(issued.webhook_secret, raw)
    )
    assert response.status_code == 202
    assert count(session, Deployment) == 0


def test_github_status_events_arriving_out_of_order_keep_the_latest(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    late_success = providers.github_status(
        deployment_id=8, state="success", at="2026-03-03T15:00:00Z"
    )
    early_failure = providers.github_status(
        deployment_id=8, state="failure", at="2026-03-03T14:00:00Z"
    )
    for n, data in enumerate((late_success, early_failure)):
        raw = providers.body(data)
        headers = providers.github_headers(issued.webhook_secret, raw, delivery=f"d-{n}")
        assert client.post(GITHUB, content=raw, headers=headers).status_code == 200
    (deployment,) = rows(session, Deployment)
    assert deployment.status == "success"


def test_github_ping_and_other_events(client: TestClient, issued: IssuedTeam) -> None:
    raw = providers.body(providers.payload("github_ping"))
    ping = client.post(
        GITHUB,
        content=raw,
        headers=providers.github_headers(issued.webhook_secret, raw, event="ping"),
    )
    assert ping.status_code == 200
    push = client.post(
        GITHUB,
        content=raw,
        headers=providers.github_headers(issued.webhook_secret, raw, event="push"),
    )
    assert push.status_code == 202
    assert "ignored" in push.json()["detail"]


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=00", "sha1=abc", "sha256=" + "0" * 64],
)
def test_github_bad_signature_is_401_and_stores_nothing(
    client: TestClient, session: Session, issued: IssuedTeam, signature: str | None
) -> None:
    raw = providers.body(providers.payload("github_deployment_status"))
    headers = providers.github_headers(issued.webhook_secret, raw)
    del headers["X-Hub-Signature-256"]
    if signature:
        headers["X-Hub-Signature-256"] = signature
    assert client.post(GITHUB, content=raw, headers=headers).status_code == 401
    assert count(session, Deployment) == 0 and count(session, WebhookDelivery) == 0


def test_github_signature_is_over_the_raw_bytes(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    data = providers.payload("github_deployment_status")
    signed = providers.body(data)
    # Same JSON, different bytes: the signature no longer matches.
    reformatted = json.dumps(data, indent=2).encode()
    headers = providers.github_headers(issued.webhook_secret, signed)
    assert client.post(GITHUB, content=reformatted, headers=headers).status_code == 401
    assert count(session, Deployment) == 0


def test_github_previous_secret_works_for_a_day_after_rotation(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    old = issued.webhook_secret
    team_service.rotate_webhook_secret(session=session, team=issued.team)
    raw = providers.body(providers.payload("github_deployment_status"))
    assert (
        client.post(GITHUB, content=raw, headers=providers.github_headers(old, raw)).status_code
        == 200
    )
    issued.team.webhook_secret_rotated_at = datetime.now(UTC) - timedelta(hours=25)
    session.add(issued.team)
    session.commit()
    headers = providers.github_headers(old, raw, delivery="d-2")
    assert client.post(GITHUB, content=raw, headers=headers).status_code == 401


def test_unknown_team_is_404(client: TestClient, issued: IssuedTeam) -> None:
    raw = providers.body(providers.payload("github_deployment_status"))
    response = client.post(
        "/api/v1/hooks/github/nobody",
        content=raw,
        headers=providers.github_headers(issued.webhook_secret, raw),
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", b'{"deployment_status": {}}', b'{"deployment": 1}'],
)
def test_github_malformed_signed_payloads_are_4xx(
    client: TestClient, session: Session, issued: IssuedTeam, raw: bytes
) -> None:
    response = client.post(
        GITHUB, content=raw, headers=providers.github_headers(issued.webhook_secret, raw)
    )
    assert 400 <= response.status_code < 500
    assert count(session, Deployment) == 0


def test_github_naive_timestamp_is_422(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    data = providers.github_status(deployment_id=9, state="success", at="2026-03-03T14:05:00")
    data["deployment"]["created_at"] = "2026-03-03T14:00:00"
    raw = providers.body(data)
    response = client.post(
        GITHUB, content=raw, headers=providers.github_headers(issued.webhook_secret, raw)
    )
    assert response.status_code == 422
    assert "UTC offset" in response.json()["detail"]
    assert count(session, Deployment) == 0


# --- GitLab ---------------------------------------------------------------------------------


def test_gitlab_deployment_keeps_the_offset(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    raw = providers.body(providers.payload("gitlab_deployment"))
    response = client.post(
        GITLAB, content=raw, headers=providers.gitlab_headers(issued.webhook_secret)
    )
    assert response.status_code == 200, response.text
    (deployment,) = rows(session, Deployment)
    # "2026-03-02 00:30:00 +0100" is 23:30 UTC the day before.
    assert deployment.finished_at == datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert deployment.external_id == "4821"
    assert deployment.sha == "3e7d91c2a4b5c6d7e8f90123456789abcdef0123"
    assert deployment.status == "success"


def test_gitlab_failed_and_running(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    headers = providers.gitlab_headers(issued.webhook_secret)
    running = providers.payload("gitlab_deployment") | {"status": "running"}
    assert client.post(GITLAB, content=providers.body(running), headers=headers).status_code == 202
    failed = providers.payload("gitlab_deployment") | {"status": "failed"}
    assert client.post(GITLAB, content=providers.body(failed), headers=headers).status_code == 200
    (deployment,) = rows(session, Deployment)
    assert deployment.status == "failure"


def test_gitlab_wrong_token_is_401(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    raw = providers.body(providers.payload("gitlab_deployment"))
    for headers in (providers.gitlab_headers("nope"), {"Content-Type": "application/json"}):
        assert client.post(GITLAB, content=raw, headers=headers).status_code == 401
    assert count(session, Deployment) == 0


def test_gitlab_retry_with_the_same_idempotency_key_counts_once(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    raw = providers.body(providers.payload("gitlab_deployment"))
    headers = providers.gitlab_headers(issued.webhook_secret, key="c5b8-1")
    assert client.post(GITLAB, content=raw, headers=headers).status_code == 200
    again = client.post(GITLAB, content=raw, headers=headers)
    assert again.json() == {"detail": "delivery already received"}
    assert count(session, Deployment) == 1


@pytest.mark.parametrize(
    "raw", [b"[]", b'{"object_kind": "deployment"}', b"{}", b'{"status_changed_at": 1}']
)
def test_gitlab_malformed_deployment_hooks_are_422(
    client: TestClient, session: Session, issued: IssuedTeam, raw: bytes
) -> None:
    response = client.post(
        GITLAB, content=raw, headers=providers.gitlab_headers(issued.webhook_secret)
    )
    assert response.status_code == 422
    assert count(session, Deployment) == 0


def test_gitlab_other_events_are_ignored(client: TestClient, issued: IssuedTeam) -> None:
    headers = providers.gitlab_headers(issued.webhook_secret) | {"X-Gitlab-Event": "Push Hook"}
    response = client.post(GITLAB, content=b'{"object_kind": "push"}', headers=headers)
    assert response.status_code == 202


# --- PagerDuty ------------------------------------------------------------------------------


def send_pd(client: TestClient, data: dict[str, Any], *secrets: str) -> Any:
    raw = providers.body(data)
    return client.post(PAGERDUTY, content=raw, headers=providers.pagerduty_headers(raw, *secrets))


def test_pagerduty_trigger_then_resolve(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    trigger = send_pd(
        client, providers.payload("pagerduty_incident_triggered"), issued.webhook_secret
    )
    assert trigger.status_code == 200, trigger.text
    resolve = send_pd(
        client, providers.payload("pagerduty_incident_resolved"), issued.webhook_secret
    )
    assert resolve.status_code == 200
    (incident,) = rows(session, Incident)
    assert incident.external_id == "Q1INC2PAYMT7"
    assert incident.started_at == datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
    assert incident.resolved_at == datetime(2026, 3, 3, 16, 30, tzinfo=UTC)
    assert incident.severity == "P1"
    assert incident.title == "Card authorisations failing for 12% of requests"


def test_pagerduty_resolve_before_trigger_is_completed_later(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    resolve = send_pd(
        client, providers.payload("pagerduty_incident_resolved"), issued.webhook_secret
    )
    assert resolve.status_code == 200
    (incident,) = rows(session, Incident)
    assert incident.started_at is None
    assert incident.resolved_at == datetime(2026, 3, 3, 16, 30, tzinfo=UTC)
    send_pd(client, providers.payload("pagerduty_incident_triggered"), issued.webhook_secret)
    (incident,) = rows(session, Incident)
    assert incident.started_at == datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
    assert incident.resolved_at == datetime(2026, 3, 3, 16, 30, tzinfo=UTC)


def test_pagerduty_reopened_incident_is_open_again(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    send_pd(client, providers.payload("pagerduty_incident_triggered"), issued.webhook_secret)
    send_pd(client, providers.payload("pagerduty_incident_resolved"), issued.webhook_secret)
    reopened = providers.pagerduty_event(
        "resolved", event_id="E-reopen", incident_id="Q1INC2PAYMT7", at="2026-03-03T17:00:00Z"
    )
    reopened["event"]["event_type"] = "incident.reopened"
    assert send_pd(client, reopened, issued.webhook_secret).status_code == 200
    (incident,) = rows(session, Incident)
    assert incident.resolved_at is None
    assert incident.started_at == datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def test_pagerduty_duplicate_event_is_counted_once(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    trigger = providers.payload("pagerduty_incident_triggered")
    send_pd(client, trigger, issued.webhook_secret)
    # Resent after a manual edit elsewhere: the same event id changes nothing.
    trigger["event"]["occurred_at"] = "2026-03-03T15:30:00Z"
    again = send_pd(client, trigger, issued.webhook_secret)
    assert again.json() == {"detail": "delivery already received"}
    (incident,) = rows(session, Incident)
    assert incident.started_at == datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def test_pagerduty_several_signatures_during_rotation(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    data = providers.payload("pagerduty_incident_triggered")
    assert send_pd(client, data, "some-other-secret", issued.webhook_secret).status_code == 200
    assert count(session, Incident) == 1


def test_pagerduty_bad_signature_is_401(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    data = providers.payload("pagerduty_incident_triggered")
    assert send_pd(client, data, "wrong").status_code == 401
    raw = providers.body(data)
    no_header = client.post(PAGERDUTY, content=raw, headers={"Content-Type": "application/json"})
    assert no_header.status_code == 401
    assert count(session, Incident) == 0 and count(session, WebhookDelivery) == 0


def test_pagerduty_resolve_before_the_start_is_422(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    send_pd(client, providers.payload("pagerduty_incident_triggered"), issued.webhook_secret)
    early = providers.pagerduty_event(
        "resolved", event_id="E-early", incident_id="Q1INC2PAYMT7", at="2026-03-03T14:00:00Z"
    )
    response = send_pd(client, early, issued.webhook_secret)
    assert response.status_code == 422
    assert "before it started" in response.json()["detail"]
    (incident,) = rows(session, Incident)
    assert incident.resolved_at is None
    assert count(session, WebhookDelivery) == 1  # only the trigger's


def test_pagerduty_other_events_are_accepted_and_ignored(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    data = providers.payload("pagerduty_incident_triggered")
    data["event"]["event_type"] = "incident.acknowledged"
    assert send_pd(client, data, issued.webhook_secret).status_code == 202
    assert count(session, Incident) == 0


@pytest.mark.parametrize(
    "data",
    [
        {"event": {"id": "x"}},
        {
            "event": {
                "id": "x",
                "event_type": "incident.triggered",
                "resource_type": "incident",
                "occurred_at": "2026-03-03T15:00:00",
                "data": {"id": "P1"},
            }
        },
        {
            "event": {
                "id": "x",
                "event_type": "incident.triggered",
                "resource_type": "incident",
                "occurred_at": "2026-03-03T15:00:00Z",
                "data": {"title": "no id"},
            }
        },
    ],
)
def test_pagerduty_malformed_payloads_are_422(
    client: TestClient, session: Session, issued: IssuedTeam, data: dict[str, Any]
) -> None:
    assert send_pd(client, data, issued.webhook_secret).status_code == 422
    assert count(session, Incident) == 0
