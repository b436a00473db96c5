"""Recording deployments and incidents, idempotently, and tying incidents to deployments.

Every public function here is one transaction: it commits what it changed, or raises
IngestError (a 422 for the API, a line-numbered error for the CSV import) before anything is
written. Private `_apply_*` functions change the session without committing, so the CSV import
can apply a whole file and commit once.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, case, func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from app.clock import utcnow
from app.delivery.models import (
    Deployment,
    DeploymentIn,
    Incident,
    IncidentEvent,
    IncidentIn,
    IncidentLink,
    LinkMethod,
    WebhookDelivery,
)
from app.teams.models import Team


class IngestError(ValueError):
    """The data cannot be recorded as sent; the message says why (and which record, if many)."""

    def __init__(self, message: str, *, record: int | None = None) -> None:
        super().__init__(message)
        self.record = record


T = TypeVar("T")


@dataclass(frozen=True)
class Saved(Generic[T]):
    """A record after ingest, and whether this call created it."""

    record: T
    created: bool


def _team_id(team: Team) -> int:
    assert team.id is not None
    return team.id


def get_deployment(*, session: Session, team: Team, external_id: str) -> Deployment | None:
    """The team's deployment with this external id."""
    return session.exec(
        select(Deployment)
        .where(Deployment.team_id == _team_id(team))
        .where(Deployment.external_id == external_id)
    ).first()


def get_incident(*, session: Session, team: Team, external_id: str) -> Incident | None:
    """The team's incident with this external id."""
    return session.exec(
        select(Incident)
        .where(Incident.team_id == _team_id(team))
        .where(Incident.external_id == external_id)
    ).first()


def get_link(*, session: Session, incident: Incident) -> tuple[IncidentLink, Deployment] | None:
    """The deployment this incident is linked to, with the link (and its method)."""
    row = session.exec(
        select(IncidentLink, Deployment)
        .join(Deployment, col(Deployment.id) == col(IncidentLink.deployment_id))
        .where(IncidentLink.incident_id == incident.id)
    ).first()
    return (row[0], row[1]) if row else None


def record_deployment(
    *, session: Session, team: Team, data: DeploymentIn, source: str = "api"
) -> Saved[Deployment]:
    """Create or update a deployment by external id (one transaction)."""
    saved = _apply_deployment(session=session, team=team, data=data, source=source)
    session.commit()
    session.refresh(saved.record)
    return saved


def record_incident(
    *, session: Session, team: Team, data: IncidentIn, source: str = "api"
) -> Saved[Incident]:
    """Create or update an incident by external id (one transaction)."""
    saved = _apply_incident(session=session, team=team, data=data, source=source)
    session.commit()
    session.refresh(saved.record)
    return saved


def import_deployments(
    *, session: Session, team: Team, records: Sequence[DeploymentIn], source: str = "csv"
) -> tuple[int, int]:
    """Apply many deployments in one transaction; returns (created, updated). All or nothing."""
    steps = [
        partial(_apply_deployment, session=session, team=team, data=record, source=source)
        for record in records
    ]
    return _import(session, steps)


def import_incidents(
    *, session: Session, team: Team, records: Sequence[IncidentIn], source: str = "csv"
) -> tuple[int, int]:
    """Apply many incidents in one transaction; returns (created, updated). All or nothing."""
    steps = [
        partial(_apply_incident, session=session, team=team, data=record, source=source)
        for record in records
    ]
    return _import(session, steps)


def _import(session: Session, steps: Sequence[Callable[[], Saved[Any]]]) -> tuple[int, int]:
    created = updated = 0
    for index, step in enumerate(steps):
        try:
            saved = step()
        except IngestError as exc:
            session.rollback()
            raise IngestError(str(exc), record=index) from exc
        created += saved.created
        updated += not saved.created
    session.commit()
    return created, updated


def claim_delivery(*, session: Session, team: Team, provider: str, delivery_id: str) -> bool:
    """Mark a provider delivery as received; False when it was already (nothing is written)."""
    exists = session.exec(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.provider == provider)
        .where(WebhookDelivery.delivery_id == delivery_id)
    ).first()
    if exists is not None:
        return False
    try:
        # A savepoint, so a concurrent twin that won the race only undoes this insert.
        with session.begin_nested():
            session.add(
                WebhookDelivery(provider=provider, delivery_id=delivery_id, team_id=_team_id(team))
            )
    except IntegrityError:
        return False
    return True


