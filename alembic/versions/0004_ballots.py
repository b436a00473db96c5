"""team rosters, round keys and blind-signed ballots

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roster_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("link_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("added_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_roster_member_team_id_team")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_member")),
        sa.UniqueConstraint("team_id", "email", name=op.f("uq_roster_member_team_id_email")),
    )
    with op.batch_alter_table("roster_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_member_link_hash"), ["link_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_roster_member_team_id"), ["team_id"], unique=False)

    # Issuance and spending share no column but the round: they cannot be joined to each other.
    op.create_table(
        "ballot_issuance",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["roster_member.id"],
            name=op.f("fk_ballot_issuance_member_id_roster_member"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_ballot_issuance_round_id_round")
        ),
        sa.PrimaryKeyConstraint("member_id", "round_id", name=op.f("pk_ballot_issuance")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "round_key",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("private_key_encrypted", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_round_key_round_id_round")
        ),
        sa.PrimaryKeyConstraint("round_id", name=op.f("pk_round_key")),
    )
    op.create_table(
        "spent_ballot",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_spent_ballot_round_id_round")
        ),
        sa.PrimaryKeyConstraint("round_id", "token_hash", name=op.f("pk_spent_ballot")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("spent_ballot")
    op.drop_table("round_key")
    op.drop_table("ballot_issuance")
    with op.batch_alter_table("roster_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_member_team_id"))
        batch_op.drop_index(batch_op.f("ix_roster_member_link_hash"))
    op.drop_table("roster_member")
