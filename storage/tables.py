"""The tables: configuration versions, secrets, received events, contacts, sync runs and their items.

Times are stored as UTC (naive in the database, aware in Python) so that SQLite and PostgreSQL behave alike.
Indexes follow the questions the Monitor page asks: by time, outcome, email, run and event type.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from storage.statuses import EventStatus, RequestStatus, RunStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime in Python, a plain timestamp in the database (SQLite has no time zones)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _time(*, index: bool = False, nullable: bool = False, default: bool = True) -> Any:
    kwargs: dict[str, Any] = {"sa_column_kwargs": {}}
    if default:
        kwargs["default_factory"] = utcnow
    else:
        kwargs["default"] = None
    return Field(sa_type=UTCDateTime, index=index, nullable=nullable, **kwargs)


#: A contact last updated in MailerLite, not only created (``MonitorQueries.contacts_updated`` asks the same).
CONTACT_UPDATED = "changed_at IS NOT NULL AND (created_at IS NULL OR changed_at > created_at)"


class ConfigVersion(SQLModel, table=True):
    """Every saved configuration, kept: the newest is the one in force."""

    __tablename__ = "config_version"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _time()
    author: str = Field(default="", max_length=200)
    comment: str = Field(default="", max_length=500)
    document: dict = Field(sa_type=sa.JSON)


class Secret(SQLModel, table=True):
    """A secret encrypted at rest (the key is outside the database); nothing derived from its plaintext is kept
    beside it. ``previous_ciphertext`` is the secret it replaced, still accepted until ``previous_valid_until``
    (a rotation's grace period, so that senders can be updated without losing events)."""

    __tablename__ = "secret"

    name: str = Field(primary_key=True, max_length=100)
    ciphertext: str
    updated_at: datetime = _time()
    previous_ciphertext: str | None = Field(default=None)
    previous_valid_until: datetime | None = _time(nullable=True, default=False)


class ReceivedEvent(SQLModel, table=True):
    """An input as received (webhook or file row), stored before anything else happens to it.

    ``status``: pending (or staged, for an imported file's rows) → synced | ignored | invalid | rejected | failed | dead. ``body`` keeps the raw bytes so
    that an event can be normalized again after a fix in the configuration, and retried."""

    __tablename__ = "received_event"
    __table_args__ = (
        sa.UniqueConstraint("source", "event_id", name="uq_received_event_source_event_id"),
        sa.Index("ix_received_event_status_id", "status", "id"),
        sa.Index("ix_received_event_source_id", "source", "id"),  # the last event received per source
        sa.Index("ix_received_event_status_processed", "status", "processed_at"),  # the last one handled
        sa.Index("ix_received_event_status_email", "status", "email"),  # a run's contacts' pending events
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=40)
    event_id: str = Field(max_length=200)
    event_type: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    status: str = Field(default=EventStatus.PENDING, max_length=20)  # an EventStatus
    reason: str = Field(default="")
    origin: str = Field(default="", max_length=300)  # "webhook", "file partners.csv row 12", ...
    occurred_at: datetime | None = _time(nullable=True, default=False)
    received_at: datetime = _time(index=True)
    processed_at: datetime | None = _time(nullable=True, default=False)
    body: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    kind: str | None = Field(default=None, max_length=20)  # for records: partner or customer
    attempts: int = 0
    run_id: int | None = Field(default=None, index=True)


class Contact(SQLModel, table=True):
    """What the product last sent one MailerLite account for one email (sync_core.domain.state.ContactState as
    JSON). ``account`` is the account's key (sync_core.engine.accounts): another account starts from nothing.
    An empty ``account`` marks a row from before accounts were recorded, whose account is not known."""

    __tablename__ = "contact"
    __table_args__ = (
        sa.Index("ix_contact_status_checked", "status", "checked_at"),  # suppressed ones due
        # only the contacts last updated (not just created): the Monitor's "Updated" counts them along it
        sa.Index(
            "ix_contact_updated_changed",
            "changed_at",
            sqlite_where=sa.text(CONTACT_UPDATED),
            postgresql_where=sa.text(CONTACT_UPDATED),
        ),
    )

    account: str = Field(default="", primary_key=True, max_length=100)
    email: str = Field(primary_key=True, max_length=320)
    subscriber_id: str | None = Field(default=None, max_length=40)
    status: str | None = Field(default=None, max_length=20)
    state: dict = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = _time(index=True)  # the last sync that saved it: contacts synced in a period
    created_at: datetime | None = _time(index=True, nullable=True, default=False)  # last created in MailerLite
    changed_at: datetime | None = _time(index=True, nullable=True, default=False)  # last created or updated
    checked_at: datetime | None = _time(nullable=True, default=False)  # MailerLite last said what it holds


class SyncRun(SQLModel, table=True):
    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = _time(index=True)
    finished_at: datetime | None = _time(nullable=True, default=False)
    trigger: str = Field(default="manual", max_length=20)  # manual, cli, worker, retry
    dry_run: bool = False
    contact_limit: int | None = None
    status: str = Field(default=RunStatus.RUNNING, max_length=20)  # a RunStatus
    error: str = Field(default="")  # why the run failed, in plain words
    notes: str = Field(default="")  # what else happened: groups and fields created, type mismatches
    config_version_id: int | None = None
    holder: str = Field(default="", max_length=200)
    account: str = Field(default="", max_length=100)  # the account's key ("" for a run from before it was kept)
    account_label: str = Field(default="", max_length=200)  # the account in words: "Sandbox", "MailerLite account…"
    created: int = 0
    updated: int = 0
    unsubscribed: int = 0
    deleted: int = 0
    unchanged: int = 0
    suppressed: int = 0
    skipped: int = 0
    invalid: int = 0
    failed: int = 0
    dead: int = 0
    ignored: int = 0
    rejected: int = 0
    forgotten: int = 0
    requests: int = 0
    duration_seconds: float = 0.0


class SyncItem(SQLModel, table=True):
    """One contact in one run: the outcome in plain words, what was sent (without secrets), the answer."""

    __tablename__ = "sync_item"
    __table_args__ = (
        sa.Index("ix_sync_item_outcome_created", "outcome", "created_at"),
        sa.Index("ix_sync_item_outcome_dry_id", "outcome", "dry_run", "id"),  # one outcome's newest items
        sa.Index("ix_sync_item_email_created", "email", "created_at"),
        sa.Index("ix_sync_item_type_created", "event_type", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(index=True)
    created_at: datetime = _time(index=True)
    email: str = Field(max_length=320)
    outcome: str = Field(max_length=20)  # an ItemOutcome
    reason: str = Field(default="")
    event_type: str | None = Field(default=None, max_length=200)
    event_ids: list = Field(default_factory=list, sa_type=sa.JSON)
    requests: list = Field(default_factory=list, sa_type=sa.JSON)  # [{"method","path","body"}]
    response_code: int | None = None
    changes: dict = Field(default_factory=dict, sa_type=sa.JSON)  # field → [before, after]
    attempts: int = 1
    dry_run: bool = False
    retry_of: int | None = None


class SyncItemGroup(SQLModel, table=True):
    """A group change of one item, so that counts per group are an indexed query."""

    __tablename__ = "sync_item_group"
    __table_args__ = (sa.Index("ix_sync_item_group_group_created", "group", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(index=True)
    created_at: datetime = _time()
    group: str = Field(max_length=255)
    action: str = Field(max_length=10)  # added, removed


class AccountLock(SQLModel, table=True):
    """Who is syncing an account now (one engine per MailerLite account at a time)."""

    __tablename__ = "account_lock"

    account: str = Field(primary_key=True, max_length=100)
    holder: str = Field(max_length=200)
    expires_at: datetime = _time()


class DailyOutcome(SQLModel, table=True):
    """Items per day, outcome and event type: what the Monitor's totals and charts read, so that they cost the
    same with a thousand items or a million. Kept by the engine in the transaction that records the items."""

    __tablename__ = "daily_outcome"
    __table_args__ = (
        sa.UniqueConstraint("day", "outcome", "event_type", name="uq_daily_outcome"),
        # covering indexes, one per question, so that the sums read no table row and sort nothing
        sa.Index("ix_daily_outcome_day_outcome", "day", "outcome", "count"),
        sa.Index("ix_daily_outcome_type_outcome", "event_type", "outcome", "day", "count"),
        sa.Index("ix_daily_outcome_outcome_day", "outcome", "day", "count"),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    outcome: str = Field(max_length=20)
    event_type: str = Field(default="", max_length=200)
    count: int = 0


class DailyGroup(SQLModel, table=True):
    """Group changes per day, group and action, for the Monitor's chart by group."""

    __tablename__ = "daily_group"
    __table_args__ = (sa.UniqueConstraint("day", "group", "action", name="uq_daily_group"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    group: str = Field(max_length=255)
    action: str = Field(max_length=10)
    count: int = 0


class WorkerHeartbeat(SQLModel, table=True):
    """A long-running process (a sync worker) and what it last said about itself: the dashboard reads it to tell
    whether a worker is alive (a row not written for a while means the process is gone)."""

    __tablename__ = "worker_heartbeat"

    name: str = Field(primary_key=True, max_length=200)  # host:pid:random, one per process
    role: str = Field(default="worker", max_length=20)
    state: str = Field(default="idle", max_length=20)  # idle, waiting, syncing, standby, backing_off, stopped
    detail: str = Field(default="")  # what it is doing or why it waits, in plain words
    started_at: datetime = _time()
    beat_at: datetime = _time(index=True)
    last_run_id: int | None = None


class RunRequest(SQLModel, table=True):
    """A person's request for a run, from the Run sync page: the worker (or the dashboard, when no worker runs)
    takes it and writes its progress here, so that any page view, even after a reload, shows it live; a person
    can ask for it to stop (``cancel_requested``), which the run reads between batches."""

    __tablename__ = "run_request"
    __table_args__ = (sa.Index("ix_run_request_status_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _time()
    trigger: str = Field(default="dashboard", max_length=20)
    dry_run: bool = False
    contact_limit: int | None = None
    status: str = Field(default=RequestStatus.QUEUED, max_length=20)  # a RequestStatus
    cancel_requested: bool = False
    holder: str = Field(default="", max_length=200)  # who runs it: a worker's name, or the dashboard's
    runner: str = Field(default="", max_length=20)  # "worker" or "dashboard", to say so on the page
    run_id: int | None = None
    started_at: datetime | None = _time(nullable=True, default=False)
    updated_at: datetime | None = _time(nullable=True, default=False)
    finished_at: datetime | None = _time(nullable=True, default=False)
    contacts_total: int = 0  # contacts the run is expected to handle (an estimate made when it starts)
    contacts_done: int = 0
    events_done: int = 0
    requests: int = 0
    error: str = Field(default="")  # why it could not run at all, in plain words (a run's own error is on the run)


class DriftCheck(SQLModel, table=True):
    """One comparison of a MailerLite account with what the studio decided (``python -m sync_core drift check``,
    the Compare with MailerLite page, or the worker's daily check): its figures, kept so the page and the CLI show
    the last one; its contacts are ``DriftContact`` rows."""

    __tablename__ = "drift_check"
    __table_args__ = (sa.Index("ix_drift_check_account_id", "account", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(default="", max_length=100)
    account_label: str = Field(default="", max_length=200)
    trigger: str = Field(default="manual", max_length=20)  # manual, cli, dashboard, schedule
    status: str = Field(default="running", max_length=20)  # running, finished, failed
    started_at: datetime = _time()
    finished_at: datetime | None = _time(nullable=True, default=False)
    subscribers_read: int = 0  # subscribers MailerLite listed
    contacts_compared: int = 0  # of them, contacts the studio synced
    contacts_differ: int = 0
    counts: dict = Field(default_factory=dict, sa_type=sa.JSON)  # kind of difference → contacts
    requests: int = 0
    error: str = Field(default="")
    repair_run_id: int | None = None  # the last repair made from this check


class DriftContact(SQLModel, table=True):
    """One contact of a drift check that differs, with each difference (``sync_core.domain.drift`` as JSON)."""

    __tablename__ = "drift_contact"
    __table_args__ = (sa.Index("ix_drift_contact_check_id", "check_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    check_id: int
    email: str = Field(max_length=320)
    subscriber_id: str | None = Field(default=None, max_length=40)
    kinds: list = Field(default_factory=list, sa_type=sa.JSON)
    differences: list = Field(default_factory=list, sa_type=sa.JSON)


class DriftSeen(SQLModel, table=True):
    """The emails a running check has seen in MailerLite, so the contacts it did not see (deleted there) are found
    with a query instead of a set in memory; emptied when the check ends."""

    __tablename__ = "drift_seen"

    check_id: int = Field(primary_key=True)
    email: str = Field(primary_key=True, max_length=320)


class ForgottenMark(SQLModel, table=True):
    """A hashed tombstone of a forgotten contact (GDPR): a keyed hash of the normalized email, or of one of the
    events that were erased with it (source and id), and when the forget happened. Without the key (kept
    outside the database, like the secrets' one) a hash says nothing about the person; with it, an event from
    before the forget is recognized and never synced again."""

    __tablename__ = "forgotten_mark"

    fingerprint: str = Field(primary_key=True, max_length=64)  # hex HMAC-SHA256 of "email:…" or "event:…"
    forgotten_at: datetime = _time()


class ForgetRecord(SQLModel, table=True):
    """One forget (GDPR) as it was carried out: when, by whom, and how it went, in plain words without the
    email (what is left of the person is only the tombstone)."""

    __tablename__ = "forget_record"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _time(index=True)
    requested_by: str = Field(default="", max_length=200)  # the OS user, the dashboard's user, a trigger
    origin: str = Field(default="", max_length=20)  # cli, dashboard, trigger
    outcome: str = Field(default="", max_length=20)  # done, failed (MailerLite could not be asked)
    result: str = Field(default="")  # what happened, in plain words


class Person(SQLModel, table=True):
    """Someone who may sign in: a password (its argon2 hash, never the password) or single sign-on by email."""

    __tablename__ = "person"

    name: str = Field(primary_key=True, max_length=200)  # the user name, or the email for single sign-on
    role: str = Field(max_length=20)
    password_hash: str | None = Field(default=None, max_length=200)
    may_export_bodies: bool = Field(default=False)
    created_at: datetime = _time()
    changed_at: datetime = _time()


class SignInSession(SQLModel, table=True):
    """A signed-in browser session: the hash of its token (the token itself lives only in the session), with
    its end, so that an expired, signed-out or removed person's session is refused by every page view."""

    __tablename__ = "sign_in_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    person: str = Field(index=True, max_length=200)
    created_at: datetime = _time()
    expires_at: datetime = _time()


class AuditEntry(SQLModel, table=True):
    """Who did what: sign-ins (and failed ones), secrets, the key, mappings and rules, syncs, exports, forgets."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time(index=True)
    actor: str = Field(default="", max_length=200, index=True)
    role: str = Field(default="", max_length=20)
    action: str = Field(max_length=60, index=True)
    subject: str = Field(default="", max_length=500)
    address: str = Field(default="", max_length=64)  # the visitor's IP address, when known
    detail: dict = Field(default_factory=dict, sa_type=sa.JSON)


class AlertSettings(SQLModel, table=True):
    """Where alerts go and when (one row). The Slack-compatible webhook address and the mail server's address,
    which may hold a password, are secrets (encrypted in ``secret``), not here."""

    __tablename__ = "alert_settings"

    id: int = Field(default=1, primary_key=True)
    enabled: bool = True
    emails: str = Field(default="", max_length=2000)  # the addresses alerts are emailed to, comma separated
    threshold: float = 0.9  # an alert when the recent runs' success rate falls under this share
    updated_at: datetime = _time()


class AlertClaim(SQLModel, table=True):
    """The last time each problem was told: a process claims a problem by moving ``sent_at`` forward only when
    it is older than the interval (one statement), so that two processes never both send it."""

    __tablename__ = "alert_claim"

    problem_key: str = Field(primary_key=True, max_length=200)
    sent_at: datetime = _time()


class AlertSent(SQLModel, table=True):
    """Every alert sent (or tried): the message, the link, and whether each destination got it, in words."""

    __tablename__ = "alert_sent"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time(index=True)
    problem_key: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    count: int = 0
    message: str = Field(default="")
    link: str = Field(default="", max_length=1000)
    test: bool = False
    # [{"channel": "email" | "webhook", "to": "...", "delivered": bool, "reason": "..."}]: never a secret
    deliveries: list = Field(default_factory=list, sa_type=sa.JSON)
