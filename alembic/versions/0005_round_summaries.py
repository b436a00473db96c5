"""round summaries: the stored aggregates of closed rounds

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Filled lazily by the app (app/insights/summaries.py) for rounds closed a while ago; nothing
    # to backfill here: the first page that needs a round's scores stores its summary.
    op.create_table(
        "round_summary",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("sum_of_means", sa.Float(), nullable=False),
        sa.Column("sum_of_squared_means", sa.Float(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("favorable_answers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
            name=op.f("fk_round_summary_round_id_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", name=op.f("pk_round_summary")),
    )
    op.create_table(
        "round_histogram",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
            name=op.f("fk_round_histogram_round_id_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "round_id", "question_key", "score", name=op.f("pk_round_histogram")
        ),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("round_histogram")
    op.drop_table("round_summary")
