"""Alerts: find the problems after a run or in the worker, and tell them by email and to a Slack-compatible
incoming webhook, each problem at most once an hour whichever process meets it.

Alerts go only where an admin saved (the Connection page, ``Workspace``-checked) or the environment says
(``SYNC_STUDIO_ALERT_SLACK_URL``, ``SYNC_STUDIO_ALERT_EMAIL``, ``SYNC_STUDIO_SMTP_URL``): nothing sends to an
address given any other way. The webhook address and the mail server's address (which holds its password) are
stored encrypted like the other secrets and never shown back in full: pages and logs say only their host.

Telling is never allowed to break a sync: every hook (``alert_after_run``, ``alert_worker_stalled``,
``alert_worker_stopped``) catches what goes wrong, and a delivery that fails is recorded with its reason in
plain words.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from storage import SecretKeyError
from storage.alerts import AlertStore, SentAlert
from storage.statuses import RunStatus
from storage.tables import SyncRun
from sync_core.domain.access import Permission
from sync_core.domain.alerts import (
    ALERT_INTERVAL,
    DEFAULT_THRESHOLD,
    RECENT_RUNS,
    AlertMessage,
    Problem,
    RunTally,
    run_problems,
    success_rate_problem,
    trial_problem,
    worker_stalled_problem,
    worker_stopped_problem,
)
from sync_core.domain.emails import InvalidEmail, normalize_email
from sync_core.engine.workspace import PROBLEMS, SUCCESS, Workspace, day
from sync_core.settings import get_settings, revealed

log = logging.getLogger("sync_core.alerts")


class _HideWebhookAddresses(logging.Filter):
    """httpx logs every request's full address at INFO; a webhook's address is its secret, so those lines go."""

    addresses: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(str(arg).startswith(address) for arg in args for address in self.addresses)


_hidden = _HideWebhookAddresses()
logging.getLogger("httpx").addFilter(_hidden)

#: The stored secrets' names.
WEBHOOK_URL_SECRET = "alert:webhook_url"
SMTP_URL_SECRET = "alert:smtp_url"
#: How long one delivery may take.
TIMEOUT_SECONDS = 10.0
EMAIL, WEBHOOK = "email", "webhook"


class AlertSettingsError(ValueError):
    """What an admin entered cannot be used; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class Destinations:
    """Where alerts go now (the environment wins over what was saved)."""

    enabled: bool
    threshold: float
    emails: tuple[str, ...]
    webhook_url: str | None
    smtp_url: str | None

    @property
    def any(self) -> bool:
        return bool(self.webhook_url) or bool(self.emails and self.smtp_url)


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str  # EMAIL or WEBHOOK
    to: str  # the email addresses, or the webhook's host: never a secret
    delivered: bool
    reason: str = ""  # why not, in plain words
    detail: str = ""  # for an "Advanced" view: the answer's status code, the error's kind

    def words(self) -> str:
        where = f"email to {self.to}" if self.channel == EMAIL else f"the webhook at {self.to}"
        return f"{where[:1].upper()}{where[1:]}: " + (
            "delivered." if self.delivered else f"not delivered, {self.reason}."
        )


@dataclass(frozen=True, slots=True)
class AlertSetup:
    """What a page or ``alerts status`` may say of the settings: never a secret in full."""

    enabled: bool
    threshold: float
    emails: tuple[str, ...]
    emails_source: str | None  # "environment", "stored" or None
    webhook: str  # "hooks.slack.com (saved on 2 Dec 2026)", "from SYNC_STUDIO_ALERT_SLACK_URL", "not set"
    webhook_set: bool
    mail_server: str  # "mail.example.com:587 as ada (saved on …)", or "not set"
    mail_server_set: bool
    ready: bool  # some destination can be reached

    def as_dict(self) -> dict:
        return asdict(self)


# --- settings ---------------------------------------------------------------------------------------------------


def _store(workspace: Workspace) -> AlertStore:
    return AlertStore(workspace.database)


def destinations(workspace: Workspace) -> Destinations:
    settings = get_settings()
    stored = _store(workspace).settings(default_threshold=DEFAULT_THRESHOLD)
    emails = _emails_from_env() or stored.emails
    return Destinations(
        enabled=stored.enabled,
        threshold=stored.threshold,
        emails=emails,
        webhook_url=revealed(settings.alert_slack_url) or _stored(workspace, WEBHOOK_URL_SECRET),
        smtp_url=revealed(settings.smtp_url) or _stored(workspace, SMTP_URL_SECRET),
    )


def _stored(workspace: Workspace, name: str) -> str | None:
    """A saved destination; None when the key at hand cannot read it (it is saved again on the page)."""
    try:
        return workspace.secrets.get(name)
    except SecretKeyError:
        log.warning("a saved alert destination cannot be read with this encryption key; save it again")
        return None


