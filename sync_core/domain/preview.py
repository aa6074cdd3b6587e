"""Preview: what one event would make the product send, for a new contact and for an existing one.

It goes through exactly the planning a real sync uses, so what the preview shows is what a sync sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sync_core.domain.config import SyncConfig
from sync_core.domain.evaluation import EventEvaluation
from sync_core.domain.events import NormalizedEvent
from sync_core.domain.planning import ContactPlan, Planner
from sync_core.domain.state import ContactState


@dataclass(slots=True)
class EventPreview:
    event: NormalizedEvent
    evaluation: EventEvaluation
    new_contact: ContactPlan | None  # None when the event is not synced
    existing_contact: ContactPlan | None


def preview_event(config: SyncConfig | Planner, event: NormalizedEvent, *, now: datetime | None = None) -> EventPreview:
    """The evaluation of ``event`` and the plans for a contact never synced and for one already known (whose
    MailerLite values are not known, so every mapped field counts as a change)."""
    planner = config if isinstance(config, Planner) else Planner(config)
    now = now or datetime.now(UTC)
    evaluation = planner.evaluator.evaluate(event, now)
    if evaluation.status != "sync" or event.email is None:
        return EventPreview(event, evaluation, None, None)
    new_contact = planner.plan_contact(event.email, [evaluation], None, {})
    known = ContactState(event.email)
    existing_contact = planner.plan_contact(event.email, [evaluation], known, {})
    return EventPreview(event, evaluation, new_contact, existing_contact)
