"""teams and pulses

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "survey_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("frozen_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_version")),
        sa.UniqueConstraint(
            "survey_id", "version", name=op.f("uq_survey_version_survey_id_version")
        ),
    )
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("survey_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("cadence", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("ballots", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("pulse_link", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ingest_token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("webhook_secret", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column(
            "previous_webhook_secret", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True
        ),
        sa.Column("webhook_secret_rotated_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "production_environments", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False
        ),
        sa.Column("incident_link_window_hours", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
    )
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_team_ingest_token_hash"), ["ingest_token_hash"], unique=True
        )
        batch_op.create_index(batch_op.f("ix_team_pulse_link"), ["pulse_link"], unique=True)
        batch_op.create_index(batch_op.f("ix_team_slug"), ["slug"], unique=True)

    op.create_table(
        "round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("closes_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("survey_version_id", sa.Integer(), nullable=False),
        sa.Column("closed_early_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["survey_version_id"],
            ["survey_version.id"],
            name=op.f("fk_round_survey_version_id_survey_version"),
        ),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_round_team_id_team")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round")),
        sa.UniqueConstraint("team_id", "period", name=op.f("uq_round_team_id_period")),
    )
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_round_team_id_starts_on", ["team_id", "starts_on"], unique=False)

    op.create_table(
        "comment",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], name=op.f("fk_comment_round_id_round")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_round_id"), ["round_id"], unique=False)

    op.create_table(
        "response",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_response_round_id_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_response_round_id"), ["round_id"], unique=False)

    op.create_table(
        "answer",
        sa.Column("response_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("question_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_answer_response_id_response")
        ),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], name=op.f("fk_answer_round_id_round")),
        sa.PrimaryKeyConstraint("response_id", "question_key", name=op.f("pk_answer")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_answer_round_id_question_key_score",
            ["round_id", "question_key", "score", "response_id"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_round_id_question_key_score")

    op.drop_table("answer")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_round_id"))

    op.drop_table("response")
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_round_id"))

    op.drop_table("comment")
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_index("ix_round_team_id_starts_on")
        batch_op.drop_index(batch_op.f("ix_round_team_id"))

    op.drop_table("round")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_slug"))
        batch_op.drop_index(batch_op.f("ix_team_pulse_link"))
        batch_op.drop_index(batch_op.f("ix_team_ingest_token_hash"))

    op.drop_table("team")
    op.drop_table("survey_version")
