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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storage import ConfigStore, Database, SecretStore, load_or_create_key
from storage.audit import AuditStore
from storage.contacts import ContactStore
from storage.events import EventStore
from storage.files import private_directory
from storage.forgotten import ForgetStore
from storage.monitor import PROBLEMS, SUCCESS, ItemFilter, MonitorQueries
from storage.people import PeopleStore
from storage.runs import RunStore
from storage.statuses import EventStatus, ItemOutcome, RunStatus
from sync_core.domain.access import SYSTEM, Actor, Permission
from sync_core.domain.config import DEFAULT_BASE_URL, ConfigError, ConnectionSettings, SyncConfig, load_config
from sync_core.domain.events import DODO_PAYMENTS, MAILERLITE, PARTNERO
from sync_core.mailerlite import MailerLiteClient, MailerLiteSettings
from sync_core.sandbox import SANDBOX_FILE, SandboxAccount, sandbox_client
from sync_core.settings import WEBHOOK_SECRET_FIELDS, StudioSettings, get_settings, revealed, variable_name

API_KEY_SECRET = "mailerlite_api_key"
#: Per source, the stored signing secret's name (the environment's one wins: see ``StudioSettings``).
WEBHOOK_SECRET_NAMES = {
    DODO_PAYMENTS: "webhook_secret:dodo_payments",
    PARTNERO: "webhook_secret:partnero",
    MAILERLITE: "webhook_secret:mailerlite",
}

_sandboxes: dict[Path, SandboxAccount] = {}
_sandboxes_lock = threading.Lock()


