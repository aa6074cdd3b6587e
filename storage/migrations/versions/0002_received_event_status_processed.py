"""received_event: index on (status, processed_at)

The health check asks when an event last left the queue (``EventStore.last_handled_at``): one step along this
index per status, whatever the size of the history.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("received_event", schema=None) as batch_op:
        batch_op.create_index("ix_received_event_status_processed", ["status", "processed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("received_event", schema=None) as batch_op:
        batch_op.drop_index("ix_received_event_status_processed")
