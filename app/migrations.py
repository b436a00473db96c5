"""Apply the Alembic migrations from code (used by `redbutton migrate` and `serve`)."""

from alembic import command
from alembic.config import Config

from app.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    """Alembic's config pointing at our migrations and the given database."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    """Bring the database schema to the latest revision."""
    command.upgrade(alembic_config(database_url), "head")
