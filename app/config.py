"""Settings read from the environment (prefix REDBUTTON_)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Values that look like secrets but are not: refused outside development.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development"})
DEVELOPMENT_SECRET = "development-only-secret-key-do-not-use-in-production"


class Settings(BaseSettings):
    """Every knob an operator can set; read once per process by get_settings()."""

    model_config = SettingsConfigDict(env_prefix="REDBUTTON_", env_file=None, extra="ignore")

    environment: Literal["development", "production", "test"] = "production"
    database_url: str = "sqlite:///./redbutton.db"
    secret_key: str = ""
    min_responses: int = Field(default=5, ge=3)
    surveys_dir: Path = PROJECT_ROOT / "surveys"
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    smtp_from: str = "redbutton@localhost"
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Log lines never carry the client address; operators may still turn access logs off.
    access_log: bool = True
    login_rate_limit: int = Field(default=10, ge=1, description="login attempts per minute")
    submit_rate_limit: int = Field(
        default=120, ge=1, description="pulse submissions per minute per team link"
    )

    @model_validator(mode="after")
    def _secret_key_is_real(self) -> "Settings":
        if self.environment == "development" and not self.secret_key:
            self.secret_key = DEVELOPMENT_SECRET
        if self.environment != "development":
            if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or (
                self.secret_key == DEVELOPMENT_SECRET
            ):
                raise ValueError(
                    "REDBUTTON_SECRET_KEY must be set to a long random value outside "
                    "development (for example: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))')"
                )
            if len(self.secret_key) < 16:
                raise ValueError("REDBUTTON_SECRET_KEY must be at least 16 characters long")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests override this dependency instead of the environment."""
    return Settings()
