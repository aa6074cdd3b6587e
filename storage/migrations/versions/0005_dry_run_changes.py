"""contact: index on updated_at

The Monitor counts contacts, not items: how many distinct contacts were synced in a period is the number of
contacts whose state was last saved in it, one range along this index whatever the size of the history.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index("ix_contact_updated_at", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_updated_at")
