"""Settings: defaults, environment variables, and a key that never shows."""

from __future__ import annotations

import pydantic
import pytest

from sync_core.mailerlite import DEFAULT_BASE_URL, MailerLiteClient, MailerLiteSettings


def test_defaults_point_at_the_real_api():
    settings = MailerLiteSettings()
    assert settings.base_url == DEFAULT_BASE_URL == "https://connect.mailerlite.com/api"
    assert settings.api_key is None and not settings.has_key
    assert (settings.rate_limit, settings.rate_window_seconds, settings.import_limit) == (120, 60.0, 5)
    assert settings.timeout_seconds > 0


def test_environment_variables_are_read(monkeypatch, api_key):
    monkeypatch.setenv("MAILERLITE_API_KEY", f"  {api_key}\n")
    monkeypatch.setenv("MAILERLITE_BASE_URL", "http://127.0.0.1:8025/api/")
    settings = MailerLiteSettings.from_env()
    assert settings.api_key.get_secret_value() == api_key  # trimmed
    assert settings.base_url == "http://127.0.0.1:8025/api"


def test_explicit_values_win_over_the_environment(monkeypatch, api_key):
    monkeypatch.setenv("MAILERLITE_API_KEY", "from-env")
    settings = MailerLiteSettings.from_env(api_key=api_key, timeout_seconds=5)
    assert settings.api_key.get_secret_value() == api_key and settings.timeout_seconds == 5


def test_process_environment_is_used_by_default(monkeypatch, api_key):
    monkeypatch.setenv("MAILERLITE_API_KEY", api_key)
    monkeypatch.delenv("MAILERLITE_BASE_URL", raising=False)
    settings = MailerLiteSettings.from_env()
    assert settings.api_key.get_secret_value() == api_key and settings.base_url == DEFAULT_BASE_URL
    with MailerLiteClient() as client:  # no settings given: the environment's
        assert client.settings.api_key.get_secret_value() == api_key


def test_key_is_hidden_in_repr_str_and_dump(api_key):
    settings = MailerLiteSettings(api_key=api_key)
    for text in (repr(settings), str(settings), str(settings.model_dump()), settings.model_dump_json()):
        assert api_key not in text
    with MailerLiteClient(settings) as client:
        assert api_key not in repr(client) and api_key not in str(client)
        assert api_key not in repr(client._http.auth)


def test_a_broken_key_is_refused_without_echoing_it():
    secret = "abc\ndef-secret-part"
    with pytest.raises(pydantic.ValidationError) as caught:
        MailerLiteSettings(api_key=secret)
    assert "def-secret-part" not in str(caught.value) and "def-secret-part" not in repr(caught.value)
    assert "copy it again" in str(caught.value)


def test_base_url_must_be_http():
    with pytest.raises(pydantic.ValidationError, match="http"):
        MailerLiteSettings(base_url="connect.mailerlite.com/api")


def test_blank_key_counts_as_no_key():
    assert MailerLiteSettings(api_key="   ").api_key is None