def record_webhook_deployment(
    *, session: Session, team: Team, provider: str, delivery_id: str | None, data: DeploymentIn
) -> Saved[Deployment] | None:
    """Record a provider's deployment event once per delivery; None for a redelivery."""
    if delivery_id and not claim_delivery(
        session=session, team=team, provider=provider, delivery_id=delivery_id
    ):
        session.rollback()
        return None
    saved = _apply_deployment(session=session, team=team, data=data, source=provider, newer=True)
    session.commit()
    session.refresh(saved.record)
    return saved


def record_webhook_incident(
    *, session: Session, team: Team, provider: str, delivery_id: str, event: IncidentEvent
) -> Saved[Incident] | None:
    """Record a provider's incident event once per delivery; None for a redelivery."""
    if not claim_delivery(session=session, team=team, provider=provider, delivery_id=delivery_id):
        session.rollback()
        return None
    saved = _apply_incident_event(session=session, team=team, event=event, source=provider)
    session.commit()
    session.refresh(saved.record)
    return saved


def record_ignored_delivery(
    *, session: Session, team: Team, provider: str, delivery_id: str
) -> bool:
    """Remember a delivery that changes nothing, so its redelivery is recognised too."""
    claimed = claim_delivery(session=session, team=team, provider=provider, delivery_id=delivery_id)
    session.commit()
    return claimed


def link_manually(
    *, session: Session, team: Team, incident: Incident, deployment: Deployment
) -> IncidentLink:
    """Blame this incident on this deployment by hand; automatic linking leaves it alone."""
    if incident.team_id != team.id or deployment.team_id != team.id:
        raise IngestError("the incident and the deployment must belong to this team")
    _set_link(session, incident, deployment, "manual")
    session.commit()
    link = session.get(IncidentLink, incident.id)
    assert link is not None
    return link


# --- applying changes (no commit) -----------------------------------------------------------


def _apply_deployment(
    *, session: Session, team: Team, data: DeploymentIn, source: str, newer: bool = False
) -> Saved[Deployment]:
    """Upsert a deployment; with `newer`, an event older than what is stored changes nothing."""
    deployment = get_deployment(session=session, team=team, external_id=data.external_id)
    created = deployment is None
    if deployment is None:
        deployment = Deployment(
            team_id=_team_id(team),
            external_id=data.external_id,
            environment=data.environment,
            status=data.status,
            finished_at=data.finished_at,
            source=source,
        )
    elif newer and data.finished_at < deployment.finished_at:
        # A provider's status events can arrive out of order: the latest state wins.
        return Saved(deployment, False)
    previous_target = deployment.rolls_back
    fields = data.model_fields_set | {"environment", "status", "finished_at"}
    for name in ("environment", "status", "finished_at", "started_at", "sha"):
        if name in fields:
            setattr(deployment, name, getattr(data, name))
    if "is_rollback" in fields or "rolls_back" in fields:
        deployment.is_rollback = data.is_rollback
        deployment.rolls_back = data.rolls_back
    if deployment.started_at is not None and deployment.started_at > deployment.finished_at:
        raise IngestError("started_at is after finished_at: a deployment ends after it starts")
    deployment.updated_at = utcnow()
    session.add(deployment)
    session.flush()
    for external_id in {deployment.external_id, deployment.rolls_back, previous_target}:
        if external_id:
            _refresh_rolled_back(session, team, external_id)
    _relink_around(session, team, deployment)
    return Saved(deployment, created)


def _refresh_rolled_back(session: Session, team: Team, external_id: str) -> None:
    """A deployment is rolled back while some rollback deployment of the team names it."""
    target = get_deployment(session=session, team=team, external_id=external_id)
    if target is None:
        return  # the rollback arrived first; the target is marked when it arrives
    named = session.exec(
        select(func.count())
        .select_from(Deployment)
        .where(Deployment.team_id == _team_id(team))
        .where(Deployment.rolls_back == external_id)
    ).one()
    if target.rolled_back != (named > 0):
        target.rolled_back = named > 0
        session.add(target)
        session.flush()


def _apply_incident(
    *, session: Session, team: Team, data: IncidentIn, source: str
) -> Saved[Incident]:
    incident = get_incident(session=session, team=team, external_id=data.external_id)
    created = incident is None
    if incident is None:
        incident = Incident(team_id=_team_id(team), external_id=data.external_id, source=source)
    fields = data.model_fields_set | {"started_at"}
    for name in ("started_at", "resolved_at", "severity", "title", "deployment_external_id", "sha"):
        if name in fields:
            setattr(incident, name, getattr(data, name))
    return Saved(_save_incident(session, team, incident), created)


