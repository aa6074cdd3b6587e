"""sync_run: counts of the lifecycle outcomes (unsubscribed, deleted)

Triggers can unsubscribe a subscriber or delete them from MailerLite (issue 12); a run counts those contacts
like the other outcomes, one column each (``storage.statuses.ItemOutcome``). Runs recorded before have none.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unsubscribed", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("deleted", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_column("deleted")
        batch_op.drop_column("unsubscribed")
