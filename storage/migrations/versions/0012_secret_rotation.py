"""secrets: the previous secret kept for a rotation's grace period, and no plaintext hint

``secret.previous_ciphertext`` (encrypted like the current one) and ``secret.previous_valid_until`` keep the
secret a rotation replaced, accepted until then. ``secret.hint`` held the last four characters of each secret:
it is dropped, so that nothing of a plaintext stays in the database (the pages say when a secret was saved).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("secret", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_ciphertext", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("previous_valid_until", storage.tables.UTCDateTime(), nullable=True))
        batch_op.drop_column("hint")


def downgrade() -> None:
    with op.batch_alter_table("secret", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hint", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False, server_default="")
        )
        batch_op.drop_column("previous_valid_until")
        batch_op.drop_column("previous_ciphertext")
