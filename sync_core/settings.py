"""The studio's settings: every environment variable it reads, in one object.

The environment is the only source (no ``.env`` file), and a variable that is set but empty counts as unset, as
it always has. ``get_settings()`` reads them again whenever one of them changes, so that a test's
``monkeypatch.setenv`` or a secret rotated in a running process takes effect without a restart. Secrets (and
``DATABASE_URL``, which may hold a password) are ``SecretStr``: a repr, a log line or a dump never shows them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync_core.domain.events import DODO_PAYMENTS, MAILERLITE, PARTNERO

#: The repository's root: the default data directory is ``data/`` in it, whatever the current directory.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The SQLite file in the data directory, when ``DATABASE_URL`` is not set.
SQLITE_FILE = "sync_studio.db"


class StudioSettings(BaseSettings):
    """Each field is read from the variable its alias names, and given by that name in code:
    ``StudioSettings(SYNC_STUDIO_DATA_DIR=...)``."""

    # case_sensitive: exactly the variables named here, as before (never `mailerlite_api_key` in lower case).
    model_config = SettingsConfigDict(
        case_sensitive=True, env_ignore_empty=True, frozen=True, hide_input_in_errors=True
    )

    data_dir: Path = Field(default=PROJECT_ROOT / "data", validation_alias="SYNC_STUDIO_DATA_DIR")
    configured_database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    # The key that encrypts stored secrets; without it, a key file in the data directory.
    secret_key: SecretStr | None = Field(default=None, validation_alias="SYNC_STUDIO_SECRET_KEY")
    # The account: these win over what the Connection page stored.
    mailerlite_api_key: SecretStr | None = Field(default=None, validation_alias="MAILERLITE_API_KEY")
    mailerlite_base_url: str | None = Field(default=None, validation_alias="MAILERLITE_BASE_URL")
    # Webhook signing secrets, winning over the stored ones (Dodo's SDK reads DODO_PAYMENTS_WEBHOOK_KEY too).
    dodo_payments_webhook_key: SecretStr | None = Field(default=None, validation_alias="DODO_PAYMENTS_WEBHOOK_KEY")
    partnero_webhook_secret: SecretStr | None = Field(default=None, validation_alias="PARTNERO_WEBHOOK_SECRET")
    mailerlite_webhook_secret: SecretStr | None = Field(default=None, validation_alias="MAILERLITE_WEBHOOK_SECRET")
    # How long a replaced webhook signing secret is still accepted, so that a sender can be given the new one
    # without losing events (0: the old one is refused at once). The API key has no such grace.
    secret_grace_hours: float = Field(default=24.0, ge=0, validation_alias="SYNC_STUDIO_SECRET_GRACE_HOURS")
    # Whether the sync worker starts with the web server: `off` (extra receivers), `thread` (inside the server's
    # process) or, by default, `process` (a child process). Read by sync_core.live.routes.
    worker: str = Field(default="on", validation_alias="SYNC_STUDIO_WORKER")
    # Where senders reach the studio, for the webhook URLs the Connection page shows.
    public_url: str | None = Field(default=None, validation_alias="SYNC_STUDIO_PUBLIC_URL")
    # How long a run waits out MailerLite's trouble (429 storms, errors, timeouts) before it ends with the
    # events waiting for the next run.
    patience_seconds: float = Field(default=120.0, ge=0, validation_alias="SYNC_STUDIO_PATIENCE_SECONDS")
    # How many batches a sync keeps waiting on MailerLite's answer at once (all within the account's one request
    # budget): at 1.5 s an answer, one at a time uses a third of 120 requests a minute; 3 would just reach the
    # limit, 6 leave room for the time spent recording answers and planning the next contacts.
    batches_in_flight: int = Field(default=6, ge=1, le=16, validation_alias="SYNC_STUDIO_BATCHES_IN_FLIGHT")
    # Events waiting this long, with none synced meanwhile while a worker runs, make the live sync "stalled":
    # /healthz answers 503 and the Monitor and the sidebar say so.
    stall_seconds: float = Field(default=600.0, gt=0, validation_alias="SYNC_STUDIO_STALL_SECONDS")
    # How often the worker compares the account with what the studio decided (when the configuration's daily
    # check is on): a day, shorter in tests.
    drift_check_seconds: float = Field(default=86400.0, gt=0, validation_alias="SYNC_STUDIO_DRIFT_CHECK_SECONDS")

    # Alerts (these win over what the Connection page saved): a Slack-compatible incoming webhook address, the
    # email addresses alerts go to (comma separated), and the mail server (smtp://user:password@host:port,
    # smtps://…, ?starttls=1, ?from=address). The webhook address and the mail server's may hold secrets.
    alert_slack_url: SecretStr | None = Field(default=None, validation_alias="SYNC_STUDIO_ALERT_SLACK_URL")
    alert_email: str | None = Field(default=None, validation_alias="SYNC_STUDIO_ALERT_EMAIL")
    smtp_url: SecretStr | None = Field(default=None, validation_alias="SYNC_STUDIO_SMTP_URL")

    # Sign-in: the first admin's password (when set, sign-in is required on any address), the admin's user name,
    # the email that is admin with single sign-on (st.login), and how long a signed-in session lasts.
    admin_password: SecretStr | None = Field(default=None, validation_alias="SYNC_STUDIO_ADMIN_PASSWORD")
    admin_user: str = Field(default="admin", min_length=1, validation_alias="SYNC_STUDIO_ADMIN_USER")
    admin_email: str | None = Field(default=None, validation_alias="SYNC_STUDIO_ADMIN_EMAIL")
    session_hours: float = Field(default=8.0, gt=0, validation_alias="SYNC_STUDIO_SESSION_HOURS")

    @property
    def database_url(self) -> str:
        """``DATABASE_URL``, else the SQLite file in the data directory."""
        if self.configured_database_url is not None:
            return self.configured_database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / SQLITE_FILE}"

    def webhook_secret(self, source: str) -> SecretStr | None:
        return getattr(self, WEBHOOK_SECRET_FIELDS[source])


#: Per source, the field with its webhook signing secret.
WEBHOOK_SECRET_FIELDS = {
    DODO_PAYMENTS: "dodo_payments_webhook_key",
    PARTNERO: "partnero_webhook_secret",
    MAILERLITE: "mailerlite_webhook_secret",
}
#: Every variable read, in field order.
VARIABLES = tuple(str(field.validation_alias) for field in StudioSettings.model_fields.values())


def variable_name(field: str) -> str:
    """The environment variable a field is read from, for messages that say where to set it."""
    return str(StudioSettings.model_fields[field].validation_alias)


def revealed(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def get_settings() -> StudioSettings:
    """The settings in force: read once, and again when one of the variables changes (a cheap check: a
    dictionary look-up per variable)."""
    return _settings_for(tuple(os.environ.get(name) for name in VARIABLES))


@lru_cache(maxsize=1)
def _settings_for(values: tuple[str | None, ...]) -> StudioSettings:
    """``values`` is only the cache key: the settings read the environment themselves."""
    return StudioSettings()
