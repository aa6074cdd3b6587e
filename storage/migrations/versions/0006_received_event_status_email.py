"""received_event: index on (status, email)

A run takes its contacts a chunk at a time, each with all of its pending events
(``EventStore.pending_by_contact``): this index finds them by email among the pending events only, whatever the
size of the queue and of each contact's history. Without it SQLite walks every pending event for each chunk.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("received_event", schema=None) as batch_op:
        batch_op.create_index("ix_received_event_status_email", ["status", "email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("received_event", schema=None) as batch_op:
        batch_op.drop_index("ix_received_event_status_email")
