"""ix_sync_item_outcome_dry_id: the Monitor's *Failed and dead* list, newest first, walks one outcome's items
along it and stops after a page, whatever the size of the history

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_item", schema=None) as batch_op:
        batch_op.create_index("ix_sync_item_outcome_dry_id", ["outcome", "dry_run", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_item", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_item_outcome_dry_id")
