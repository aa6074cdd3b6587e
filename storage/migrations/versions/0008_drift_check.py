"""drift_check, drift_contact, drift_seen: the comparison of a MailerLite account with what the studio decided

A check's figures and the contacts that differ are kept, so the Compare with MailerLite page and
``python -m sync_core drift check`` show the last one; ``drift_seen`` holds the emails a running check has read
from MailerLite, to find the contacts deleted there without holding every email in memory.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("account_label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("started_at", storage.tables.UTCDateTime(), nullable=False),
        sa.Column("finished_at", storage.tables.UTCDateTime(), nullable=True),
        sa.Column("subscribers_read", sa.Integer(), nullable=False),
        sa.Column("contacts_compared", sa.Integer(), nullable=False),
        sa.Column("contacts_differ", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("repair_run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("drift_check", schema=None) as batch_op:
        batch_op.create_index("ix_drift_check_account_id", ["account", "id"], unique=False)
    op.create_table(
        "drift_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("subscriber_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("differences", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("drift_contact", schema=None) as batch_op:
        batch_op.create_index("ix_drift_contact_check_id", ["check_id", "id"], unique=False)
    op.create_table(
        "drift_seen",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.PrimaryKeyConstraint("check_id", "email"),
    )


def downgrade() -> None:
    op.drop_table("drift_seen")
    with op.batch_alter_table("drift_contact", schema=None) as batch_op:
        batch_op.drop_index("ix_drift_contact_check_id")
    op.drop_table("drift_contact")
    with op.batch_alter_table("drift_check", schema=None) as batch_op:
        batch_op.drop_index("ix_drift_check_account_id")
    op.drop_table("drift_check")
