"""Delivery ingest: the team's own API (ingest token) and the provider webhooks (shared secret)."""

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.db import WriteSessionDep
from app.delivery import service, webhooks
from app.delivery.models import Deployment, DeploymentIn, Incident, IncidentIn
from app.teams import service as team_service
from app.teams.models import Team

router = APIRouter(prefix="/api/v1", tags=["delivery"])

T = TypeVar("T")


def ingest_team(request: Request, session: WriteSessionDep) -> Team:
    """The team whose ingest token is in the Authorization header, or 401."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    team = None
    if scheme.lower() == "bearer" and token.strip():
        team = team_service.get_by_ingest_token(session=session, token=token.strip())
    if team is None:
        raise HTTPException(
            status_code=401,
            detail="A valid ingest token is required: send 'Authorization: Bearer <ingest token>' "
            "(shown by `redbutton team create`).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return team


IngestTeam = Annotated[Team, Depends(ingest_team)]


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent: signatures are computed over these bytes."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


class DeploymentOut(BaseModel):
    """A stored deployment."""

    external_id: str
    environment: str
    status: str
    started_at: datetime | None
    finished_at: datetime
    sha: str | None
    is_rollback: bool
    rolls_back: str | None
    rolled_back: bool
    created: bool


class IncidentLinkOut(BaseModel):
    """The deployment an incident is linked to, and how."""

    deployment_external_id: str
    method: str


class IncidentOut(BaseModel):
    """A stored incident."""

    external_id: str
    started_at: datetime | None
    resolved_at: datetime | None
    severity: str | None
    title: str | None
    deployment_external_id: str | None
    sha: str | None
    link: IncidentLinkOut | None
    created: bool


def _deployment_out(saved: service.Saved[Deployment]) -> DeploymentOut:
    d = saved.record
    return DeploymentOut(
        external_id=d.external_id,
        environment=d.environment,
        status=d.status,
        started_at=d.started_at,
        finished_at=d.finished_at,
        sha=d.sha,
        is_rollback=d.is_rollback,
        rolls_back=d.rolls_back,
        rolled_back=d.rolled_back,
        created=saved.created,
    )


def _incident_out(session: Session, saved: service.Saved[Incident]) -> IncidentOut:
    i = saved.record
    found = service.get_link(session=session, incident=i)
    link = (
        IncidentLinkOut(deployment_external_id=found[1].external_id, method=found[0].method)
        if found
        else None
    )
    return IncidentOut(
        external_id=i.external_id,
        started_at=i.started_at,
        resolved_at=i.resolved_at,
        severity=i.severity,
        title=i.title,
        deployment_external_id=i.deployment_external_id,
        sha=i.sha,
        link=link,
        created=saved.created,
    )


def _once(session: Session, write: Callable[[], T]) -> T:
    """Run a write; if a concurrent request created the same row first, redo it as an update."""
    try:
        try:
            return write()
        except IntegrityError:
            session.rollback()
            return write()
    except service.IngestError as exc:
        session.rollback()
        raise HTTPException(status_code=422, detail=str(exc)) from exc


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(status_code=400, detail=f"The body is not valid JSON: {exc}") from exc


def _payload(parse: Callable[[Any], T], payload: Any) -> T:
    try:
        return parse(payload)
    except webhooks.PayloadError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


def _webhook_team(session: Session, slug: str) -> Team:
    team = team_service.get_by_slug(session=session, slug=slug)
    if team is None:
        raise HTTPException(status_code=404, detail=f"No team with slug {slug!r}.")
    return team


def _unauthorized(what: str) -> HTTPException:
    return HTTPException(
        status_code=401,
        detail=f"{what} does not match this team's webhook secret; nothing was stored.",
    )


@router.post("/deployments", response_model=DeploymentOut, status_code=201)
def post_deployment(data: DeploymentIn, team: IngestTeam, session: WriteSessionDep) -> JSONResponse:
    """Record a deployment (201), or update the one with this external_id (200)."""
    saved = _once(session, lambda: service.record_deployment(session=session, team=team, data=data))
    return JSONResponse(
        _deployment_out(saved).model_dump(mode="json"), status_code=201 if saved.created else 200
    )


@router.post("/incidents", response_model=IncidentOut, status_code=201)
def post_incident(data: IncidentIn, team: IngestTeam, session: WriteSessionDep) -> JSONResponse:
    """Record an incident (201), or update the one with this external_id (200)."""
    saved = _once(session, lambda: service.record_incident(session=session, team=team, data=data))
    return JSONResponse(
        _incident_out(session, saved).model_dump(mode="json"),
        status_code=201 if saved.created else 200,
    )


@router.post("/hooks/github/{team_slug}")
def github_hook(
    team_slug: str,
    body: RawBody,
    session: WriteSessionDep,
    x_github_event: Annotated[str | None, Header()] = None,
    x_github_delivery: Annotated[str | None, Header(max_length=200)] = None,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """GitHub `deployment_status` events, signed with the team's webhook secret."""
    team = _webhook_team(session, team_slug)
    if not webhooks.github_signature_valid(
        body=body, header=x_hub_signature_256, secrets=team_service.webhook_secrets(team)
    ):
        raise _unauthorized("X-Hub-Signature-256")
    if x_github_event == "ping":
        return JSONResponse({"detail": "pong"}, status_code=200)
    if x_github_event != "deployment_status":
        return JSONResponse(
            {"detail": f"event {x_github_event!r} is not used; ignored"}, status_code=202
        )
    if not x_github_delivery:
        raise HTTPException(status_code=400, detail="X-GitHub-Delivery header is missing.")
    data = _payload(webhooks.github_deployment, _json(body))
    if data is None:
        service.record_ignored_delivery(
            session=session, team=team, provider="github", delivery_id=x_github_delivery
        )
        return JSONResponse(
            {"detail": "deployment is not in a final state yet; ignored"}, status_code=202
        )
    saved = _once(
        session,
        lambda: service.record_webhook_deployment(
            session=session,
            team=team,
            provider="github",
            delivery_id=x_github_delivery,
            data=data,
        ),
    )
    if saved is None:
        return JSONResponse({"detail": "delivery already received"}, status_code=200)
    return JSONResponse(_deployment_out(saved).model_dump(mode="json"), status_code=200)


