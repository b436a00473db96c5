"""Freezing survey versions: once answered, a version's text never changes under its answers."""

from functools import lru_cache

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.pulses.models import Answer, Round, SurveyVersion
from app.pulses.surveys import Survey, SurveyFileError


class SurveyFrozenError(SurveyFileError):
    """A survey file changed a version that already has answers."""


def _frozen_message(survey: Survey) -> str:
    return (
        f"{survey.where()}: version {survey.version} of survey {survey.id!r} already has answers "
        "and its questions, scale or comment settings changed since: bump the version "
        f"(version: {survey.version + 1}) so past answers keep the text they were given with"
    )


def _find(*, session: Session, survey: Survey) -> SurveyVersion | None:
    return session.exec(
        select(SurveyVersion)
        .where(SurveyVersion.survey_id == survey.id)
        .where(SurveyVersion.version == survey.version)
    ).first()


def _has_answers(*, session: Session, version: SurveyVersion) -> bool:
    count = session.exec(
        select(func.count())
        .select_from(Answer)
        .join(Round, Round.id == Answer.round_id)  # type: ignore[arg-type]
        .where(Round.survey_version_id == version.id)
    ).one()
    return bool(count)


def freeze_survey(*, session: Session, survey: Survey) -> SurveyVersion:
    """The snapshot of this survey version, taken now if it is the first use (commits)."""
    existing = _find(session=session, survey=survey)
    content_hash = survey.content_hash()
    if existing is not None:
        if existing.content_hash == content_hash:
            return existing
        if _has_answers(session=session, version=existing):
            raise SurveyFrozenError(_frozen_message(survey))
        # Used by a round but never answered: nobody saw a score with the old text, so the
        # snapshot may follow the file.
        existing.content = survey.content_json()
        existing.content_hash = content_hash
        session.add(existing)
        session.commit()
        session.refresh(existing)
        return existing
    version = SurveyVersion(
        survey_id=survey.id,
        version=survey.version,
        content=survey.content_json(),
        content_hash=content_hash,
    )
    session.add(version)
    try:
        session.commit()
    except IntegrityError:
        # Another instance froze it first; use theirs (and check it matches this file).
        session.rollback()
        return freeze_survey(session=session, survey=survey)
    session.refresh(version)
    return version


def check_frozen_surveys(*, session: Session, surveys: dict[str, Survey]) -> None:
    """Refuse (SurveyFrozenError) any file that changed a version which already has answers."""
    for survey in surveys.values():
        existing = _find(session=session, survey=survey)
        if existing is None or existing.content_hash == survey.content_hash():
            continue
        if _has_answers(session=session, version=existing):
            raise SurveyFrozenError(_frozen_message(survey))


def survey_of_round(*, session: Session, round: Round) -> Survey:
    """The survey exactly as this round was answered with (from its frozen snapshot)."""
    content = session.exec(
        select(SurveyVersion.content).where(SurveyVersion.id == round.survey_version_id)
    ).first()
    if content is None:  # the foreign key makes this impossible short of manual deletion
        raise LookupError(f"round {round.period} has no survey snapshot")
    return parse_snapshot(content)


@lru_cache(maxsize=64)
def parse_snapshot(content: str) -> Survey:
    """The survey of a frozen snapshot's JSON text."""
    # Every answer sheet is checked against its round's survey: parsed once per snapshot text,
    # not once per request. Surveys are frozen models, so sharing one is safe.
    return Survey.model_validate_json(content)
