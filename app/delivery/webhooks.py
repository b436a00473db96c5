"""Provider webhooks: verifying who sent them, and reading what they say.

Each provider's payload is reduced to our own DeploymentIn or IncidentEvent, so the rules of
the ingest API (offsets required, ends after starts) apply to webhooks unchanged.
Payload shapes follow the providers' documented examples: GitHub `deployment_status`,
GitLab "Deployment Hook", PagerDuty v3 incident events.
"""

import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from app.delivery.models import DeploymentIn, IncidentEvent
from app.teams.tokens import same_secret


class PayloadError(ValueError):
    """The payload is not the documented shape; the message says what is wrong."""


def _hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_signature_valid(*, body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>` over the raw body, with any current secret."""
    if not header or not header.startswith("sha256="):
        return False
    given = header.removeprefix("sha256=").strip().lower()
    # Compare against every secret even after a match, so timing says nothing about which.
    matches = [hmac.compare_digest(_hmac_hex(secret, body), given) for secret in secrets]
    return any(matches)


def gitlab_token_valid(*, header: str | None, secrets: Sequence[str]) -> bool:
    """`X-Gitlab-Token` is the shared secret itself."""
    if not header:
        return False
    matches = [same_secret(header, secret) for secret in secrets]
    return any(matches)


def pagerduty_signature_valid(*, body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """`X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`: any signature made with any secret."""
    if not header:
        return False
    given = [
        part.strip().removeprefix("v1=").lower()
        for part in header.split(",")
        if part.strip().startswith("v1=")
    ]
    expected = [_hmac_hex(secret, body) for secret in secrets]
    matches = [hmac.compare_digest(e, g) for e in expected for g in given]
    return any(matches)


def _invalid(exc: ValidationError, what: str) -> PayloadError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return PayloadError(f"{what}: {where}: {first.get('msg', 'invalid value')}")


# --- GitHub ---------------------------------------------------------------------------------


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _GitHubStatus(_Loose):
    state: str
    environment: str | None = None
    created_at: datetime
    updated_at: datetime | None = None


class _GitHubDeployment(_Loose):
    id: int
    sha: str | None = None
    environment: str
    created_at: datetime | None = None


class _GitHubDeploymentStatusEvent(_Loose):
    deployment_status: _GitHubStatus
    deployment: _GitHubDeployment


GITHUB_FINAL_STATES = {"success": "success", "failure": "failure", "error": "failure"}


def github_deployment(payload: Any) -> DeploymentIn | None:
    """A `deployment_status` event as a deployment; None while the deployment is not final."""
    try:
        event = _GitHubDeploymentStatusEvent.model_validate(payload)
    except ValidationError as exc:
        raise _invalid(exc, "not a GitHub deployment_status payload") from exc
    status = GITHUB_FINAL_STATES.get(event.deployment_status.state)
    if status is None:
        return None  # pending, queued, in_progress, inactive…: not a finished deployment
    finished = event.deployment_status.updated_at or event.deployment_status.created_at
    try:
        return DeploymentIn(
            external_id=str(event.deployment.id),
            environment=event.deployment_status.environment or event.deployment.environment,
            status=status,
            finished_at=finished,
            started_at=event.deployment.created_at,
            sha=event.deployment.sha or None,
        )
    except ValidationError as exc:
        raise _invalid(exc, "GitHub deployment_status payload") from exc


# --- GitLab ---------------------------------------------------------------------------------


class _GitLabDeploymentEvent(_Loose):
    object_kind: str
    status: str
    status_changed_at: str
    deployment_id: int
    environment: str
    short_sha: str | None = None
    commit_url: str | None = None


GITLAB_FINAL_STATES = {"success": "success", "failed": "failure"}
_FULL_SHA = re.compile(r"[0-9a-f]{40}$")


def parse_gitlab_time(value: str) -> datetime:
    """GitLab writes `2021-04-28 21:50:00 +0200`; keep that offset (ISO 8601 is read too)."""
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PayloadError(f"status_changed_at {value!r} is not a timestamp") from exc
    if parsed.tzinfo is None:
        raise PayloadError(f"status_changed_at {value!r} has no UTC offset: give a UTC offset")
    return parsed


def gitlab_deployment(payload: Any) -> DeploymentIn | None:
    """A GitLab deployment event as a deployment; None while it is running or was canceled."""
    try:
        event = _GitLabDeploymentEvent.model_validate(payload)
    except ValidationError as exc:
        raise _invalid(exc, "not a GitLab deployment event") from exc
    if event.object_kind != "deployment":
        raise PayloadError(f"object_kind is {event.object_kind!r}, not 'deployment'")
    status = GITLAB_FINAL_STATES.get(event.status)
    if status is None:
        return None
    # The payload carries the full sha only inside commit_url.
    sha = event.short_sha
    if event.commit_url:
        tail = event.commit_url.rstrip("/").rsplit("/", 1)[-1]
        if _FULL_SHA.match(tail):
            sha = tail
    try:
        return DeploymentIn(
            external_id=str(event.deployment_id),
            environment=event.environment,
            status=status,
            finished_at=parse_gitlab_time(event.status_changed_at),
            sha=sha or None,
        )
    except ValidationError as exc:
        raise _invalid(exc, "GitLab deployment event") from exc


# --- PagerDuty ------------------------------------------------------------------------------


class _PagerDutyReference(_Loose):
    summary: str | None = None


class _PagerDutyIncident(_Loose):
    id: str
    title: str | None = None
    urgency: str | None = None
    priority: _PagerDutyReference | None = None


class _PagerDutyEvent(_Loose):
    id: str
    event_type: str
    resource_type: str
    occurred_at: datetime
    data: dict[str, Any]


class _PagerDutyEnvelope(_Loose):
    event: _PagerDutyEvent


def pagerduty_event_id(payload: Any) -> str:
    """The event id PagerDuty deduplicates on."""
    try:
        return _PagerDutyEnvelope.model_validate(payload).event.id
    except ValidationError as exc:
        raise _invalid(exc, "not a PagerDuty v3 webhook payload") from exc


def pagerduty_incident(payload: Any) -> IncidentEvent | None:
    """A v3 incident event (triggered, resolved, reopened); None for events that change nothing."""
    try:
        event = _PagerDutyEnvelope.model_validate(payload).event
    except ValidationError as exc:
        raise _invalid(exc, "not a PagerDuty v3 webhook payload") from exc
    if event.resource_type != "incident" or event.event_type not in (
        "incident.triggered",
        "incident.resolved",
        "incident.reopened",
    ):
        return None
    if event.occurred_at.tzinfo is None:
        raise PayloadError("event.occurred_at has no UTC offset: give a UTC offset")
    try:
        incident = _PagerDutyIncident.model_validate(event.data)
    except ValidationError as exc:
        raise _invalid(exc, "event.data is not a PagerDuty incident") from exc
    severity = (incident.priority.summary if incident.priority else None) or incident.urgency
    try:
        return _incident_event(event, incident, severity)
    except ValidationError as exc:
        raise _invalid(exc, "PagerDuty incident event") from exc


def _incident_event(
    event: _PagerDutyEvent, incident: _PagerDutyIncident, severity: str | None
) -> IncidentEvent:
    return IncidentEvent(
        external_id=incident.id,
        # The spec's rule: the trigger's time is the start, the resolve's time the end; a
        # resolve that arrives first leaves the start unknown until the trigger comes.
        started_at=event.occurred_at if event.event_type == "incident.triggered" else None,
        resolved_at=event.occurred_at if event.event_type == "incident.resolved" else None,
        reopened=event.event_type == "incident.reopened",
        severity=severity[:64] if severity else None,
        title=incident.title[:500] if incident.title else None,
    )
