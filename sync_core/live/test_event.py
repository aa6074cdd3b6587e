"""*Send a test event*: one of the samples, signed with the stored secret the way its sender signs, posted to the
studio's own webhook endpoint over HTTP, so that an admin sees the whole way in (the address, the signature, the
store, the configuration's verdict) work before giving the address to Dodo Payments or Partnero.

The event is an ordinary one once it has arrived: the sync takes it like any other (the sample's contact is
created or updated), which is what shows that the way through works.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from storage.events import EventStore
from storage.statuses import EventStatus
from sync_core.domain.events import DODO_PAYMENTS, PARTNERO, SOURCE_LABELS, NormalizedEvent
from sync_core.domain.preview import preview_event
from sync_core.domain.sources import normalize_input
from sync_core.engine.samples import dodo_samples, partnero_samples
from sync_core.engine.workspace import Workspace
from sync_core.live.receiver import WEBHOOK_PATHS
from sync_core.live.verify import partnero_signature

#: The sample each sender's test uses: the event a new user expects first.
TEST_EVENT_TYPES = {DODO_PAYMENTS: "payment.succeeded", PARTNERO: "partner.created"}

_STATUS_WORDS = {
    EventStatus.PENDING: "it waits for the next sync (the live sync takes it within seconds)",
    EventStatus.SYNCED: "it has been synced to MailerLite",
    EventStatus.IGNORED: "the configuration ignores it",
    EventStatus.INVALID: "it cannot be synced",
    EventStatus.REJECTED: "it was refused",
    EventStatus.FAILED: "its sync failed; it is tried again",
    EventStatus.DEAD: "its sync failed too many times; it waits on the Monitor page",
}


@dataclass(slots=True)
class TestEventResult:
    """What happened to the test event, in words, with the raw answer for *Advanced*."""

    source: str
    arrived: bool
    headline: str
    details: list[str] = field(default_factory=list)
    event_id: str = ""
    email: str | None = None
    status_code: int | None = None
    answer: str = ""


TestEventResult.__test__ = False  # type: ignore[attr-defined]  # not a pytest class, despite its name


def _sample(source: str) -> bytes:
    samples = dodo_samples() if source == DODO_PAYMENTS else partnero_samples()
    wanted = TEST_EVENT_TYPES[source]
    for sample in samples:
        if wanted in sample.label and isinstance(sample.payload, bytes):
            return sample.payload
    raise LookupError(f"no {wanted} sample")  # pragma: no cover - the samples ship with the package


def signed_test_event(source: str, secret: str, *, now: datetime | None = None) -> tuple[bytes, dict[str, str]]:
    """A fresh sample body (its time is now, so it is not a duplicate of an earlier test) and its sender's
    headers, signed with ``secret``."""
    now = now or datetime.now(UTC)
    document = json.loads(_sample(source))
    if source == DODO_PAYMENTS:
        document["timestamp"] = now.isoformat().replace("+00:00", "Z")
        body = json.dumps(document).encode()
        msg_id = f"msg_studio_test_{uuid.uuid4().hex[:20]}"
        return body, {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body.decode()),
            "content-type": "application/json",
        }
    document["created_at"] = now.isoformat().replace("+00:00", "Z")
    body = json.dumps(document).encode()
    return body, {"Signature": partnero_signature(secret, body), "content-type": "application/json"}


def send_test_event(ws: Workspace, source: str, base_url: str, *, timeout: float = 10.0) -> TestEventResult:
    """Sign a sample with the stored secret, post it to ``base_url`` (this studio's own server) and say what
    became of it; never raises for what can go wrong on the way."""
    label = SOURCE_LABELS[source]
    secret = ws.webhook_secret(source)
    if not secret:
        return TestEventResult(
            source, False, f"No {label} signing secret is saved yet: save one (or generate one) first, then test."
        )
    body, headers = signed_test_event(source, secret)
    url = base_url.rstrip("/") + WEBHOOK_PATHS[source]
    try:
        with httpx.Client(timeout=timeout, trust_env=False) as http:
            response = http.post(url, content=body, headers=headers)
    except httpx.HTTPError:
        return TestEventResult(
            source,
            False,
            "The test event could not reach the studio's webhook address from this computer: is the studio's "
            "server running? Reload the page and try again.",
            answer=f"no answer from {url}",
        )
    answer = response.text[:2000]
    if response.status_code >= 400:
        reason = _answer_field(answer, "error")
        return TestEventResult(
            source,
            False,
            f"The studio refused the test event: {reason or 'it could not be taken'}.",
            status_code=response.status_code,
            answer=answer,
        )
    event_id = _answer_field(answer, "id")
    stored = EventStore(ws.database).find(source, event_id) if event_id else None
    result = TestEventResult(
        source,
        stored is not None,
        f"The test event arrived and its signature is valid: {label} can send events to this address."
        if stored is not None
        else "The studio answered, but the test event was not found in its history; try again.",
        event_id=event_id,
        email=stored.email if stored else None,
        status_code=response.status_code,
        answer=answer,
    )
    if stored is not None:
        result.details = what_it_does(ws, source, body, headers, stored.status, stored.reason)
    return result


def what_it_does(
    ws: Workspace, source: str, body: bytes, headers: dict[str, str], status: str, reason: str = ""
) -> list[str]:
    """The configuration's verdict on the event, in sentences: whom it is about, what the sync sends."""
    words = [f"Right now {_STATUS_WORDS.get(EventStatus(status), status)}{': ' + reason if reason else ''}."]
    try:
        item = normalize_input(body, source, headers=headers)
        if not isinstance(item, NormalizedEvent):
            return words
        outcome = preview_event(ws.config(), item)
    except Exception:  # noqa: BLE001 - the verdict is extra; the arrival is what was asked
        return words
    if outcome.new_contact is None:
        words.append(f"The configuration does not sync it: {outcome.evaluation.reason or 'no rule takes it'}.")
        return words
    plan = outcome.new_contact
    fields = len(outcome.evaluation.values)
    groups = ", ".join(plan.groups_added)
    words.append(
        f"For {plan.email} the sync creates or updates the subscriber with {fields} field"
        f"{'' if fields == 1 else 's'}" + (f" and adds them to {groups}." if groups else ".")
    )
    return words


def test_event_status(ws: Workspace, result: TestEventResult) -> str | None:
    """Where the test event stands now (asked again after a moment: the live sync may have taken it)."""
    if not result.event_id:
        return None
    stored = EventStore(ws.database).find(result.source, result.event_id)
    if stored is None:
        return None
    words = _STATUS_WORDS.get(EventStatus(stored.status), stored.status)
    return f"{words[:1].upper()}{words[1:]}."


def _answer_field(answer: str, name: str) -> str:
    """One field of the receiver's JSON answer ("" when the answer is not JSON or lacks it)."""
    try:
        document = json.loads(answer)
    except ValueError:
        return ""
    return str(document.get(name) or "") if isinstance(document, dict) else ""


send_test_event.__test__ = False  # type: ignore[attr-defined]
test_event_status.__test__ = False  # type: ignore[attr-defined]
