"""run_request: a person's request for a run, with its live progress and a way to cancel it

The Run sync page records the request; the worker (or the dashboard, when no worker runs) takes it and writes its
progress here, so the page shows it live, even after a reload.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.tables.UTCDateTime(), nullable=False),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("contact_limit", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("runner", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("started_at", storage.tables.UTCDateTime(), nullable=True),
        sa.Column("updated_at", storage.tables.UTCDateTime(), nullable=True),
        sa.Column("finished_at", storage.tables.UTCDateTime(), nullable=True),
        sa.Column("contacts_total", sa.Integer(), nullable=False),
        sa.Column("contacts_done", sa.Integer(), nullable=False),
        sa.Column("events_done", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("run_request", schema=None) as batch_op:
        batch_op.create_index("ix_run_request_status_id", ["status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("run_request", schema=None) as batch_op:
        batch_op.drop_index("ix_run_request_status_id")
    op.drop_table("run_request")
