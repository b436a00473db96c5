"""Anonymous responses: validating and storing an answer sheet, and reading comments back.

What a response may store is fixed by the anonymity invariants (DESIGN.md section 4): a random
id and the round; answers keyed by that id; the comment in its own row keyed by round only.
"""

import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import text
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
    commit: bool = True,
) -> Response:
    """Validate and store one anonymous response in one transaction; nothing is stored on error.

    With commit=False the caller owns the transaction (bulk loads such as the demo).
    """
    if not is_open(round, now or utcnow()):
        raise RoundClosedError(f"The {round.period} round is closed and no longer takes answers.")
    values, text = validate_submission(survey=survey, answers=answers, comment=comment)
    assert round.id is not None
    round_id = round.id
    response = Response(round_id=round_id)
    try:
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:
            # Submissions to one round queue here, so the rewrite below sees every row.
            session.exec(select(Round.id).where(Round.id == round_id).with_for_update()).one()
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
        session.flush()
        if postgres:
            _rewrite_round_in_random_order(session=session, round_id=round_id)
        if commit:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    return response


def _rewrite_round_in_random_order(*, session: Session, round_id: int) -> None:
    """Rewrite all the round's anonymous rows, shuffled, in this one transaction (PostgreSQL).

    PostgreSQL stamps every row with the id of the transaction that wrote it (xmin) and keeps
    rows in the order they were written. Left alone, a comment would carry the same xmin as the
    response written with it, and rows would sit in arrival order: both would let anyone with
    SQL access join a comment to its answers, or rank responses by time. Rewritten together,
    every row of the round carries the latest transaction's xmin and sits in a random order.
    (SQLite has no such column, and its WITHOUT ROWID tables keep rows in random-id order.)

    Each table is moved by one statement inside the server (delete returning, insert in random
    order), so the cost is a few statements whatever the round's size, with no row travelling
    to Python and back. The foreign keys are checked at the end of each statement, when the
    responses are back under the same ids.
    """
    for table in ("response", "answer", "comment"):
        session.execute(
            text(
                f"WITH moved AS (DELETE FROM {table} WHERE round_id = :round_id RETURNING *) "
                f"INSERT INTO {table} SELECT * FROM moved ORDER BY random()"
            ),
            {"round_id": round_id},
        )
    # The ORM's copies of the moved rows are stale; the rows are back with equal keys.
    for stale in list(session.identity_map.values()):
        if isinstance(stale, Response | Answer | Comment):
            session.expunge(stale)


def comments_in_random_order(*, session: Session, round: Round) -> list[str]:
    """The round's comment texts, shuffled anew on every call and without any time (invariant 6).

    Callers must still check the round is eligible (closed, enough responses) before showing
    them, and render them escaped (Jinja autoescaping does).
    """
    bodies = list(session.exec(select(Comment.body).where(Comment.round_id == round.id)))
    secrets.SystemRandom().shuffle(bodies)
    return bodies
