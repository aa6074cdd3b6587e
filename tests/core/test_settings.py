"""The studio's settings: every variable, its default, its secrecy, and a re-read when the environment changes."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from storage import Database, SecretStore
from sync_core.domain.events import DODO_PAYMENTS, PARTNERO
from sync_core.engine.workspace import API_KEY_SECRET, Workspace
from sync_core.settings import PROJECT_ROOT, VARIABLES, StudioSettings, get_settings, variable_name

SECRETS = {
    "MAILERLITE_API_KEY": "mlk_live_0123456789abcdef_never_shown",
    "DODO_PAYMENTS_WEBHOOK_KEY": "whsec_dodo_never_shown",
    "PARTNERO_WEBHOOK_SECRET": "partnero_never_shown",
    "SYNC_STUDIO_SECRET_KEY": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgresql://studio:db-password-never-shown@db.example/studio",
}


@pytest.fixture
def clean_env(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_are_the_data_directory_the_sqlite_file_and_no_secrets(clean_env):
    settings = get_settings()
    assert settings.data_dir == PROJECT_ROOT / "data"
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'data' / 'sync_studio.db'}"
    assert settings.worker == "on"
    assert settings.secret_key is settings.mailerlite_api_key is settings.mailerlite_base_url is None
    assert settings.webhook_secret(DODO_PAYMENTS) is settings.webhook_secret(PARTNERO) is None
    assert settings.public_url is None


def test_every_variable_is_read(clean_env, tmp_path):
    for name, value in SECRETS.items():
        clean_env.setenv(name, value)
    clean_env.setenv("SYNC_STUDIO_DATA_DIR", str(tmp_path))
    clean_env.setenv("MAILERLITE_BASE_URL", "http://127.0.0.1:8025/api")
    clean_env.setenv("SYNC_STUDIO_WORKER", "thread")
    clean_env.setenv("SYNC_STUDIO_PUBLIC_URL", "https://studio.example")
    settings = get_settings()
    assert settings.data_dir == tmp_path and settings.database_url == SECRETS["DATABASE_URL"]
    assert settings.mailerlite_api_key.get_secret_value() == SECRETS["MAILERLITE_API_KEY"]
    assert settings.secret_key.get_secret_value() == SECRETS["SYNC_STUDIO_SECRET_KEY"]
    assert settings.webhook_secret(DODO_PAYMENTS).get_secret_value() == SECRETS["DODO_PAYMENTS_WEBHOOK_KEY"]
    assert settings.webhook_secret(PARTNERO).get_secret_value() == SECRETS["PARTNERO_WEBHOOK_SECRET"]
    assert (settings.mailerlite_base_url, settings.worker) == ("http://127.0.0.1:8025/api", "thread")
    assert settings.public_url == "https://studio.example"
    assert variable_name("partnero_webhook_secret") == "PARTNERO_WEBHOOK_SECRET"


def test_an_empty_variable_counts_as_unset_and_names_are_case_sensitive(clean_env):
    clean_env.setenv("SYNC_STUDIO_DATA_DIR", "")
    clean_env.setenv("MAILERLITE_API_KEY", "")
    clean_env.setenv("mailerlite_base_url", "http://lower.case/api")
    settings = get_settings()
    assert settings.data_dir == PROJECT_ROOT / "data"
    assert settings.mailerlite_api_key is None and settings.mailerlite_base_url is None


def test_secrets_never_show_in_repr_str_or_dump(clean_env):
    for name, value in SECRETS.items():
        clean_env.setenv(name, value)
    settings = get_settings()
    shown = (repr(settings), str(settings), str(settings.model_dump()), settings.model_dump_json())
    for text in shown:
        for value in SECRETS.values():
            assert value not in text
        assert "db-password" not in text


def test_the_settings_are_read_again_when_the_environment_changes(clean_env):
    first = get_settings()
    assert get_settings() is first  # unchanged environment: the same object
    clean_env.setenv("MAILERLITE_API_KEY", "key-one")
    assert get_settings().mailerlite_api_key.get_secret_value() == "key-one"
    clean_env.setenv("MAILERLITE_API_KEY", "key-two")
    assert get_settings().mailerlite_api_key.get_secret_value() == "key-two"
    clean_env.delenv("MAILERLITE_API_KEY")
    assert get_settings().mailerlite_api_key is None


def test_settings_can_be_given_by_variable_name():
    settings = StudioSettings(SYNC_STUDIO_DATA_DIR="/srv/studio", DATABASE_URL="sqlite:///elsewhere.db")
    assert str(settings.data_dir) == "/srv/studio" and settings.database_url == "sqlite:///elsewhere.db"


def test_the_workspace_opens_what_the_settings_say(clean_env, tmp_path):
    data = tmp_path / "data"
    clean_env.setenv("SYNC_STUDIO_DATA_DIR", str(data))
    workspace = Workspace()
    try:
        assert workspace.directory == data
        assert workspace.database.url == f"sqlite:///{data / 'sync_studio.db'}"
        workspace.set_api_key("stored-key-1234")
        assert (data / "secret.key").exists()  # the key file, generated in the data directory
        key = (data / "secret.key").read_bytes().strip()
        assert SecretStore(workspace.database, key).get(API_KEY_SECRET) == "stored-key-1234"
    finally:
        workspace.database.dispose()


def test_the_secret_key_variable_wins_over_the_key_file(clean_env, tmp_path):
    clean_env.setenv("SYNC_STUDIO_SECRET_KEY", SECRETS["SYNC_STUDIO_SECRET_KEY"])
    database = Database(f"sqlite:///{tmp_path / 'studio.db'}")
    try:
        Workspace(database, directory=tmp_path / "data").set_api_key("stored-key-5678")
        assert not (tmp_path / "data" / "secret.key").exists()
        key = SECRETS["SYNC_STUDIO_SECRET_KEY"].encode()
        assert SecretStore(database, key).get(API_KEY_SECRET) == "stored-key-5678"
    finally:
        database.dispose()