class KeyAddressError(RuntimeError):
    """The API key may not be sent to the address asked for; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class SecretStatus:
    """What may be said of a secret: where it comes from and when it was saved, nothing of its plaintext."""

    source: str | None  # "environment", "stored", or None: not set
    variable: str | None = None  # the environment variable it comes from
    saved_at: datetime | None = None
    previous_valid_until: datetime | None = None  # a rotation's grace period: the replaced one is accepted

    def words(self) -> str:
        """ "from MAILERLITE_API_KEY", "saved on 2 Dec 2026", or "not set"."""
        if self.source == "environment":
            return f"from {self.variable}"
        if self.source == "stored" and self.saved_at is not None:
            return f"saved on {day(self.saved_at)}"
        return "not set"

    def grace_words(self) -> str:
        """What a rotation still accepts: "" when nothing."""
        if self.previous_valid_until is None:
            return ""
        until = self.previous_valid_until
        return f"the previous secret is still accepted until {day(until)}, {until:%H:%M} UTC"


def day(moment: datetime) -> str:
    """A date as people write it: 2 Dec 2026."""
    return f"{moment.day} {moment:%b %Y}"


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
        if self.actor.kind == "user":  # a signed-in person is the author, whatever the page says
            author = self.actor.name
        version = self.configs.save(config.model_dump(mode="json"), author=author, comment=comment)
        self.audit("config_saved", f"version {version.id}", comment=comment)
        return int(version.id)  # type: ignore[arg-type]

    # --- secrets --------------------------------------------------------------------------------------------

    def api_key(self) -> str | None:
        return revealed(get_settings().mailerlite_api_key) or self.secrets.get(API_KEY_SECRET)

    def api_key_status(self) -> SecretStatus:
        """Where the key comes from and when it was saved: what a page may say of it."""
        return self._status(get_settings().mailerlite_api_key, "mailerlite_api_key", API_KEY_SECRET)

    def set_api_key(self, key: str, *, address: str | None = None) -> None:
        """Store the key, bound to the MailerLite address it is meant for (by default the one in use): the
        studio never sends it anywhere else. A new key replaces the old one at once (no grace period)."""
        self.require(Permission.MANAGE_SECRETS)
        self.secrets.set(API_KEY_SECRET, key.strip(), bound_to=_address(address or self.base_url()))
        self.audit("api_key_saved", "MailerLite API key", address=_address(address or self.base_url()))

    def clear_api_key(self) -> None:
        self.require(Permission.MANAGE_SECRETS)
        self.secrets.delete(API_KEY_SECRET)
        self.audit("api_key_removed", "MailerLite API key")

    def key_refusal(self, config: SyncConfig | ConnectionSettings | None = None) -> str | None:
        """Why the API key in use may not be sent to the address these settings point at, in plain words; None
        when it may (or when there is no key). A stored key goes only to the address it was saved for (a key
        saved before addresses were recorded: MailerLite's own); ``MAILERLITE_API_KEY`` only to
        ``MAILERLITE_BASE_URL`` or MailerLite's own address."""
        address = _address(self.base_url(config))
        settings = get_settings()
        if settings.mailerlite_api_key is not None:
            allowed = {_address(DEFAULT_BASE_URL), _address(settings.mailerlite_base_url or DEFAULT_BASE_URL)}
            if address in allowed:
                return None
            return (
                f"The API key from MAILERLITE_API_KEY is sent only to {_where(DEFAULT_BASE_URL)} or to "
                "MAILERLITE_BASE_URL; set MAILERLITE_BASE_URL to use it with this address."
            )
        stored = self.secrets.read(API_KEY_SECRET)
        if stored is None:
            return None
        bound_to = _address(stored.bound_to or DEFAULT_BASE_URL)
        if address == bound_to:
            return None
        return (
            f"The API key was saved for {_where(bound_to, address)}; enter the key again to use it with this address."
        )

    def webhook_secret(self, source: str) -> str | None:
        return revealed(get_settings().webhook_secret(source)) or self.secrets.get(WEBHOOK_SECRET_NAMES[source])

    def webhook_secrets(self, source: str) -> list[tuple[str, datetime | None]]:
        """Every secret a signature of ``source`` may be made with, each with the end of its validity (None: no
        end): the environment's alone, else the stored one and, during a rotation's grace period, the one it
        replaced."""
        configured = revealed(get_settings().webhook_secret(source))
        if configured:
            return [(configured, None)]
        stored = self.secrets.read(WEBHOOK_SECRET_NAMES[source])
        if stored is None:
            return []
        secrets: list[tuple[str, datetime | None]] = [(stored.value, None)]
        if stored.previous and stored.previous_valid_until is not None:
            secrets.append((stored.previous, stored.previous_valid_until))
        return secrets

    def webhook_secret_status(self, source: str) -> SecretStatus:
        field = WEBHOOK_SECRET_FIELDS[source]
        return self._status(get_settings().webhook_secret(source), field, WEBHOOK_SECRET_NAMES[source])

    def set_webhook_secret(
        self, source: str, secret: str, *, now: datetime | None = None, generated: bool = False
    ) -> None:
        """Store the signing secret; the one it replaces stays valid for ``SYNC_STUDIO_SECRET_GRACE_HOURS``
        (from ``now``), so that the sender can be given the new one without losing events."""
        self.require(Permission.MANAGE_SECRETS)
        grace = timedelta(hours=get_settings().secret_grace_hours)
        until = (now or datetime.now(UTC)) + grace if grace else None
        self.secrets.set(WEBHOOK_SECRET_NAMES[source], secret.strip(), keep_previous_until=until)
        self.audit("webhook_secret_generated" if generated else "webhook_secret_saved", source)

    def _status(self, configured: object, field: str, name: str) -> SecretStatus:
        if configured is not None:
            return SecretStatus("environment", variable=variable_name(field))
        record = self.secrets.record(name)
        if record is None:
            return SecretStatus(None)
        valid_until = record.previous_valid_until
        if valid_until is not None and valid_until <= datetime.now(UTC):
            valid_until = None
        return SecretStatus("stored", saved_at=record.saved_at, previous_valid_until=valid_until)

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
                private_directory(path.parent)
                account = _sandboxes[path] = SandboxAccount(state_file=path)
            return account

    def client(self, config: SyncConfig | ConnectionSettings | None = None, **settings: Any) -> MailerLiteClient:
        """A client for the account in use: the sandbox, or MailerLite with the key and base URL. ``settings``
        override MailerLiteSettings fields (a page uses short timeouts, for a person waiting). Every client that
        carries the key is made here, so the key goes only where ``key_refusal`` allows (``KeyAddressError``)."""
        connection = _connection(config or self.config())
        if self.uses_sandbox(connection):
            return sandbox_client(self.sandbox(), **settings)
        refusal = self.key_refusal(connection)
        if refusal:
            raise KeyAddressError(refusal)
        return MailerLiteClient(
            MailerLiteSettings.from_env(api_key=self.api_key(), base_url=self.base_url(connection), **settings)
        )


def encryption_key(settings: StudioSettings, directory: Path) -> bytes:
    """The key for the stored secrets: ``SYNC_STUDIO_SECRET_KEY``, else the key file in the data directory."""
    configured = revealed(settings.secret_key)
    return configured.encode() if configured else load_or_create_key(directory / "secret.key")


def _connection(config: SyncConfig | ConnectionSettings) -> ConnectionSettings:
    return config if isinstance(config, ConnectionSettings) else config.connection


def _address(url: str) -> str:
    """An API address as compared: scheme and host in lower case, no trailing slash."""
    parts = urlsplit(url.strip())
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl().rstrip("/")


def _where(address: str, other: str | None = None) -> str:
    """An address in words: its host, or all of it when ``other`` has the same host."""
    host = urlsplit(address).netloc or address
    return address if other is not None and urlsplit(other).netloc == host else host


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
    "KeyAddressError",
    "SecretStatus",
    "Workspace",
    "day",
    "default_location",
    "encryption_key",
]
