"""Anonymous responses: validating and storing an answer sheet, and reading comments back.

What a response may store is fixed by the anonymity invariants (DESIGN.md section 4): a random
id and the round; answers keyed by that id; the comment in its own row keyed by round only.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.clock import utcnow
from app.group_commit import batch_keys, before_commit, in_batch
from app.pulses.freezing import (
    SurveyFrozenError,
    check_frozen_surveys,
    freeze_survey,
    survey_of_round,
)
from app.pulses.models import Answer, Comment, Response, Round, random_id
from app.pulses.rounds import is_open
from app.pulses.surveys import Survey
from app.teams.models import Team

__all__ = [
    "LinkChangedError",
    "RoundClosedError",
    "SubmissionError",
    "SurveyFrozenError",
    "check_frozen_surveys",
    "comments_in_random_order",
    "freeze_survey",
    "prepare_submission",
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


class LinkChangedError(ValueError):
    """The shared link was replaced, or the team moved to personal ballots, since it was read."""


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
) -> str:
    """Validate and store one anonymous response in one transaction; nothing is stored on error.

    Returns the response's random id. With commit=False the caller owns the transaction (bulk
    loads such as the demo). Requests go through `prepare_submission` and the group committer
    instead, so that many answers share one commit.
    """
    if not is_open(round, now or utcnow()):
        raise RoundClosedError(f"The {round.period} round is closed and no longer takes answers.")
    store = prepare_submission(round=round, survey=survey, answers=answers, comment=comment)
    try:
        response_id = store(session, now=now)
        if commit:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    return response_id


class StoreResponse:
    """A validated answer sheet, ready to be written by `store(session)` in any transaction."""

    def __init__(
        self,
        *,
        round_id: int,
        survey: Survey,
        values: dict[str, int],
        text: str | None,
        through_link: str | None = None,
    ) -> None:
        self.round_id = round_id
        self.survey = survey
        self.values = values
        self.text = text
        # The shared link the answers came through, when they must still be taking answers
        # through it (the link may have been rotated, or the team moved to personal ballots).
        self.through_link = through_link

    def __call__(self, session: Session, *, now: datetime | None = None) -> str:
        """Write the response, its answers and the comment; RoundClosedError if it has closed.

        The round is read again inside the writing transaction (on PostgreSQL with its row
        locked), so a round a manager closed a moment ago takes nothing more. In a group commit
        the rows of every response of the batch are inserted together, one statement per table,
        just before the commit; nothing is written before the round is known to be open.
        """
        round_id = self.round_id
        _check_round(session, round_id, now or utcnow(), through_link=self.through_link)
        response_id = random_id()
        rows = _pending_rows(session)
        rows.responses.append({"id": response_id, "round_id": round_id})
        scale = self.survey.scale
        rows.answers.extend(
            {
                "response_id": response_id,
                "question_key": question.key,
                "round_id": round_id,
                "value": self.values[question.key],
                "score": scale.score(self.values[question.key], reverse=question.reverse),
            }
            for question in self.survey.questions
        )
        if self.text is not None:
            # Its own row with its own random id, keyed by round only (invariant 2).
            rows.comments.append({"id": random_id(), "round_id": round_id, "body": self.text})
        before_commit(session, _PENDING_ROWS, lambda: _write_pending_rows(session))
        return response_id


ROUND_TABLE: Table = Round.__table__  # type: ignore[attr-defined]
_PENDING_ROWS = "redbutton.pending_response_rows"
_ROUND_STATE = "redbutton.round_state"


@dataclass
class _Rows:
    responses: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


def _pending_rows(session: Session) -> _Rows:
    rows: _Rows | None = session.info.get(_PENDING_ROWS)
    if rows is None:
        rows = session.info[_PENDING_ROWS] = _Rows()
    return rows


# The batch's rows go straight to the driver (executemany): the statements are fixed, and the
# SQL expression layer would cost more than the inserts themselves in a burst of answers.
_INSERTS = (
    ("response", ("id", "round_id")),
    ("answer", ("response_id", "question_key", "round_id", "value", "score")),
    ("comment", ("id", "round_id", "body")),
)


def _insert_sql(dialect: str, table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join(f"%({c})s" if dialect == "postgresql" else f":{c}" for c in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def _write_pending_rows(session: Session) -> None:
    """Insert the responses waiting in this transaction; on PostgreSQL, shuffle their rounds."""
    rows: _Rows | None = session.info.pop(_PENDING_ROWS, None)
    if rows is None:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    # Parents first: answers refer to their response.
    for (table, columns), values in zip(
        _INSERTS, (rows.responses, rows.answers, rows.comments), strict=True
    ):
        if values:
            connection.exec_driver_sql(_insert_sql(dialect, table, columns), values)
    if dialect == "postgresql":
        round_ids = sorted({row["round_id"] for row in rows.responses})
        _rewrite_rounds_in_random_order(session=session, round_ids=round_ids)


@dataclass(frozen=True)
class _RoundState:
    period: str
    closes_at: datetime
    closed_early_at: datetime | None
    team_link: str
    ballots: str


def _check_round(
    session: Session, round_id: int, now: datetime, *, through_link: str | None
) -> None:
    """RoundClosedError unless the round takes answers (LinkChangedError unless it takes them
    through `through_link`), read in this writing transaction.

    In a group commit the rounds of the whole batch are read at once, and stay as read: the
    batch holds them (PostgreSQL: their rows locked; SQLite: the database's write lock).
    """
    known: dict[int, _RoundState] = (
        session.info.setdefault(_ROUND_STATE, {}) if in_batch(session) else {}
    )
    if round_id not in known:
        wanted = set(batch_keys(session, ROUND_TABLE)) | {round_id}
        state = (
            sa_select(
                col(Round.id),
                col(Round.period),
                col(Round.closes_at),
                col(Round.closed_early_at),
                col(Team.pulse_link),
                col(Team.ballots),
            )
            .join(Team, col(Team.id) == Round.team_id)
            .where(col(Round.id).in_(sorted(wanted)))
        )
        if session.get_bind().dialect.name == "postgresql":
            # Submissions to one round queue here, so the rewrite before commit sees every row.
            state = state.order_by(col(Round.id)).with_for_update(of=ROUND_TABLE)
        for id_, *fields in session.execute(state):
            assert id_ is not None
            known[id_] = _RoundState(*fields)
    found = known[round_id]
    if through_link is not None and (found.team_link != through_link or found.ballots != "link"):
        raise LinkChangedError(
            "This pulse link no longer takes answers: ask your team lead for the current link."
        )
    if found.closed_early_at is not None or now >= found.closes_at:
        raise RoundClosedError(f"The {found.period} round is closed and no longer takes answers.")


def prepare_submission(
    *,
    round: Round,
    survey: Survey,
    answers: Mapping[str, object],
    comment: str | None,
    through_link: str | None = None,
) -> StoreResponse:
    """Check the answers (SubmissionError naming every wrong field) and return what stores them."""
    values, text = validate_submission(survey=survey, answers=answers, comment=comment)
    assert round.id is not None
    return StoreResponse(
        round_id=round.id, survey=survey, values=values, text=text, through_link=through_link
    )


def _rewrite_rounds_in_random_order(*, session: Session, round_ids: list[int]) -> None:
    """Rewrite all these rounds' anonymous rows, shuffled, in this one transaction (PostgreSQL).

    PostgreSQL stamps every row with the id of the transaction that wrote it (xmin) and keeps
    rows in the order they were written. Left alone, a comment would carry the same xmin as the
    response written with it, and rows would sit in arrival order: both would let anyone with
    SQL access join a comment to its answers, or rank responses by time. Rewritten together,
    every row of the round carries the latest transaction's xmin and sits in a random order.
    (SQLite has no such column, and its WITHOUT ROWID tables keep rows in random-id order.)

    Each table is moved by one statement inside the server (delete returning, insert in random
    order), so the cost is three statements however many rounds and rows, with no row
    travelling to Python and back. The foreign keys are checked at the end of each statement,
    when the responses are back under the same ids. The answers committed together in a group
    commit rewrite their rounds once, just before the commit.
    """
    for table in ("response", "answer", "comment"):
        session.execute(
            text(
                f"WITH moved AS (DELETE FROM {table} WHERE round_id = ANY(:round_ids) RETURNING *) "
                f"INSERT INTO {table} SELECT * FROM moved ORDER BY random()"
            ),
            {"round_ids": round_ids},
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
