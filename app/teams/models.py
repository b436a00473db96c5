"""A team: its pulse link, survey, cadence, headcount, timezone and delivery credentials."""

from datetime import datetime
from typing import Literal

from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import UTCDateTime

Cadence = Literal["weekly", "monthly", "quarterly"]
BallotMode = Literal["link", "personal"]
DEFAULT_PRODUCTION_ENVIRONMENTS = "production,prod"


class Team(SQLModel, table=True):
    """One team: the smallest unit anything is reported for."""

    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    size: int = Field(ge=1, description="headcount, for the response rate")
    timezone: str = Field(default="UTC", max_length=64)
    survey_id: str = Field(default="release-pulse", max_length=64)
    cadence: str = Field(default="weekly", max_length=16)
    ballots: str = Field(default="link", max_length=16)
    # The shared pulse link token: unguessable, rotatable, shown to managers.
    pulse_link: str = Field(max_length=64, unique=True, index=True)
    # Only the hash of the ingest token is kept; the token is shown once when (re)issued.
    ingest_token_hash: str = Field(max_length=64, unique=True, index=True)
    # HMAC secrets must be usable to verify signatures, so they are kept as issued.
    webhook_secret: str = Field(max_length=128)
    previous_webhook_secret: str | None = Field(default=None, max_length=128)
    webhook_secret_rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    production_environments: str = Field(default=DEFAULT_PRODUCTION_ENVIRONMENTS, max_length=500)
    incident_link_window_hours: int = Field(default=24, ge=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def production_environment_names(self) -> list[str]:
        """The environment names that count as production, lower-cased."""
        return [
            name.strip().lower() for name in self.production_environments.split(",") if name.strip()
        ]