def _emails_from_env() -> tuple[str, ...]:
    configured = get_settings().alert_email
    return parse_emails(configured) if configured else ()


def parse_emails(text: str) -> tuple[str, ...]:
    """Email addresses separated by commas, semicolons or spaces, checked (``AlertSettingsError``)."""
    found: list[str] = []
    for part in text.replace(";", ",").replace("\n", ",").replace(" ", ",").split(","):
        if not part.strip():
            continue
        try:
            address = normalize_email(part)
        except InvalidEmail:
            raise AlertSettingsError(f"“{part.strip()}” is not an email address.") from None
        if address not in found:
            found.append(address)
    return tuple(found)


def check_webhook_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AlertSettingsError("The webhook address should start with https:// (as Slack gives it).")
    return url


def check_smtp_url(url: str) -> str:
    url = url.strip()
    try:
        _mail_server(url)
    except ValueError:
        raise AlertSettingsError(
            "The mail server should read like smtp://user:password@mail.example.com:587?starttls=1 "
            "(or smtps://… for a secure connection from the start)."
        ) from None
    return url


def alert_setup(workspace: Workspace) -> AlertSetup:
    settings = get_settings()
    stored = _store(workspace).settings(default_threshold=DEFAULT_THRESHOLD)
    from_env = _emails_from_env()
    current = destinations(workspace)
    webhook = _secret_words(
        workspace, settings.alert_slack_url, "SYNC_STUDIO_ALERT_SLACK_URL", WEBHOOK_URL_SECRET, current.webhook_url
    )
    mail = _secret_words(workspace, settings.smtp_url, "SYNC_STUDIO_SMTP_URL", SMTP_URL_SECRET, current.smtp_url)
    return AlertSetup(
        enabled=stored.enabled,
        threshold=stored.threshold,
        emails=current.emails,
        emails_source="environment" if from_env else ("stored" if stored.emails else None),
        webhook=webhook,
        webhook_set=bool(current.webhook_url),
        mail_server=mail,
        mail_server_set=bool(current.smtp_url),
        ready=current.any,
    )


def _secret_words(workspace: Workspace, configured: object, variable: str, name: str, value: str | None) -> str:
    if not value:
        return "not set"
    where = _where(value)
    if configured is not None:
        return f"{where} (from {variable})"
    record = workspace.secrets.record(name)
    return f"{where} (saved on {day(record.saved_at)})" if record is not None else where


def _where(url: str) -> str:
    """An address in words without its secret parts: the host (and port, and user name, for a mail server)."""
    parts = urlsplit(url)
    if parts.scheme in ("smtp", "smtps"):
        try:
            server = _mail_server(url)
        except ValueError:
            return "an address that cannot be read"
        return f"{server.host}:{server.port}" + (f" as {server.user}" if server.user else "")
    return parts.hostname or "an address that cannot be read"


def save_alert_settings(
    workspace: Workspace,
    *,
    enabled: bool,
    threshold: float,
    emails: str,
    webhook_url: str | None = None,
    smtp_url: str | None = None,
) -> None:
    """Save what an admin entered. ``webhook_url`` / ``smtp_url``: None keeps the saved one, "" removes it."""
    workspace.require(Permission.MANAGE_SECRETS)
    if not 0 <= threshold <= 1:
        raise AlertSettingsError("The success rate alert level should be between 0% and 100%.")
    addresses = parse_emails(emails)
    webhook = check_webhook_url(webhook_url) if webhook_url else webhook_url
    smtp = check_smtp_url(smtp_url) if smtp_url else smtp_url
    _store(workspace).save_settings(enabled=enabled, emails=addresses, threshold=threshold)
    for name, value in ((WEBHOOK_URL_SECRET, webhook), (SMTP_URL_SECRET, smtp)):
        if value:
            workspace.secrets.set(name, value)
        elif value == "":
            workspace.secrets.delete(name)
    workspace.audit(
        "alert_settings_saved",
        "alerts",
        enabled=enabled,
        threshold=threshold,
        emails=list(addresses),
        webhook="changed" if webhook else ("removed" if webhook == "" else "kept"),
        mail_server="changed" if smtp else ("removed" if smtp == "" else "kept"),
    )


def recent_alerts(workspace: Workspace, limit: int = 20) -> list[SentAlert]:
    return _store(workspace).recent(limit)


# --- telling ----------------------------------------------------------------------------------------------------


