"""Indexes for the Monitor with a million items and events: ix_sync_item_outcome_dry_id (the *Failed and dead*
list walks one outcome's newest items and stops after a page), ix_contact_updated_changed (partial: only the
contacts last updated, which "Updated" counts), covering indexes on daily_outcome for the totals and charts

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CONTACT_UPDATED = "changed_at IS NOT NULL AND (created_at IS NULL OR changed_at > created_at)"


def upgrade() -> None:
    with op.batch_alter_table("sync_item", schema=None) as batch_op:
        batch_op.create_index("ix_sync_item_outcome_dry_id", ["outcome", "dry_run", "id"], unique=False)
    op.create_index(
        "ix_contact_updated_changed",
        "contact",
        ["changed_at"],
        unique=False,
        sqlite_where=sa.text(CONTACT_UPDATED),
        postgresql_where=sa.text(CONTACT_UPDATED),
    )
    with op.batch_alter_table("daily_outcome", schema=None) as batch_op:
        batch_op.create_index("ix_daily_outcome_day_outcome", ["day", "outcome", "count"], unique=False)
        batch_op.create_index("ix_daily_outcome_type_outcome", ["event_type", "outcome", "day", "count"], unique=False)
        batch_op.create_index("ix_daily_outcome_outcome_day", ["outcome", "day", "count"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("daily_outcome", schema=None) as batch_op:
        batch_op.drop_index("ix_daily_outcome_outcome_day")
        batch_op.drop_index("ix_daily_outcome_type_outcome")
        batch_op.drop_index("ix_daily_outcome_day_outcome")
    op.drop_index("ix_contact_updated_changed", table_name="contact")
    with op.batch_alter_table("sync_item", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_item_outcome_dry_id")
