"""Survey snapshots, rounds and anonymous responses.

Anonymity lives in these shapes (DESIGN.md section 4): a response has a random id and its round,
nothing else; a comment knows only its round; no row carries a time finer than the round.
"""

import uuid
from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import UTCDateTime


def random_id() -> str:
    """A random UUID4: ids of anonymous rows must not reveal the order they were written in."""
    return str(uuid.uuid4())


class SurveyVersion(SQLModel, table=True):
    """The frozen content of one survey version, as it was when first answered."""

    __tablename__ = "survey_version"
    __table_args__ = (UniqueConstraint("survey_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: str = Field(max_length=64)
    version: int
    content_hash: str = Field(max_length=64)
    content: str  # the survey as JSON, exactly as it was answered
    frozen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Round(SQLModel, table=True):
    """One period of a team's pulse (an ISO week for a weekly cadence)."""

    __tablename__ = "round"
    __table_args__ = (
        UniqueConstraint("team_id", "period"),
        # Trends and the org roll-up select a range of weeks for one team or for many.
        Index("ix_round_team_id_starts_on", "team_id", "starts_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    period: str = Field(max_length=16, description="2026-W48, 2026-11 or 2026-Q4")
    starts_on: date = Field(description="first day of the period, in the team's timezone")
    ends_on: date = Field(description="last day of the period, in the team's timezone")
    closes_at: datetime = Field(sa_type=UTCDateTime, description="end of the period as an instant")
    survey_version_id: int = Field(foreign_key="survey_version.id")
    closed_early_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Response(SQLModel, table=True):
    """One anonymous response: a random id and its round, nothing else."""

    __tablename__ = "response"
    # Without a rowid, SQLite stores rows in id order: random, not arrival order.
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(default_factory=random_id, primary_key=True, max_length=36)
    round_id: int = Field(foreign_key="round.id", index=True)


class Answer(SQLModel, table=True):
    """One answer of a response; `score` is the value after reverse scoring."""

    __tablename__ = "answer"
    __table_args__ = (
        # Covers every aggregate of a round's answers (trust per response, favorable counts,
        # per-question histograms), so they read the index alone, never the table rows: at
        # 5 M answers the row lookups cost ~100 ms per 104-week trend (bench/PLANS.md).
        Index(
            "ix_answer_round_id_question_key_score",
            "round_id",
            "question_key",
            "score",
            "response_id",
        ),
        {"sqlite_with_rowid": False},
    )

    response_id: str = Field(foreign_key="response.id", primary_key=True, max_length=36)
    question_key: str = Field(primary_key=True, max_length=64)
    # Redundant with the response's round, so aggregation needs no join.
    round_id: int = Field(foreign_key="round.id")
    value: int
    score: int


class Comment(SQLModel, table=True):
    """A free-text comment, keyed by round only so it cannot be joined to any response."""

    __tablename__ = "comment"
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(default_factory=random_id, primary_key=True, max_length=36)
    round_id: int = Field(foreign_key="round.id", index=True)
    body: str