def raise_alerts(workspace: Workspace, problems: Sequence[Problem], *, now: datetime | None = None) -> list[int]:
    """Tell the problems not told within the hour (by any process), together in one message, to every
    destination; the id of the alert recorded (none when nothing is new). Nothing is claimed while alerts are
    off or have nowhere to go, so that they are told once a destination is saved."""
    if not problems:
        return []
    where = destinations(workspace)
    if not where.enabled or not where.any:
        return []
    store = _store(workspace)
    claimed = tuple(problem for problem in problems if store.claim(problem.key, interval=ALERT_INTERVAL, now=now))
    if not claimed:
        return []
    message = AlertMessage(claimed, get_settings().public_url)
    deliveries = _deliver(where, message)
    for delivery in deliveries:
        if delivery.delivered:
            log.info("alert %s sent: %s", message.key, delivery.words())
        else:
            log.warning("alert %s: %s", message.key, delivery.words())
    return [_record(store, message, deliveries)]


def send_test_alert(workspace: Workspace) -> list[Delivery]:
    """*Send a test alert*: to every saved destination now (no hourly limit), recorded like an alert."""
    workspace.require(Permission.MANAGE_SECRETS)
    message = AlertMessage((trial_problem(),), get_settings().public_url)
    deliveries = _deliver(destinations(workspace), message)
    if deliveries:
        _record(_store(workspace), message, deliveries, test=True)
    workspace.audit("alert_test_sent", "alerts", delivered=sum(d.delivered for d in deliveries))
    return deliveries


def _record(store: AlertStore, message: AlertMessage, deliveries: list[Delivery], *, test: bool = False) -> int:
    return store.record(
        problem_key=message.key,
        kind=message.first.kind.value,
        count=message.first.count,
        message=message.text(),
        link=message.link(),
        deliveries=[asdict(delivery) for delivery in deliveries],
        test=test,
    )


def _deliver(where: Destinations, message: AlertMessage) -> list[Delivery]:
    text = message.text()
    deliveries = []
    if where.emails and where.smtp_url:
        deliveries.append(send_email(where.smtp_url, where.emails, message.subject(), text))
    elif where.emails:
        deliveries.append(
            Delivery(EMAIL, ", ".join(where.emails), False, "no mail server is set (SMTP address)", "no smtp url")
        )
    if where.webhook_url:
        deliveries.append(post_webhook(where.webhook_url, text))
    return deliveries


# --- email ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MailServer:
    host: str
    port: int
    secure: bool  # smtps://: TLS from the start
    starttls: bool
    user: str
    password: str
    sender: str

    def __repr__(self) -> str:  # never the password
        return f"MailServer({self.host}:{self.port})"


def _mail_server(url: str) -> MailServer:
    """``smtp://user:password@host:port?starttls=1&from=alerts@example.com`` (``ValueError`` when unreadable)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("not an smtp address")
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    user = unquote(parts.username or "")
    sender = query.get("from") or (user if "@" in user else f"sync-studio@{parts.hostname}")
    if "@" not in parseaddr(sender)[1]:
        raise ValueError("not a sender address")
    return MailServer(
        host=parts.hostname,
        port=port,
        secure=secure,
        starttls=query.get("starttls", "").lower() in ("1", "true", "yes", "on"),
        user=user,
        password=unquote(parts.password or ""),
        sender=sender,
    )


def send_email(smtp_url: str, recipients: Sequence[str], subject: str, body: str) -> Delivery:
    to = ", ".join(recipients)
    try:
        server = _mail_server(smtp_url)
    except ValueError:
        return Delivery(EMAIL, to, False, "the mail server's address cannot be read", "bad smtp url")
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, server.sender, to
    message.set_content(body)
    where = f"{server.host}:{server.port}"
    try:
        connection_class = smtplib.SMTP_SSL if server.secure else smtplib.SMTP
        with connection_class(server.host, server.port, timeout=TIMEOUT_SECONDS) as connection:
            if server.starttls:
                connection.starttls(context=ssl.create_default_context())
            if server.user:
                connection.login(server.user, server.password)
            connection.send_message(message)
    except smtplib.SMTPAuthenticationError:
        return Delivery(EMAIL, to, False, f"the mail server {where} refused the user name or password", "auth")
    except smtplib.SMTPNotSupportedError:
        return Delivery(
            EMAIL,
            to,
            False,
            f"the mail server {where} does not offer what the address asks (STARTTLS or sign-in)",
            "not supported",
        )
    except smtplib.SMTPRecipientsRefused:
        return Delivery(EMAIL, to, False, f"the mail server {where} refused the addresses {to}", "recipients refused")
    except smtplib.SMTPSenderRefused:
        return Delivery(EMAIL, to, False, f"the mail server {where} refused the sender {server.sender}", "sender")
    except TimeoutError:
        return Delivery(EMAIL, to, False, f"the mail server {where} did not answer in time", "timeout")
    except ssl.SSLError:
        return Delivery(EMAIL, to, False, f"no secure connection could be made with the mail server {where}", "tls")
    except smtplib.SMTPException as exc:
        return Delivery(EMAIL, to, False, f"the mail server {where} refused the message", type(exc).__name__)
    except OSError as exc:
        return Delivery(EMAIL, to, False, f"the mail server {where} could not be reached", type(exc).__name__)
    return Delivery(EMAIL, to, True)


# --- the Slack-compatible webhook -------------------------------------------------------------------------------


def post_webhook(url: str, text: str) -> Delivery:
    """POST ``{"text": …}``, as Slack, Mattermost, Rocket.Chat and Teams' Slack-compatible hooks take it."""
    host = _where(url)
    _hidden.addresses.add(url)
    try:
        answer = httpx.post(url, json={"text": text}, timeout=TIMEOUT_SECONDS, follow_redirects=False)
    except httpx.TimeoutException:
        return Delivery(WEBHOOK, host, False, f"it did not answer within {TIMEOUT_SECONDS:.0f} seconds", "timeout")
    except (httpx.HTTPError, OSError) as exc:
        return Delivery(WEBHOOK, host, False, "it could not be reached", type(exc).__name__)
    if answer.status_code >= 400:
        if answer.status_code in (404, 410):
            reason = "the address no longer exists (was the webhook removed?)"
        elif answer.status_code in (401, 403):
            reason = "it refused the message (not allowed)"
        else:
            reason = "it answered with an error"
        return Delivery(WEBHOOK, host, False, reason, f"HTTP {answer.status_code}")
    return Delivery(WEBHOOK, host, True, detail=f"HTTP {answer.status_code}")