@router.post("/hooks/gitlab/{team_slug}")
def gitlab_hook(
    team_slug: str,
    body: RawBody,
    session: WriteSessionDep,
    x_gitlab_token: Annotated[str | None, Header()] = None,
    x_gitlab_event: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    x_gitlab_event_uuid: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    """GitLab deployment events, authenticated by X-Gitlab-Token (the team's webhook secret)."""
    team = _webhook_team(session, team_slug)
    if not webhooks.gitlab_token_valid(
        header=x_gitlab_token, secrets=team_service.webhook_secrets(team)
    ):
        raise _unauthorized("X-Gitlab-Token")
    payload = _json(body)
    kind = payload.get("object_kind") if isinstance(payload, dict) else None
    if x_gitlab_event != "Deployment Hook" and (x_gitlab_event is not None or kind != "deployment"):
        return JSONResponse(
            {"detail": f"event {x_gitlab_event or kind!r} is not used; ignored"}, status_code=202
        )
    data = _payload(webhooks.gitlab_deployment, payload)
    if data is None:
        return JSONResponse(
            {"detail": "deployment is not in a final state; ignored"}, status_code=202
        )
    # GitLab resends a failed delivery with the same key; without one the external id dedupes.
    delivery_id = idempotency_key or x_gitlab_event_uuid
    saved = _once(
        session,
        lambda: service.record_webhook_deployment(
            session=session, team=team, provider="gitlab", delivery_id=delivery_id, data=data
        ),
    )
    if saved is None:
        return JSONResponse({"detail": "delivery already received"}, status_code=200)
    return JSONResponse(_deployment_out(saved).model_dump(mode="json"), status_code=200)


@router.post("/hooks/pagerduty/{team_slug}")
def pagerduty_hook(
    team_slug: str,
    body: RawBody,
    session: WriteSessionDep,
    x_pagerduty_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """PagerDuty v3 incident events, signed with the team's webhook secret."""
    team = _webhook_team(session, team_slug)
    if not webhooks.pagerduty_signature_valid(
        body=body, header=x_pagerduty_signature, secrets=team_service.webhook_secrets(team)
    ):
        raise _unauthorized("X-PagerDuty-Signature")
    payload = _json(body)
    event_id = _payload(webhooks.pagerduty_event_id, payload)
    if len(event_id) > 200:
        raise HTTPException(status_code=422, detail="event.id is longer than 200 characters")
    event = _payload(webhooks.pagerduty_incident, payload)
    if event is None:
        service.record_ignored_delivery(
            session=session, team=team, provider="pagerduty", delivery_id=event_id
        )
        return JSONResponse({"detail": "event type is not used; ignored"}, status_code=202)
    saved = _once(
        session,
        lambda: service.record_webhook_incident(
            session=session, team=team, provider="pagerduty", delivery_id=event_id, event=event
        ),
    )
    if saved is None:
        return JSONResponse({"detail": "delivery already received"}, status_code=200)
    return JSONResponse(_incident_out(session, saved).model_dump(mode="json"), status_code=200)
