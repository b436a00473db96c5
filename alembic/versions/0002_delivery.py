"""deployments, incidents and webhook deliveries

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("environment", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("started_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sha", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("is_rollback", sa.Boolean(), nullable=False),
        sa.Column("rolls_back", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("rolled_back", sa.Boolean(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_deployment_team_id_team")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment")),
        sa.UniqueConstraint(
            "team_id", "external_id", name=op.f("uq_deployment_team_id_external_id")
        ),
    )
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deployment_team_id_finished_at", ["team_id", "finished_at"], unique=False
        )
        batch_op.create_index("ix_deployment_team_id_sha", ["team_id", "sha"], unique=False)

    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("started_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column(
            "deployment_external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
        ),
        sa.Column("sha", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_incident_team_id_team")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
        sa.UniqueConstraint("team_id", "external_id", name=op.f("uq_incident_team_id_external_id")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incident_team_id_resolved_at", ["team_id", "resolved_at"], unique=False
        )
        batch_op.create_index(
            "ix_incident_team_id_started_at", ["team_id", "started_at"], unique=False
        )

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("delivery_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("received_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_webhook_delivery_team_id_team")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "provider", "delivery_id", name=op.f("uq_webhook_delivery_provider_delivery_id")
        ),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_delivery_team_id"), ["team_id"], unique=False)

    op.create_table(
        "incident_link",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployment.id"],
            name=op.f("fk_incident_link_deployment_id_deployment"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_link_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_link")),
    )
    with op.batch_alter_table("incident_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_link_deployment_id"), ["deployment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("incident_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_link_deployment_id"))

    op.drop_table("incident_link")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_team_id"))

    op.drop_table("webhook_delivery")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_team_id_started_at")
        batch_op.drop_index("ix_incident_team_id_resolved_at")

    op.drop_table("incident")
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_index("ix_deployment_team_id_sha")
        batch_op.drop_index("ix_deployment_team_id_finished_at")

    op.drop_table("deployment")
