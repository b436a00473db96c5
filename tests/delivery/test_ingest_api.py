"""`POST /api/v1/deployments` and `/incidents` with a team's ingest token."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.delivery.models import Deployment, Incident, IncidentLink
from app.teams.service import IssuedTeam
from tests.factories import make_team


@pytest.fixture
def issued(session: Session) -> IssuedTeam:
    issued = make_team(session, timezone="Europe/Paris")
    session.commit()  # release SQLite's write lock before the requests
    return issued


def auth(issued: IssuedTeam) -> dict[str, str]:
    return {"Authorization": f"Bearer {issued.ingest_token}"}


def count(session: Session, model: Any) -> int:
    session.expire_all()
    value = int(session.exec(select(func.count()).select_from(model)).one())
    session.commit()
    return value


DEPLOY = {
    "external_id": "build-101",
    "environment": "production",
    "status": "success",
    "started_at": "2026-03-03T09:50:00+01:00",
    "finished_at": "2026-03-03T10:00:00+01:00",
    "sha": "9f2c4e1",
}


def test_a_deployment_is_created_then_updated_by_external_id(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    created = client.post("/api/v1/deployments", json=DEPLOY, headers=auth(issued))
    assert created.status_code == 201, created.text
    assert created.json()["finished_at"] == "2026-03-03T09:00:00Z"
    assert created.json()["created"] is True
    updated = client.post(
        "/api/v1/deployments", json={**DEPLOY, "status": "failure"}, headers=auth(issued)
    )
    assert updated.status_code == 200
    assert count(session, Deployment) == 1
    stored = session.exec(select(Deployment)).one()
    assert stored.status == "failure"
    assert stored.finished_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    assert stored.team_id == issued.team.id


def test_a_rollback_marks_the_deployment_it_rolls_back(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    client.post("/api/v1/deployments", json=DEPLOY, headers=auth(issued))
    rollback = {
        **DEPLOY,
        "external_id": "build-102",
        "finished_at": "2026-03-03T10:20:00+01:00",
        "started_at": None,
        "is_rollback": True,
        "rolls_back": "build-101",
    }
    response = client.post("/api/v1/deployments", json=rollback, headers=auth(issued))
    assert response.status_code == 201, response.text
    session.expire_all()
    rolled = session.exec(select(Deployment).where(Deployment.external_id == "build-101")).one()
    assert rolled.rolled_back is True
    assert response.json()["rolled_back"] is False and response.json()["is_rollback"] is True


def test_an_incident_reports_its_link(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    client.post("/api/v1/deployments", json=DEPLOY, headers=auth(issued))
    incident = {
        "external_id": "INC-7",
        "started_at": "2026-03-03T11:00:00+01:00",
        "resolved_at": "2026-03-03T11:45:00+01:00",
        "severity": "SEV2",
        "title": "Checkout errors",
        "deployment_external_id": "build-101",
    }
    response = client.post("/api/v1/incidents", json=incident, headers=auth(issued))
    assert response.status_code == 201, response.text
    assert response.json()["link"] == {
        "deployment_external_id": "build-101",
        "method": "explicit_id",
    }
    again = client.post("/api/v1/incidents", json=incident, headers=auth(issued))
    assert again.status_code == 200
    assert count(session, Incident) == 1 and count(session, IncidentLink) == 1


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("/api/v1/deployments", {**DEPLOY, "finished_at": "2026-03-03T10:00:00"}, "UTC offset"),
        (
            "/api/v1/incidents",
            {"external_id": "x", "started_at": "2026-03-03T10:00:00"},
            "UTC offset",
        ),
        (
            "/api/v1/incidents",
            {
                "external_id": "x",
                "started_at": "2026-03-03T10:00:00Z",
                "resolved_at": "2026-03-03T09:00:00Z",
            },
            "resolved_at is before started_at",
        ),
        ("/api/v1/deployments", {**DEPLOY, "status": "pending"}, "status"),
        (
            "/api/v1/deployments",
            {**DEPLOY, "finished_at": "0001-01-01T00:00:00+01:00"},
            "not plausible",
        ),
        ("/api/v1/deployments", {**DEPLOY, "finished_at": "yesterday"}, "finished_at"),
        ("/api/v1/deployments", {**DEPLOY, "enviroment": "prod"}, "enviroment"),
        (
            "/api/v1/deployments",
            {**DEPLOY, "started_at": "2026-03-03T11:00:00+01:00"},
            "started_at is after finished_at",
        ),
    ],
)
def test_bad_bodies_are_refused_with_a_message_and_nothing_stored(
    client: TestClient,
    session: Session,
    issued: IssuedTeam,
    path: str,
    body: dict[str, Any],
    needle: str,
) -> None:
    response = client.post(path, json=body, headers=auth(issued))
    assert response.status_code == 422
    assert needle in response.text
    assert count(session, Deployment) == 0 and count(session, Incident) == 0


def test_an_update_that_would_end_an_incident_before_it_started_is_refused(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    first = {"external_id": "INC-1", "started_at": "2026-03-03T10:00:00Z"}
    assert client.post("/api/v1/incidents", json=first, headers=auth(issued)).status_code == 201
    later = {**first, "started_at": "2026-03-03T12:00:00Z", "resolved_at": "2026-03-03T11:00:00Z"}
    response = client.post("/api/v1/incidents", json=later, headers=auth(issued))
    assert response.status_code == 422
    session.expire_all()
    stored = session.exec(select(Incident)).one()
    assert stored.started_at == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert stored.resolved_at is None


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}],
)
def test_without_the_ingest_token_nothing_is_stored(
    client: TestClient, session: Session, issued: IssuedTeam, headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/deployments", json=DEPLOY, headers=headers)
    assert response.status_code == 401
    assert "ingest token" in response.json()["detail"]
    assert count(session, Deployment) == 0


def test_a_token_only_writes_to_its_own_team(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    other = make_team(session)
    session.commit()
    client.post("/api/v1/deployments", json=DEPLOY, headers=auth(other))
    client.post("/api/v1/deployments", json=DEPLOY, headers=auth(issued))
    session.expire_all()
    owners = {d.team_id for d in session.exec(select(Deployment))}
    assert owners == {issued.team.id, other.team.id}


def test_malformed_and_oversized_bodies_are_client_errors(
    client: TestClient, session: Session, issued: IssuedTeam
) -> None:
    headers = {**auth(issued), "Content-Type": "application/json"}
    broken = client.post("/api/v1/deployments", content=b'{"external_id": ', headers=headers)
    assert broken.status_code == 422
    not_object = client.post("/api/v1/incidents", content=b"[1, 2]", headers=headers)
    assert not_object.status_code == 422
    huge = client.post(
        "/api/v1/deployments", content=b'{"x": "' + b"a" * 70_000 + b'"}', headers=headers
    )
    assert huge.status_code == 413
    assert count(session, Deployment) == 0
