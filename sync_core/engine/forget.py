"""Forget a contact (GDPR): MailerLite is asked to forget the subscriber, the studio erases the person.

One function for every way in (the Monitor's contact lookup, ``python -m sync_core forget EMAIL``, a trigger's
action "forget" during a run): MailerLite's ``POST /subscribers/{id}/forget`` (the id is the one the studio knows,
else looked up by email; a subscriber MailerLite does not have is fine, and said so), then the erasure of every
row that carries the email, in every account's memory (``storage.forgotten``), keeping only hashed tombstones so
that an event from before the forget is never synced again, and last the record of the forget: when, by whom,
how it went, never the email.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.forgotten import FORGOTTEN_CONTACT, Erasure
from sync_core.domain.access import Permission
from sync_core.domain.emails import InvalidEmail, normalize_email
from sync_core.engine.accounts import account_in_use
from sync_core.engine.workspace import Workspace
from sync_core.mailerlite import MailerLiteClient
from sync_core.mailerlite.errors import MailerLiteError, NotFound

#: How MailerLite's side of a forget went.
FORGOTTEN, NOT_IN_MAILERLITE, NOT_ASKED, FAILED = "forgotten", "not_in_mailerlite", "not_asked", "failed"
#: What a person is told before a forget, wherever they start it.
WHAT_HAPPENS = (
    "MailerLite is asked to forget the subscriber (MailerLite deletes their data within 30 days; it cannot be "
    "undone there), and the studio erases every event, sync item, dry-run change and saved state of this "
    "address, in every account. Only a hashed tombstone is kept, so that events from before today are never "
    "synced again. This cannot be undone."
)


@dataclass(slots=True)
class ForgetResult:
    mailerlite: str  # FORGOTTEN, NOT_IN_MAILERLITE, NOT_ASKED or FAILED
    mailerlite_words: str  # what MailerLite's side came to, in plain words
    erasure: Erasure
    record_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.mailerlite != FAILED and not self.erasure.traces_left

    def in_words(self) -> str:
        """The result in plain words, without the email (it is what the record keeps too)."""
        text = f"{self.mailerlite_words} The studio {self.erasure.in_words()}; a hashed tombstone is kept."
        if self.erasure.traces_left:
            text += (
                " Part of the database file could not be rewritten yet (another process was reading it): "
                "forget the address again when no sync is running."
            )
        if self.mailerlite == FAILED:
            text += " Forget the address again to ask MailerLite once more."
        return text


class ForgetError(ValueError):
    """The forget cannot start (an address that is not one); the message says why in plain words."""


def who_asks(origin: str, name: str | None = None) -> str:
    """Who a forget is recorded as done by: the name given (the dashboard's signed-in user), else the
    operating-system user for the command line, else the way it was started ("dashboard", "cli")."""
    if name and name.strip():
        return name.strip()
    if origin == "cli":
        try:
            return getpass.getuser()
        except Exception:  # noqa: BLE001 - no user name to be had (a container without one)
            return origin
    return origin


def forget_contact(
    workspace: Workspace,
    email: str,
    *,
    requested_by: str,
    origin: str,
    client: MailerLiteClient | None = None,
    now: datetime | None = None,
    asked: str | None = None,
) -> ForgetResult:
    """Forget ``email``: MailerLite first (unless ``asked`` says what came of it: a run already asked), then
    the studio's own rows, then the record. The local erasure happens even when MailerLite cannot be reached (the
    studio's part does not wait for it); the result says so, and forgetting again asks MailerLite again."""
    workspace.require(Permission.FORGET)
    try:
        address = normalize_email(email)
    except InvalidEmail as exc:
        raise ForgetError(f"{exc}; give the contact's email address") from None
    now = now or datetime.now(UTC)
    if asked is None:
        outcome, words = _ask_mailerlite(workspace, address, client)
    else:
        outcome, words = NOT_ASKED, asked
    erasure = workspace.forgotten.erase(address, now=now)
    result = ForgetResult(outcome, _without(words, address), erasure)
    record = workspace.forgotten.record(
        requested_by=_without(requested_by, address),
        origin=origin,
        outcome="done" if result.ok else "incomplete",
        result=result.in_words(),
    )
    result.record_id = record.id
    workspace.audit("forgotten", "a contact", record=record.id, origin=origin)  # never the email
    return result


def _ask_mailerlite(workspace: Workspace, email: str, client: MailerLiteClient | None) -> tuple[str, str]:
    account = account_in_use(workspace)
    where = account.label if account is not None else "MailerLite"
    try:
        client = client or workspace.client()
        known = workspace.contacts.get(account.key, email) if account is not None else None
        subscriber_id = known.subscriber_id if known is not None else None
        if not subscriber_id:
            found = client.find_subscriber(email)
            if found is None:
                return NOT_IN_MAILERLITE, f"The subscriber is not in {where}: nothing to forget there."
            subscriber_id = found.id
        try:
            answer = client.forget_subscriber(str(subscriber_id))
        except NotFound:
            return NOT_IN_MAILERLITE, f"The subscriber is not in {where} (any more): nothing to forget there."
    except MailerLiteError as exc:
        return FAILED, f"MailerLite could not be asked to forget the subscriber ({exc})."
    except Exception:  # noqa: BLE001 - a stored key that cannot be read, a broken configuration
        return FAILED, "MailerLite could not be asked to forget the subscriber (the connection cannot be used)."
    words = answer.message or "Subscriber data will be completely deleted and forgotten within 30 days."
    return FORGOTTEN, f"{where} was asked to forget the subscriber: {words}"


def _without(text: str, email: str) -> str:
    """``text`` with the email taken out, whatever its case (an error message may quote it)."""
    return re.sub(re.escape(email), FORGOTTEN_CONTACT, text, flags=re.IGNORECASE)


__all__ = [
    "FAILED",
    "FORGOTTEN",
    "NOT_ASKED",
    "NOT_IN_MAILERLITE",
    "WHAT_HAPPENS",
    "ForgetError",
    "ForgetResult",
    "forget_contact",
    "who_asks",
]