# --- the hooks --------------------------------------------------------------------------------------------------


def run_tally(run: SyncRun) -> RunTally:
    return RunTally(
        run_id=int(run.id or 0),
        failed=run.failed,
        dead=run.dead,
        good=sum(getattr(run, name) for name in SUCCESS),
        bad=sum(getattr(run, name) for name in PROBLEMS),
        account=run.account,
        dry_run=run.dry_run,
    )


def problems_after_run(workspace: Workspace, run: SyncRun) -> list[Problem]:
    """The problems a finished run shows: its contacts that failed, and the recent runs' success rate."""
    if run.dry_run:
        return []
    problems = run_problems(run_tally(run))
    recent = [
        run_tally(other)
        for other in workspace.runs.recent(limit=RECENT_RUNS * 3)
        if not other.dry_run and other.status != RunStatus.RUNNING and other.account == run.account
    ][:RECENT_RUNS]
    threshold = _store(workspace).settings(default_threshold=DEFAULT_THRESHOLD).threshold  # nothing decrypted
    low = success_rate_problem(recent, threshold, account=run.account)
    return problems + ([low] if low is not None else [])


def alert_after_run(workspace: Workspace, run: SyncRun) -> None:
    """After a run recorded its results (a CLI ``sync``, the worker, the dashboard): never raises."""
    try:
        raise_alerts(workspace, problems_after_run(workspace, run))
    except Exception as exc:  # noqa: BLE001 - telling must never break a sync
        log.warning("the alerts of run %s could not be checked (%s)", run.id, type(exc).__name__)


def alert_worker_stalled(workspace: Workspace, waiting: int, reason: str) -> None:
    """The worker has not synced for long (backing off): never raises."""
    try:
        raise_alerts(workspace, [worker_stalled_problem(waiting, reason)])
    except Exception as exc:  # noqa: BLE001
        log.warning("the worker's alert could not be sent (%s)", type(exc).__name__)


def alert_worker_stopped(workspace: Workspace | None = None) -> None:
    """The worker process ended without being asked (seen by the process that supervises it): never raises."""
    opened = None
    try:
        if workspace is None:
            workspace = opened = Workspace()
        waiting = workspace.events.count("pending")  # along the status index: not every status of the history
        raise_alerts(workspace, [worker_stopped_problem(waiting)])
    except Exception as exc:  # noqa: BLE001
        log.warning("the worker's alert could not be sent (%s)", type(exc).__name__)
    finally:
        if opened is not None:
            opened.database.dispose()


__all__ = [
    "AlertSettingsError",
    "AlertSetup",
    "Delivery",
    "Destinations",
    "alert_after_run",
    "alert_setup",
    "alert_worker_stalled",
    "alert_worker_stopped",
    "destinations",
    "parse_emails",
    "post_webhook",
    "problems_after_run",
    "raise_alerts",
    "recent_alerts",
    "save_alert_settings",
    "send_email",
    "send_test_alert",
]
