"""Every table of the product, so Alembic and the tests see the whole schema.

Each domain adds its models module here.
"""

from app import rate_limits
from app.auth import models as auth_models
from app.ballots import models as ballots_models
from app.db import metadata
from app.delivery import models as delivery_models
from app.insights import models as insights_models
from app.pulses import models as pulses_models
from app.teams import models as teams_models

__all__ = [
    "auth_models",
    "delivery_models",
    "ballots_models",
    "insights_models",
    "metadata",
    "pulses_models",
    "rate_limits",
    "teams_models",
]
