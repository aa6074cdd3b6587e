"""alert_settings, alert_claim, alert_sent: where alerts go, the last time each problem was told, what was sent

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("emails", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("updated_at", storage.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "alert_claim",
        sa.Column("problem_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("sent_at", storage.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("problem_key"),
    )
    op.create_table(
        "alert_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.tables.UTCDateTime(), nullable=False),
        sa.Column("problem_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("deliveries", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_sent_at", "alert_sent", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alert_sent_at", table_name="alert_sent")
    op.drop_table("alert_sent")
    op.drop_table("alert_claim")
    op.drop_table("alert_settings")
