"""Suppressed contacts, asked about again: MailerLite never lets the API bring an unsubscribed (bounced, junk)
subscriber back, but a person can come back by a form or in the app. When no event arrives for them, nothing
else would notice; so each suppressed contact is looked up again at most once a day, and one MailerLite says is
active again gets the events that waited while they were away (they go back in the live queue, and the next
run sends what they say, planned against what the contact last received)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.contacts import ContactStore
from storage.events import EventStore
from storage.runs import RunStore
from storage.statuses import EventStatus, ItemOutcome
from sync_core.domain.requests import batch_path, path_segment, subscriber_path
from sync_core.domain.state import SUPPRESSED_STATUSES
from sync_core.mailerlite import MailerLiteClient
from sync_core.mailerlite.models import MAX_BATCH_REQUESTS, BatchRequest, BatchResult

#: How often one suppressed contact is asked about, at most.
RECHECK_INTERVAL = timedelta(days=1)


@dataclass(slots=True)
class RecheckSummary:
    checked: int = 0  # suppressed contacts looked up
    active_again: int = 0  # of which MailerLite says they are active again
    requeued: int = 0  # events of theirs put back in the queue
    requests: int = 0  # HTTP requests to MailerLite

    def in_words(self) -> str:
        if not self.checked:
            return "no unsubscribed contact was due for a check"
        return (
            f"checked {self.checked} unsubscribed contact(s) with MailerLite: {self.active_again} subscribed "
            f"again, {self.requeued} of their event(s) will sync"
        )


def recheck_suppressed(
    client: MailerLiteClient,
    account: str,
    *,
    contacts: ContactStore,
    events: EventStore,
    runs: RunStore,
    now: datetime,
    interval: timedelta = RECHECK_INTERVAL,
    limit: int = 500,
    call: Callable[[Callable[[], BatchResult]], BatchResult] = lambda action: action(),
) -> RecheckSummary:
    """Look up this account's suppressed contacts not asked about within ``interval`` (up to ``limit``, in
    batches of lookups), record what MailerLite says, and put back in the queue the events of those active
    again. ``call`` wraps each MailerLite call (the run's patience)."""
    summary = RecheckSummary()
    due = contacts.due_for_a_check(account, SUPPRESSED_STATUSES, now - interval, limit=limit)
    for start in range(0, len(due), MAX_BATCH_REQUESTS):
        chunk = due[start : start + MAX_BATCH_REQUESTS]
        requests = [BatchRequest(method="GET", path=batch_path(subscriber_path(path_segment(c.email)))) for c in chunk]
        summary.requests += 1
        answer = call(functools.partial(client.batch, requests))
        said: dict[str, tuple[str | None, str | None]] = {}
        for contact, response in zip(chunk, answer.responses, strict=False):
            data = response.body.get("data") if isinstance(response.body, dict) else None
            if 200 <= response.code < 300 and isinstance(data, dict):
                said[contact.email] = (str(data.get("id") or contact.subscriber_id or "") or None, data.get("status"))
            else:  # not found, or no answer: asked about all the same, so not again before tomorrow
                said[contact.email] = (contact.subscriber_id, None)
        contacts.mark_checked(account, said, now)
        summary.checked += len(said)
        for email, (_, status) in said.items():
            if status is None or status in SUPPRESSED_STATUSES:
                continue
            summary.active_again += 1
            summary.requeued += events.requeue(statuses=(EventStatus.SYNCED,), event_ids=_events_held_back(runs, email))
    return summary


def _events_held_back(runs: RunStore, email: str, *, page: int = 50) -> list[int]:
    """The events of ``email`` whose last sync found them suppressed: those of its items (not dry runs) since
    the last one that reached MailerLite, newest first."""
    held: list[int] = []
    for item in runs.items(email=email, limit=page):
        if item.dry_run:
            continue
        if item.outcome != ItemOutcome.SUPPRESSED:
            break
        held.extend(int(event_id) for event_id in item.event_ids)
    return held
