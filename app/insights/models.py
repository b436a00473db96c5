"""Stored summaries of closed rounds: the aggregates their scores are built from, nothing more.

A closed round takes no more answers, so its aggregates never change; computing them once spares
every later page a scan of the round's answers (bench/RESULTS.md). The shapes keep the anonymity
model of DESIGN.md section 4: one row per round, or per round, question and scale point, with
counts and sums only. No time, no identity, nothing per response, and never a row for a round
that is still open (summaries.py writes them only once a round has settled). Thresholds are
applied when reading, as for figures computed from the answers, so a stored summary of a round
that is now suppressed is never shown.
"""

from sqlmodel import Field, SQLModel


class RoundSummary(SQLModel, table=True):
    """A closed round's trust and favorable aggregates (DESIGN.md section 5)."""

    __tablename__ = "round_summary"

    round_id: int = Field(foreign_key="round.id", primary_key=True, ondelete="CASCADE")
    responses: int = Field(description="responses with answers: n of the per-response means")
    sum_of_means: float = Field(description="sum over responses of the response's mean score")
    sum_of_squared_means: float = Field(description="sum of the squares of those means")
    answers: int
    favorable_answers: int = Field(description="answers in the top two points of the scale")


class RoundHistogram(SQLModel, table=True):
    """How many answers of a closed round gave a question each score (after reverse scoring)."""

    __tablename__ = "round_histogram"
    # Without a rowid, SQLite keeps a round's rows together, in key order.
    __table_args__ = {"sqlite_with_rowid": False}

    round_id: int = Field(foreign_key="round.id", primary_key=True, ondelete="CASCADE")
    question_key: str = Field(primary_key=True, max_length=64)
    score: int = Field(primary_key=True)
    answers: int
