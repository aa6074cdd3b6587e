"""Storage on SQLite and PostgreSQL: migrations, configuration versions, encrypted secrets."""

from __future__ import annotations

import base64

import sqlalchemy as sa

from storage import Database, SecretKeyError, SecretStore
from sync_core.domain.presets import load_preset


def test_migrations_create_every_table_and_reopening_is_harmless(database):
    tables = set(sa.inspect(database.engine).get_table_names())
    assert {
        "config_version",
        "secret",
        "received_event",
        "contact",
        "sync_run",
        "sync_item",
        "sync_item_group",
        "account_lock",
        "alembic_version",
    } <= tables
    again = Database(database.url)  # migrating an up-to-date database changes nothing
    assert set(sa.inspect(again.engine).get_table_names()) == tables
    again.dispose()


def test_every_saved_configuration_version_is_kept(workspace):
    assert workspace.active_config().version_id is None
    first = workspace.save_config(load_preset("partnero"), author="ana", comment="start from the preset")
    changed = load_preset("partnero")
    changed.connection.default_group = "Newsletter"
    second = workspace.save_config(changed, author="bo", comment="default group")
    assert second > first
    active = workspace.active_config()
    assert active.version_id == second and active.config.connection.default_group == "Newsletter"
    versions = workspace.configs.versions()
    assert [(v.id, v.author, v.comment) for v in versions] == [
        (second, "bo", "default group"),
        (first, "ana", "start from the preset"),
    ]
    assert workspace.configs.get(first).document["connection"]["default_group"] is None


def test_a_broken_saved_document_is_reported_not_raised(workspace):
    workspace.configs.save({"triggers": [{"name": "x", "event_types": ["a"], "action": "destroy"}]})
    active = workspace.active_config()
    assert active.problem and "'destroy' is not allowed" in active.problem
    assert active.config.triggers == []


def test_secrets_are_encrypted_at_rest_and_nothing_of_them_is_stored_in_the_clear(workspace, database):
    key = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.Qz7-private-tail-1234"  # nothing in common with the names
    workspace.set_api_key(key)
    secrets = ("Xq7-first-Value-abcd", "Zr9-second-Value-wxyz")
    workspace.set_webhook_secret("partnero", secrets[0])
    workspace.set_webhook_secret("partnero", secrets[1])  # the previous one is kept too, for the grace period
    assert workspace.api_key() == key
    status = workspace.api_key_status()
    assert status.source == "stored" and status.words() == f"saved on {status.saved_at.day} {status.saved_at:%b %Y}"
    with database.engine.connect() as connection:
        cells = [cell for row in connection.exec_driver_sql("SELECT * FROM secret").all() for cell in row]
    assert len([cell for cell in cells if isinstance(cell, str) and cell.startswith("gAAAAA")]) == 3  # Fernet

    def contents(cell: object) -> bytes:
        """A cell's bytes: a Fernet token decoded (random-looking bytes, as it is encrypted), else its text."""
        text = str(cell)
        if text.startswith("gAAAAA"):
            return base64.urlsafe_b64decode(text.encode("ascii"))
        return text.encode("utf-8")

    for plaintext in (key, *secrets):
        pieces = {plaintext[start : start + 4].encode() for start in range(len(plaintext) - 3)}
        found = sorted(piece for piece in pieces for cell in cells if piece in contents(cell))
        assert not found, (plaintext, found)  # not even the last four characters, as a hint once was
    other_key = SecretStore(database, key=b"0" * 43 + b"=")
    try:
        other_key.get("mailerlite_api_key")
    except SecretKeyError as exc:
        assert "cannot be decrypted" in str(exc) and key not in str(exc)
    else:
        raise AssertionError("a different encryption key must not read the secret")


def test_the_environment_wins_over_stored_secrets(workspace, monkeypatch):
    workspace.set_api_key("stored-key-0000")
    workspace.set_webhook_secret("partnero", "stored-secret")
    monkeypatch.setenv("MAILERLITE_API_KEY", "env-key-9999")
    monkeypatch.setenv("PARTNERO_WEBHOOK_SECRET", "env-secret")
    assert workspace.api_key() == "env-key-9999" and workspace.api_key_status().words() == "from MAILERLITE_API_KEY"
    assert workspace.webhook_secret("partnero") == "env-secret"


def test_sandbox_is_used_without_a_key_and_answers(workspace):
    config = load_preset("dodo-payments")
    config.connection.sandbox = False
    assert workspace.uses_sandbox(config)  # no key at all
    client = workspace.client(config)
    assert client.count_subscribers() == 0


def test_the_migrations_build_exactly_the_tables_and_indexes_the_models_declare(database):
    """A model changed without a migration (or the other way round) shows up here, not on a user's database."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import storage.tables  # noqa: F401 - the models register their tables in SQLModel.metadata

    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    index_changes = [d for d in differences if isinstance(d, tuple) and d[0] in ("add_index", "remove_index")]
    tables = [d for d in differences if isinstance(d, tuple) and d[0] in ("add_table", "remove_table")]
    assert not index_changes and not tables, differences
