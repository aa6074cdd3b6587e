"""One installation of the studio: its database, configuration, secrets, history and the MailerLite account it
talks to.

Pages, the command line and the worker all start here, so that they agree on where things are: the database
(``DATABASE_URL`` or the SQLite file), the configuration in force (the newest saved version), the API key (the
environment wins over the stored one) and whether the sandbox account is used (no key, or sandbox switched on).
The pages reach the stored history (events, contacts, runs and their items) through the workspace's stores too,
never the storage package itself. What the environment says comes from ``sync_core.settings``, read at each
use, so that a variable changed while the process runs (a rotated secret) is followed.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage import ConfigStore, Database, SecretStore, load_or_create_key
from storage.audit import AuditStore
from storage.contacts import ContactStore
from storage.events import EventStore
from storage.forgotten import ForgetStore
from storage.monitor import PROBLEMS, SUCCESS, ItemFilter, MonitorQueries
from storage.people import PeopleStore
from storage.runs import RunStore
from storage.statuses import EventStatus, ItemOutcome, RunStatus
from sync_core.domain.access import SYSTEM, Actor, Permission
from sync_core.domain.config import ConfigError, ConnectionSettings, SyncConfig, load_config
from sync_core.domain.events import DODO_PAYMENTS, MAILERLITE, PARTNERO
from sync_core.mailerlite import MailerLiteClient, MailerLiteSettings
from sync_core.sandbox import SANDBOX_FILE, SandboxAccount, sandbox_client
from sync_core.settings import StudioSettings, get_settings, revealed

API_KEY_SECRET = "mailerlite_api_key"
#: Per source, the stored signing secret's name (the environment's one wins: see ``StudioSettings``).
WEBHOOK_SECRET_NAMES = {
    DODO_PAYMENTS: "webhook_secret:dodo_payments",
    PARTNERO: "webhook_secret:partnero",
    MAILERLITE: "webhook_secret:mailerlite",
}

_sandboxes: dict[Path, SandboxAccount] = {}
_sandboxes_lock = threading.Lock()


@dataclass(slots=True)
class ActiveConfig:
    config: SyncConfig
    version_id: int | None  # None: nothing saved yet, the empty default is in force
    problem: str | None = None  # the newest saved version could not be read (shown, not raised)


def default_location() -> tuple[Path, str]:
    """The data directory and database URL that ``Workspace()`` opens, as the environment names them."""
    settings = get_settings()
    return settings.data_dir, settings.database_url


class Workspace:
    """``directory`` is the data directory (the sandbox account and the key file live there); it and the database
    default to the settings' ones."""

    def __init__(self, database: Database | None = None, *, directory: Path | None = None):
        settings = get_settings()
        self.directory = directory or settings.data_dir
        self.database = database or Database(settings.database_url)
        self.configs = ConfigStore(self.database)
        key = encryption_key(settings, self.directory)
        self.secrets = SecretStore(self.database, key)
        self.forgotten = ForgetStore(self.database, key)  # tombstones of forgotten contacts (GDPR)
        self.events = EventStore(self.database, forgotten=self.forgotten)
        self.contacts = ContactStore(self.database)
        self.runs = RunStore(self.database)
        self.monitor = MonitorQueries(self.database)  # totals, charts and pages of items, for the Monitor
        self.people = PeopleStore(self.database)  # who may sign in, and their sessions
        self.audit_log = AuditStore(self.database)
        # Who acts through this workspace: the studio itself unless a page hands it a signed-in person.
        self.actor: Actor = SYSTEM
        self.address = ""  # the visitor's address, for the audit log

    @classmethod
    def at(cls, directory: Path, url: str) -> Workspace:
        """The workspace of this data directory and database (a process keeping one per place opens it so)."""
        return cls(Database(url), directory=directory)

    def __repr__(self) -> str:
        return f"Workspace({self.database!r})"

    # --- who acts -------------------------------------------------------------------------------------------

    def acting_as(self, actor: Actor, *, address: str | None = None) -> Workspace:
        """This workspace (the same database and stores) for ``actor``: what it may not do is refused."""
        other = copy.copy(self)
        other.actor = actor
        other.address = address or ""
        return other

    def require(self, permission: Permission) -> None:
        """Refuse (``NotAllowed``, in plain words) what the actor's role does not allow."""
        self.actor.require(permission)

    def audit(self, action: str, subject: str = "", **detail: Any) -> None:
        """Record in the audit log that the actor did ``action`` (never pass a secret in ``detail``)."""
        self.audit_log.record(
            action,
            actor=self.actor.name,
            role=self.actor.role.value,
            subject=subject,
            address=self.address,
            detail=detail,
        )

    # --- configuration --------------------------------------------------------------------------------------

    def active_config(self) -> ActiveConfig:
        """The configuration in force: the newest saved version, or an empty one when none is saved yet."""
        latest = self.configs.latest()
        if latest is None:
            return ActiveConfig(SyncConfig(), None)
        try:
            return ActiveConfig(load_config(latest.document), latest.id)
        except ConfigError as exc:
            return ActiveConfig(SyncConfig(), latest.id, problem=str(exc))

    def config(self) -> SyncConfig:
        return self.active_config().config

    def save_config(self, config: SyncConfig, *, author: str = "", comment: str = "") -> int:
        """Save a new version (the old ones are kept) and return its number. Changing the connection (the
        sandbox switch, the API address) is for admins."""
        self.require(Permission.EDIT_CONFIG)
        if config.connection.model_dump() != self.config().connection.model_dump():
            self.require(Permission.MANAGE_CONNECTION)
        author = author or (self.actor.name if self.actor.kind == "user" else "")
        version = self.configs.save(config.model_dump(mode="json"), author=author, comment=comment)
        self.audit("config_saved", f"version {version.id}", comment=comment)
        return int(version.id)  # type: ignore[arg-type]

    # --- secrets --------------------------------------------------------------------------------------------

    def api_key(self) -> str | None:
        return revealed(get_settings().mailerlite_api_key) or self.secrets.get(API_KEY_SECRET)

    def api_key_source(self) -> str | None:
        """Where the key comes from: "environment", "stored", or None."""
        if get_settings().mailerlite_api_key is not None:
            return "environment"
        return "stored" if self.secrets.hint(API_KEY_SECRET) else None

    def api_key_hint(self) -> str | None:
        key = revealed(get_settings().mailerlite_api_key)
        if key:
            return "••••" + key[-4:]
        return self.secrets.hint(API_KEY_SECRET)

    def set_api_key(self, key: str) -> None:
        self.require(Permission.MANAGE_SECRETS)
        self.secrets.set(API_KEY_SECRET, key.strip())
        self.audit("api_key_saved", "MailerLite API key")

    def clear_api_key(self) -> None:
        self.require(Permission.MANAGE_SECRETS)
        self.secrets.delete(API_KEY_SECRET)
        self.audit("api_key_removed", "MailerLite API key")

    def webhook_secret(self, source: str) -> str | None:
        return revealed(get_settings().webhook_secret(source)) or self.secrets.get(WEBHOOK_SECRET_NAMES[source])

    def webhook_secret_hint(self, source: str) -> str | None:
        secret = revealed(get_settings().webhook_secret(source))
        if secret:
            return "••••" + secret[-4:] + " (from the environment)"
        return self.secrets.hint(WEBHOOK_SECRET_NAMES[source])

    def set_webhook_secret(self, source: str, secret: str, *, generated: bool = False) -> None:
        self.require(Permission.MANAGE_SECRETS)
        self.secrets.set(WEBHOOK_SECRET_NAMES[source], secret.strip())
        self.audit("webhook_secret_generated" if generated else "webhook_secret_saved", source)

    # --- the MailerLite account -----------------------------------------------------------------------------

    def uses_sandbox(self, config: SyncConfig | ConnectionSettings | None = None) -> bool:
        """The sandbox is used when it is switched on, or when no API key is set at all. ``config`` may be the
        connection settings alone (e.g. ones being edited, not saved yet)."""
        connection = _connection(config or self.config())
        return connection.sandbox or not self.api_key()

    def base_url(self, config: SyncConfig | ConnectionSettings | None = None) -> str:
        """MailerLite's address: ``MAILERLITE_BASE_URL``, else the connection settings' one."""
        return get_settings().mailerlite_base_url or _connection(config or self.config()).base_url

    def sandbox(self) -> SandboxAccount:
        """This installation's sandbox account: one SQLite file shared by every process (one object per process;
        a ``sandbox.json`` left by an older version is imported once)."""
        path = (self.directory / SANDBOX_FILE).resolve()
        with _sandboxes_lock:
            account = _sandboxes.get(path)
            if account is None:
                path.parent.mkdir(parents=True, exist_ok=True)
                account = _sandboxes[path] = SandboxAccount(state_file=path)
            return account

    def client(self, config: SyncConfig | ConnectionSettings | None = None, **settings: Any) -> MailerLiteClient:
        """A client for the account in use: the sandbox, or MailerLite with the key and base URL. ``settings``
        override MailerLiteSettings fields (a page uses short timeouts, for a person waiting)."""
        connection = _connection(config or self.config())
        if self.uses_sandbox(connection):
            return sandbox_client(self.sandbox(), **settings)
        return MailerLiteClient(
            MailerLiteSettings.from_env(api_key=self.api_key(), base_url=self.base_url(connection), **settings)
        )


def encryption_key(settings: StudioSettings, directory: Path) -> bytes:
    """The key for the stored secrets: ``SYNC_STUDIO_SECRET_KEY``, else the key file in the data directory."""
    configured = revealed(settings.secret_key)
    return configured.encode() if configured else load_or_create_key(directory / "secret.key")


def _connection(config: SyncConfig | ConnectionSettings) -> ConnectionSettings:
    return config if isinstance(config, ConnectionSettings) else config.connection


__all__ = [
    "API_KEY_SECRET",
    "PROBLEMS",
    "SUCCESS",
    "WEBHOOK_SECRET_NAMES",
    "ActiveConfig",
    "EventStatus",
    "ItemOutcome",
    "RunStatus",
    "ItemFilter",
    "Workspace",
    "default_location",
    "encryption_key",
]
