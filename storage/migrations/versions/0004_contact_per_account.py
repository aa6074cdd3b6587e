"""contact memory per MailerLite account; sync_run records its account

``contact`` is keyed by (account, email): what was sent to one account says nothing about another. ``sync_run``
gets ``account`` (the key) and ``account_label`` (in words, for the Monitor).

Existing rows: when the configuration of the newest run (or else the newest configuration) had the sandbox
switched on, the database last synced to the sandbox, and its contacts and those runs are the sandbox's. Otherwise
the old rows cannot say which account they were for (the API key is encrypted with a key outside the database),
so the contacts are kept with an empty account, and the first account synced after the update takes them (the
engine's ``claim_unassigned``): normally the one synced before it.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _sandbox_versions(connection: sa.Connection) -> set[int]:
    """The configuration versions that had the sandbox switched on (or no connection settings: the default)."""
    versions = set()
    for version_id, document in connection.execute(sa.text("SELECT id, document FROM config_version")):
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except ValueError:
                continue
        settings = document.get("connection") if isinstance(document, dict) else None
        if not isinstance(settings, dict) or settings.get("sandbox", True) is True:
            versions.add(version_id)
    return versions


def _last_synced_version(connection: sa.Connection) -> int | None:
    """The configuration the database last synced with: the newest real run's, else the newest saved one."""
    version = connection.execute(
        sa.text(
            "SELECT config_version_id FROM sync_run WHERE dry_run = :no AND config_version_id IS NOT NULL "
            "ORDER BY id DESC LIMIT 1"
        ),
        {"no": False},
    ).scalar()
    if version is None:
        version = connection.execute(sa.text("SELECT id FROM config_version ORDER BY id DESC LIMIT 1")).scalar()
    return version


def upgrade() -> None:
    connection = op.get_bind()
    sandbox_versions = sorted(_sandbox_versions(connection))
    last = _last_synced_version(connection)
    owner = "sandbox" if last is None or last in sandbox_versions else ""

    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "account_label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=""
            )
        )
    for start in range(0, len(sandbox_versions), 500):
        connection.execute(
            sa.text(
                "UPDATE sync_run SET account = 'sandbox', account_label = 'Sandbox' "
                "WHERE config_version_id IN :ids"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": sandbox_versions[start : start + 500]},
        )

    op.create_table(
        "contact_by_account",
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("subscriber_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account", "email"),
    )
    connection.execute(
        sa.text(
            "INSERT INTO contact_by_account (account, email, subscriber_id, status, state, updated_at) "
            "SELECT :owner, email, subscriber_id, status, state, updated_at FROM contact"
        ),
        {"owner": owner},
    )
    op.drop_table("contact")
    op.rename_table("contact_by_account", "contact")
    if connection.dialect.name == "postgresql":
        op.execute("ALTER INDEX contact_by_account_pkey RENAME TO contact_pkey")


def downgrade() -> None:
    connection = op.get_bind()
    op.create_table(
        "contact_by_email",
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("subscriber_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email"),
    )
    # One row per email: the most recently updated account's.
    connection.execute(
        sa.text(
            "INSERT INTO contact_by_email (email, subscriber_id, status, state, updated_at) "
            "SELECT email, subscriber_id, status, state, updated_at FROM contact AS c WHERE NOT EXISTS ("
            "SELECT 1 FROM contact AS d WHERE d.email = c.email AND (d.updated_at > c.updated_at OR "
            "(d.updated_at = c.updated_at AND d.account > c.account)))"
        )
    )
    op.drop_table("contact")
    op.rename_table("contact_by_email", "contact")
    if connection.dialect.name == "postgresql":
        op.execute("ALTER INDEX contact_by_email_pkey RENAME TO contact_pkey")
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_column("account_label")
        batch_op.drop_column("account")
