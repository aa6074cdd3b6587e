"""forget (GDPR): hashed tombstones, the record of each forget, and a run counter for forgotten contacts

``forgotten_mark`` keeps keyed hashes only (of a forgotten email, and of the events erased with it), so that an
event from before the forget is never synced again; ``forget_record`` says when and by whom each forget was
done, without the email; ``sync_run.forgotten`` counts the contacts a trigger's action "forget" forgot.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forgotten_mark",
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("forgotten_at", storage.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint"),
    )
    op.create_table(
        "forget_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.tables.UTCDateTime(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("forget_record", schema=None) as batch_op:
        batch_op.create_index("ix_forget_record_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forgotten", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_column("forgotten")
    with op.batch_alter_table("forget_record", schema=None) as batch_op:
        batch_op.drop_index("ix_forget_record_created_at")
    op.drop_table("forget_record")
    op.drop_table("forgotten_mark")
