"""Loading the survey files when the app starts, and checking them against frozen versions."""

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.config import Settings
from app.pulses.freezing import check_frozen_surveys
from app.pulses.surveys import Survey, load_surveys

log = logging.getLogger("redbutton.surveys")


def load_and_check_surveys(*, settings: Settings, engine: Engine) -> dict[str, Survey]:
    """Every survey file, validated, and none changing a version that already has answers."""
    surveys = load_surveys(settings.surveys_dir)
    try:
        with Session(engine) as session:
            check_frozen_surveys(session=session, surveys=surveys)
    except OperationalError as exc:
        # The database being down (or not migrated yet) must not stop the app from starting and
        # answering 503: every first use of a version is checked again by freeze_survey.
        log.warning(
            "survey files could not be checked against the database now (%s); "
            "they will be checked when first used",
            type(exc.orig).__name__,
        )
    return surveys
