"""Anonymous responses: validating and storing an answer sheet, and reading comments back.

What a response may store is fixed by the anonymity invariants (DESIGN.md section 4): a random
id and the round; answers keyed by that id; the comment in its own row keyed by round only.
"""

import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, select

from app.clock import utcnow
from app.pulses.freezing import (
    SurveyFrozenError,
    check_frozen_surveys,
    freeze_survey,
    survey_of_round,
)
from app.pulses.models import Answer, Comment, Response, Round
from app.pulses.rounds import is_open
from app.pulses.surveys import Survey

__all__ = [
    "RoundClosedError",
    "SubmissionError",
    "SurveyFrozenError",
    "check_frozen_surveys",
    "comments_in_random_order",
    "freeze_survey",
    "submit_response",
    "survey_of_round",
    "validate_submission",
]

ANSWER_MISSING = "Please choose an answer."


class SubmissionError(ValueError):
    """The answers cannot be stored; `errors` maps each field (answers.KEY, comment) to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class RoundClosedError(ValueError):
    """The round no longer takes answers."""


def validate_submission(
    *, survey: Survey, answers: Mapping[str, object], comment: str | None
) -> tuple[dict[str, int], str | None]:
    """The answers and the cleaned comment, or SubmissionError naming every wrong field."""
    errors: dict[str, str] = {}
    scale = survey.scale
    clean: dict[str, int] = {}
    for key in survey.keys:
        if key not in answers or answers[key] is None:
            errors[f"answers.{key}"] = ANSWER_MISSING
            continue
        value = answers[key]
        # bool is an int in Python; True must not pass for 1.
        if not isinstance(value, int) or isinstance(value, bool):
            errors[f"answers.{key}"] = (
                f"The answer must be a whole number from {scale.min} to {scale.max}."
            )
        elif not scale.min <= value <= scale.max:
            errors[f"answers.{key}"] = (
                f"{value} is not on the scale: choose a value from {scale.min} to {scale.max}."
            )
        else:
            clean[key] = value
    for key in answers:
        if key not in survey.keys:
            # Field names are echoed back: keep a hostile key from flooding the message.
            errors[f"answers.{key[:64]}"] = "This question is not part of the survey."
    text = (comment or "").strip() or None
    if text is not None:
        if not survey.comment.enabled:
            errors["comment"] = "This survey does not take comments."
        elif len(text) > survey.comment.max_length:
            errors["comment"] = (
                f"The comment is {len(text)} characters long; "
                f"the limit is {survey.comment.max_length}."
            )
        elif "\x00" in text:
            errors["comment"] = "The comment contains a character that cannot be stored (NUL)."
    if errors:
        raise SubmissionError(errors)
    return clean, text


def submit_response(
    *,
    session: Session,
    round: Round,
    survey: Survey,
    answers: Mapping[str, object],
    comment: str | None,
    now: datetime | None = None,
) -> Response:
    """Validate and store one anonymous response in one transaction; nothing is stored on error."""
    if not is_open(round, now or utcnow()):
        raise RoundClosedError(f"The {round.period} round is closed and no longer takes answers.")
    values, text = validate_submission(survey=survey, answers=answers, comment=comment)
    assert round.id is not None
    round_id = round.id
    response = Response(round_id=round_id)
    try:
        session.add(response)
        # No ORM relationship orders the inserts, so the parent row goes first explicitly.
        session.flush()
        for question in survey.questions:
            value = values[question.key]
            session.add(
                Answer(
                    response_id=response.id,
                    question_key=question.key,
                    round_id=round_id,
                    value=value,
                    score=survey.scale.score(value, reverse=question.reverse),
                )
            )
        if text is not None:
            # Its own row with its own random id, keyed by round only (invariant 2).
            session.add(Comment(round_id=round_id, body=text))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return response


def comments_in_random_order(*, session: Session, round: Round) -> list[str]:
    """The round's comment texts, shuffled anew on every call and without any time (invariant 6).

    Callers must still check the round is eligible (closed, enough responses) before showing
    them, and render them escaped (Jinja autoescaping does).
    """
    bodies = list(session.exec(select(Comment.body).where(Comment.round_id == round.id)))
    secrets.SystemRandom().shuffle(bodies)
    return bodies
