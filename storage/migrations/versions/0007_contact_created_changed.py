"""contact: when MailerLite last created it, last changed it, and last said what it holds

The Monitor's *Created* and *Updated* count contacts, not items: a contact updated in three runs is one contact
updated. Each is one range along its index whatever the size of the history. Rows from before are left empty
(their history stays in the items and the daily rollups). ``checked_at`` lets a suppressed contact be asked
about again at most once a day (along the index on status and it).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("changed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("checked_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_contact_status_checked", ["status", "checked_at"], unique=False)
        batch_op.create_index("ix_contact_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_contact_changed_at", ["changed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_status_checked")
        batch_op.drop_index("ix_contact_changed_at")
        batch_op.drop_index("ix_contact_created_at")
        batch_op.drop_column("checked_at")
        batch_op.drop_column("changed_at")
        batch_op.drop_column("created_at")
