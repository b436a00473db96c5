"""Users (admins and managers), their team assignments, login sessions and API tokens."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import UTCDateTime


class User(SQLModel, table=True):
    """A person who manages teams or administers the installation (members have no account)."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16, description="admin or manager")
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class TeamManager(SQLModel, table=True):
    """A manager may see this team."""

    __tablename__ = "team_manager"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    team_id: int = Field(foreign_key="team.id", primary_key=True, index=True)


class ApiToken(SQLModel, table=True):
    """A personal API token; only its hash is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginSession(SQLModel, table=True):
    """A browser login; the cookie holds a random token whose hash is the key."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
