"""Deployments, incidents, the link between them, and the webhook deliveries already received.

Tables first, then the request bodies of the ingest API (DESIGN.md section 6), which the
webhooks and the CSV import also reduce their input to, so every path checks the same rules.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import UTCDateTime

DeploymentStatus = Literal["success", "failure"]
# How an incident came to be tied to a deployment; shown next to the link.
LinkMethod = Literal["explicit_id", "explicit_sha", "inferred_window", "manual"]
LINK_METHODS: tuple[LinkMethod, ...] = ("explicit_id", "explicit_sha", "inferred_window", "manual")
Provider = Literal["github", "gitlab", "pagerduty"]


class Deployment(SQLModel, table=True):
    """One deployment to one environment, in a final state (success or failure)."""

    __tablename__ = "deployment"
    __table_args__ = (
        UniqueConstraint("team_id", "external_id"),
        # The weekly counts scan a team's deployments by finish time.
        Index("ix_deployment_team_id_finished_at", "team_id", "finished_at"),
        Index("ix_deployment_team_id_sha", "team_id", "sha"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    external_id: str = Field(max_length=200)
    environment: str = Field(max_length=100)
    status: str = Field(max_length=16, description="success or failure")
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime = Field(sa_type=UTCDateTime)
    sha: str | None = Field(default=None, max_length=64)
    is_rollback: bool = Field(default=False)
    rolls_back: str | None = Field(default=None, max_length=200, description="external id")
    # Set when a later rollback names this deployment: it then counts as failed.
    rolled_back: bool = Field(default=False)
    source: str = Field(default="api", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Incident(SQLModel, table=True):
    """One production incident; its start may be unknown until the trigger event arrives."""

    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("team_id", "external_id"),
        Index("ix_incident_team_id_started_at", "team_id", "started_at"),
        Index("ix_incident_team_id_resolved_at", "team_id", "resolved_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    external_id: str = Field(max_length=200)
    # Null while only the resolve has arrived (providers do not promise delivery order).
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    severity: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, max_length=500)
    deployment_external_id: str | None = Field(default=None, max_length=200)
    sha: str | None = Field(default=None, max_length=64)
    source: str = Field(default="api", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IncidentLink(SQLModel, table=True):
    """The deployment an incident is blamed on (at most one), and how that was decided."""

    __tablename__ = "incident_link"

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    deployment_id: int = Field(foreign_key="deployment.id", index=True)
    method: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """A provider delivery already processed: a redelivery is acknowledged and ignored."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("provider", "delivery_id"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=16)
    delivery_id: str = Field(max_length=200)
    team_id: int = Field(foreign_key="team.id", index=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


def _aware(value: datetime) -> datetime:
    # Guessing the zone of a naive timestamp would silently shift incidents across weeks.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            "timestamp has no UTC offset: give a UTC offset, e.g. 2026-03-02T09:30:00Z "
            "or 2026-03-02T10:30:00+01:00"
        )
    # Far-off years are typos, and would overflow when converted to UTC.
    if not EARLIEST_YEAR < value.year < LATEST_YEAR:
        raise ValueError(f"timestamp year {value.year} is not plausible for delivery data")
    return value


AwareTimestamp = Annotated[datetime, AfterValidator(_aware)]
ExternalId = Annotated[str, PydanticField(min_length=1, max_length=200)]
Sha = Annotated[str, PydanticField(min_length=1, max_length=64)]


class DeploymentIn(BaseModel):
    """`POST /api/v1/deployments`: one production (or other) deployment in a final state."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: ExternalId
    environment: str = PydanticField(min_length=1, max_length=100)
    status: DeploymentStatus
    finished_at: AwareTimestamp
    started_at: AwareTimestamp | None = None
    sha: Sha | None = None
    is_rollback: bool = False
    rolls_back: ExternalId | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "DeploymentIn":
        if self.started_at is not None and self.started_at > self.finished_at:
            raise ValueError("started_at is after finished_at: a deployment ends after it starts")
        if self.rolls_back is not None:
            if self.rolls_back == self.external_id:
                raise ValueError("rolls_back names this same deployment")
            self.is_rollback = True
        return self


class IncidentIn(BaseModel):
    """`POST /api/v1/incidents`: an incident, resolved or still open."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: ExternalId
    started_at: AwareTimestamp
    resolved_at: AwareTimestamp | None = None
    severity: str | None = PydanticField(default=None, max_length=64)
    title: str | None = PydanticField(default=None, max_length=500)
    deployment_external_id: ExternalId | None = None
    sha: Sha | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "IncidentIn":
        if self.resolved_at is not None and self.resolved_at < self.started_at:
            raise ValueError("resolved_at is before started_at: an incident ends after it starts")
        return self


class IncidentEvent(BaseModel):
    """What a provider event says about an incident; unset fields are left as stored."""

    external_id: ExternalId
    started_at: AwareTimestamp | None = None
    resolved_at: AwareTimestamp | None = None
    reopened: bool = False
    severity: str | None = None
    title: str | None = None