def _apply_incident_event(
    *, session: Session, team: Team, event: IncidentEvent, source: str
) -> Saved[Incident]:
    incident = get_incident(session=session, team=team, external_id=event.external_id)
    created = incident is None
    if incident is None:
        incident = Incident(team_id=_team_id(team), external_id=event.external_id, source=source)
    if event.started_at is not None:
        incident.started_at = event.started_at
    if event.resolved_at is not None:
        incident.resolved_at = event.resolved_at
    if event.reopened:
        incident.resolved_at = None
    if event.severity is not None:
        incident.severity = event.severity
    if event.title is not None:
        incident.title = event.title
    return Saved(_save_incident(session, team, incident), created)


def _save_incident(session: Session, team: Team, incident: Incident) -> Incident:
    if (
        incident.started_at is not None
        and incident.resolved_at is not None
        and incident.resolved_at < incident.started_at
    ):
        raise IngestError(
            f"incident {incident.external_id!r} would be resolved "
            f"({incident.resolved_at.isoformat()}) before it started "
            f"({incident.started_at.isoformat()})"
        )
    incident.updated_at = utcnow()
    session.add(incident)
    session.flush()
    _relink(session, team, incident)
    return incident


# --- linking incidents to deployments -------------------------------------------------------


def _production(team: Team):  # type: ignore[no-untyped-def]
    return func.lower(Deployment.environment).in_(team.production_environment_names)


def find_blamed_deployment(
    *, session: Session, team: Team, incident: Incident
) -> tuple[Deployment, LinkMethod] | None:
    """The deployment an incident points at (by id, then sha) or, failing both, is inferred."""
    if incident.deployment_external_id:
        named = get_deployment(
            session=session, team=team, external_id=incident.deployment_external_id
        )
        if named is not None:
            return named, "explicit_id"
    if incident.sha:
        by_sha = session.exec(
            select(Deployment)
            .where(Deployment.team_id == _team_id(team))
            .where(Deployment.sha == incident.sha)
            # The production deployment of that commit, the latest if it shipped twice.
            .order_by(
                case((_production(team), 0), else_=1),
                col(Deployment.finished_at).desc(),
                col(Deployment.id).desc(),
            )
        ).first()
        if by_sha is not None:
            return by_sha, "explicit_sha"
    if incident.deployment_external_id or incident.sha or incident.started_at is None:
        # Named but not received yet: blaming another deployment meanwhile would be a guess.
        return None
    window = timedelta(hours=team.incident_link_window_hours)
    inferred = session.exec(
        select(Deployment)
        .where(Deployment.team_id == _team_id(team))
        .where(_production(team))
        .where(Deployment.finished_at <= incident.started_at)
        .where(Deployment.finished_at >= incident.started_at - window)
        .order_by(col(Deployment.finished_at).desc(), col(Deployment.id).desc())
    ).first()
    return (inferred, "inferred_window") if inferred is not None else None


def _set_link(session: Session, incident: Incident, deployment: Deployment, method: str) -> None:
    link = session.get(IncidentLink, incident.id)
    assert incident.id is not None and deployment.id is not None
    if link is None:
        link = IncidentLink(incident_id=incident.id, deployment_id=deployment.id, method=method)
    else:
        link.deployment_id = deployment.id
        link.method = method
    session.add(link)
    session.flush()


def _relink(session: Session, team: Team, incident: Incident) -> None:
    """Recompute an incident's automatic link (a manual link is kept)."""
    link = session.get(IncidentLink, incident.id)
    if link is not None and link.method == "manual":
        return
    found = find_blamed_deployment(session=session, team=team, incident=incident)
    if found is None:
        if link is not None:
            session.delete(link)
            session.flush()
        return
    deployment, method = found
    _set_link(session, incident, deployment, method)


def _relink_around(session: Session, team: Team, deployment: Deployment) -> None:
    """After a deployment changes, relink the incidents it might now explain (or no longer)."""
    window = timedelta(hours=team.incident_link_window_hours)
    conditions: list[ColumnElement[bool]] = [
        col(Incident.deployment_external_id) == deployment.external_id,
        and_(
            col(Incident.started_at) >= deployment.finished_at,
            col(Incident.started_at) <= deployment.finished_at + window,
        ),
        col(Incident.id).in_(
            select(IncidentLink.incident_id).where(IncidentLink.deployment_id == deployment.id)
        ),
    ]
    if deployment.sha:
        conditions.append(col(Incident.sha) == deployment.sha)
    incidents = session.exec(
        select(Incident).where(Incident.team_id == _team_id(team)).where(or_(*conditions))
    ).all()
    for incident in incidents:
        _relink(session, team, incident)
