"""MailerLite's own events (its webhooks) → the studio's memory of each contact, before the contact is planned.

They are never sent anywhere: each says what the account now holds (unsubscribed, bounced, junk, active again,
deleted, fields edited, moved between groups by hand), and the contact's remembered state for the account in use
follows (``domain/sources/mailerlite.apply_event``). They are applied in arrival order, and before any pending
event of the same contact is planned: at the start of every run, for any that arrive while it runs in the chunk
they come in, and by the worker when only they wait (so no run, and no request, is needed for them). Each is then
marked handled (synced) with what MailerLite said, which the contact's history shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from storage.contacts import ContactStore
from storage.locks import AccountBusy, AccountLease
from storage.statuses import EventStatus
from storage.tables import ReceivedEvent
from sync_core.domain.config import SyncConfig
from sync_core.domain.events import MAILERLITE, RejectedInput
from sync_core.domain.sources.body import decode_object
from sync_core.domain.sources.mailerlite import apply_event, read_event
from sync_core.domain.state import ContactState
from sync_core.engine.accounts import account_identity

PAGE = 1000


def remembered_states(contacts: ContactStore, account: str, emails: Iterable[str]) -> dict[str, ContactState]:
    """What the studio remembers of these contacts in this account (a deleted subscriber's too)."""
    states = {}
    for email, row in contacts.states(account, emails).items():
        state = ContactState.from_dict(row.state) if row.state else ContactState(email)
        state.subscriber_id, state.status = row.subscriber_id, row.status
        states[email] = state
    return states


def planning_states(contacts: ContactStore, account: str, emails: Iterable[str]) -> dict[str, ContactState]:
    """The states planning starts from. A deleted subscriber's state stays: planning treats it as never synced
    (sent whole), and keeps an event older than the deletion from bringing them back."""
    return remembered_states(contacts, account, emails)


def mapped_fields(config: SyncConfig) -> set[str]:
    """The MailerLite fields the configuration fills: those a ``subscriber.updated`` brings back."""
    return {mapping.target for trigger in config.triggers for mapping in trigger.fields}


def apply_mailerlite_events(
    workspace,  # noqa: ANN001 - a Workspace
    account: str,
    config: SyncConfig,
    *,
    rows: Sequence[ReceivedEvent] | None = None,
    record: bool = True,
    known: Mapping[str, ContactState] | None = None,
    now: datetime | None = None,
) -> dict[str, ContactState]:
    """Apply ``rows`` (default: every pending MailerLite event, in arrival order) to the contacts of
    ``account``; returns the contacts' new states. ``record=False`` (a dry run) changes nothing stored and starts
    from ``known`` where it holds a contact. The caller holds the account's lease."""
    now = now or datetime.now(UTC)
    fields = mapped_fields(config)
    applied: dict[str, ContactState] = {}
    after = 0
    while True:
        page = (
            list(rows)
            if rows is not None
            else workspace.events.pending_rows(after_id=after, limit=PAGE, source=MAILERLITE)
        )
        if not page:
            return applied
        after = page[-1].id or after
        events = [(row, _read(row)) for row in page]
        emails = {event.email for _, event in events if not isinstance(event, RejectedInput)}
        states = remembered_states(workspace.contacts, account, emails - set(applied))
        states.update({email: state for email, state in (known or {}).items() if email in emails})
        states.update({email: state for email, state in applied.items() if email in emails})
        statuses: dict[tuple[str, str, bool], list[int]] = {}
        changed: dict[str, ContactState] = {}
        for row, event in events:
            if isinstance(event, RejectedInput):
                statuses.setdefault((EventStatus.REJECTED, event.reason, False), []).append(row.id)  # type: ignore
                continue
            state, said = apply_event(states.get(event.email), event, fields, now=now)
            states[event.email] = changed[event.email] = state
            statuses.setdefault((EventStatus.SYNCED, said, False), []).append(row.id)  # type: ignore[arg-type]
        if record:
            contacts = [
                {"email": email, "subscriber_id": state.subscriber_id, "status": state.status, "state": state.to_dict()}
                for email, state in changed.items()
            ]
            with workspace.database.session() as session:
                workspace.contacts.save_many(session, account, contacts)
                workspace.events.set_statuses(session, statuses)
        applied.update(changed)
        if rows is not None or len(page) < PAGE:
            return applied


def settle_mailerlite_events(workspace) -> int:  # noqa: ANN001 - a Workspace
    """For the worker: apply the pending MailerLite events under the account's lease, so that no run is needed
    for them; how many contacts they changed (0 also when a run holds the account: it applies them itself)."""
    if not workspace.events.pending_rows(limit=1, source=MAILERLITE):
        return 0
    config = workspace.config()
    try:
        account = account_identity(workspace, config)
    except Exception:  # noqa: BLE001 - e.g. a stored key that cannot be read: the run says so in plain words
        return 0
    lease = AccountLease(workspace.database, account.key, seconds=60)
    try:
        lease.acquire()
    except AccountBusy:
        return 0
    try:
        return len(apply_mailerlite_events(workspace, account.key, config))
    finally:
        lease.release()


def _read(row: ReceivedEvent):  # noqa: ANN202
    if row.body is None:
        return RejectedInput(MAILERLITE, row.reason or "the event has no body", id=row.event_id)
    decoded = decode_object(bytes(row.body), MAILERLITE, limit=None)
    if isinstance(decoded, RejectedInput):
        return decoded
    return read_event(decoded)


__all__ = [
    "apply_mailerlite_events",
    "mapped_fields",
    "planning_states",
    "remembered_states",
    "settle_mailerlite_events",
]
