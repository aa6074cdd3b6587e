"""Sending contact plans to MailerLite in batches, and reading each contact's outcome from the answers.

Up to 50 requests go in one ``POST /batch`` (one unit of the 120 per minute). A contact's requests stay
together in one batch; requests that depend on what MailerLite answers go in a second round: those that need
the id it gives back, and everything after a plan's lookup (``GET /subscribers/{email}``: an "update existing
only" contact, a "set only if empty" field the product does not know, a contact last seen suppressed). Before
the second round, ``planning.follow_up`` drops what the answer makes needless: removals from groups the
subscriber is not in, "set only if empty" values MailerLite already holds, everything for a subscriber it does
not have (update only) or keeps unsubscribed. A lookup costs one request inside a batch, not an HTTP call.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from storage.statuses import ItemOutcome
from sync_core.domain.config import SyncConfig
from sync_core.domain.planning import (
    SUBSCRIBER_PLACEHOLDER,
    ContactPlan,
    Operation,
    PlanOutcome,
    follow_up,
    resolve_groups,
    suppressed_reason,
    unknown_groups,
)
from sync_core.domain.requests import SUBSCRIBERS, api_relative, batch_path, path_segment
from sync_core.domain.state import DELETED_STATUS, SUPPRESSED_STATUSES, ContactState
from sync_core.mailerlite import MailerLiteClient
from sync_core.mailerlite.errors import AuthError, ConfigurationError, ForbiddenError, MailerLiteError
from sync_core.mailerlite.models import MAX_BATCH_REQUESTS, BatchItemResult, BatchRequest
from sync_core.mailerlite.session import encode_json

T = TypeVar("T")

# MailerLite runs a batch made only of upserts as a bulk import, limited to 5 per minute ("when a batch request
# consists entirely of POST api/subscribers requests"). One cheap read in the batch keeps it an ordinary batch:
# 120 per minute, and a code for every upsert.
_NOT_ONLY_UPSERTS = BatchRequest(method="GET", path=batch_path(f"{SUBSCRIBERS}?limit=0"))
#: Requests of an account's setup (reading and creating groups and fields) sent at once.
_SETUP_AT_ONCE = 4
#: Errors after which no other request can succeed either: the run stops, nothing is marked failed.
STOPPING_ERRORS = (AuthError, ForbiddenError, ConfigurationError)
#: What a plan is recorded as when nothing is sent for it (a dry run, or nothing to send); a plan that is sent
#: is recorded as MailerLite's answers make it (a planned create may turn out an update).
RECORDED_OUTCOMES = {
    PlanOutcome.CREATE: ItemOutcome.CREATED,
    PlanOutcome.UPDATE: ItemOutcome.UPDATED,
    PlanOutcome.UNSUBSCRIBE: ItemOutcome.UNSUBSCRIBED,
    PlanOutcome.DELETE: ItemOutcome.DELETED,
    PlanOutcome.UNCHANGED: ItemOutcome.UNCHANGED,
    PlanOutcome.SUPPRESSED: ItemOutcome.SUPPRESSED,
    PlanOutcome.FORGET: ItemOutcome.FORGOTTEN,
    PlanOutcome.SKIP: ItemOutcome.SKIPPED,
}


#: Why nothing was sent for a contact MailerLite does not have, by the trigger's action (None: update only).
NOT_IN_MAILERLITE = {
    None: "not in MailerLite, nothing was sent: this trigger only updates existing subscribers "
    "(it never creates one, nor brings back one deleted in MailerLite)",
    "unsubscribe": "not in MailerLite, nothing was sent: unsubscribing never creates a subscriber",
    "remove_groups": "not in MailerLite, nothing was sent: removing from the studio's groups never creates a "
    "subscriber",
    "delete": "not in MailerLite, nothing was sent: there was no subscriber to delete",
}
#: What became of a contact a trigger forgets, by whether MailerLite had the subscriber.
FORGOTTEN_IN_MAILERLITE = "forgotten (GDPR) by a trigger: MailerLite was asked to forget the subscriber"
FORGOTTEN_NOT_IN_MAILERLITE = "forgotten (GDPR) by a trigger: the subscriber was not in MailerLite"


#: The reason of a request the batch's answer said nothing about: it is sent again, never counted as synced.
UNANSWERED = (
    "MailerLite's answer to the batch did not say what happened to this request, so it is not counted as "
    "synced; it is sent again on the next try"
)


class MailerLiteUnavailable(Exception):
    """MailerLite kept failing (429s, errors, timeouts) for longer than a run waits: the run ends, and the
    events not recorded yet wait, none of their attempts used up. ``resume_at`` is when to try again."""

    def __init__(self, reason: str, resume_at: datetime):
        super().__init__(reason)
        self.reason = reason
        self.resume_at = resume_at


@dataclass(slots=True)
class Patience:
    """How a run waits out MailerLite's bad moments: a call that fails in a way that may pass (a 429 storm,
    errors, timeouts, after the client's own retries) is tried again after a growing pause, until the trouble
    has lasted ``seconds``; then ``MailerLiteUnavailable`` says to come back ``resume_seconds`` later (no later
    than the trouble was waited out, and never before a Retry-After)."""

    seconds: float = 300.0
    resume_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    pause_max_seconds: float = 30.0

    def call(self, action: Callable[[], T]) -> T:
        trouble_since: float | None = None
        pause = 0.5
        while True:
            try:
                return action()
            except STOPPING_ERRORS:
                raise
            except MailerLiteError as exc:
                if not exc.retryable:
                    raise
                now = self.clock()
                trouble_since = now if trouble_since is None else trouble_since
                left = self.seconds - (now - trouble_since)
                retry_after = getattr(exc, "retry_after", None) or 0.0
                if left <= 0:
                    wait = max(retry_after, min(self.resume_seconds, self.seconds))
                    raise MailerLiteUnavailable(
                        str(exc), datetime.now().astimezone() + timedelta(seconds=wait)
                    ) from None
                self.sleep(min(left, max(pause, retry_after)))
                pause = min(self.pause_max_seconds, pause * 2)


@dataclass(slots=True)
class ContactResult:
    plan: ContactPlan
    outcome: ItemOutcome
    reason: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)  # as sent, ids resolved
    response_code: int | None = None
    retryable: bool = False
    subscriber_id: str | None = None
    status: str | None = None
    created: bool = False  # MailerLite answered 201 to the upsert: the subscriber is new
    answered: bool = False  # MailerLite said what it holds for the contact (a lookup or an upsert answered)
    seen: dict[str, Any] | None = None  # ... and that is this subscriber object (None: not in MailerLite)
    applied: int = 0  # requests other than lookups that MailerLite accepted


@dataclass(slots=True)
class Preparation:
    """The account made ready for a configuration: its groups' ids, what had to be created, what to watch."""

    group_ids: dict[str, str]
    created_groups: list[str] = field(default_factory=list)
    created_fields: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def prepare_account(client: MailerLiteClient, config: SyncConfig, *, create: bool = True) -> Preparation:
    """Find the groups and fields the configuration uses; create the missing ones with the right types.

    The ids of all the account's groups are kept: a templated rule ("Tier {tier}") names its groups only as
    events come (``name_groups``). The groups and the fields are read at once, then the missing ones created
    at once (within the account's budget, as batches are): with a second an answer, a new account is ready in
    a few seconds instead of one per request."""
    wanted_groups = config.group_names()
    wanted_fields = config.field_types()
    with ThreadPoolExecutor(max_workers=_SETUP_AT_ONCE, thread_name_prefix="mailerlite-setup") as pool:
        groups = pool.submit(lambda: {group.name: group.id for group in client.iter_groups()})
        fields = pool.submit(lambda: {item.key: item.type for item in client.iter_fields()})
        existing, types = groups.result(), fields.result()
        preparation = Preparation(dict(existing))
        new_groups = [name for name in wanted_groups if name not in existing] if create else []
        new_fields = [key for key in wanted_fields if key not in types] if create else []
        made_groups = [pool.submit(client.create_group, name) for name in new_groups]
        made_fields = [pool.submit(client.create_field, key, wanted_fields[key]) for key in new_fields]
        for name, made in zip(new_groups, made_groups):
            preparation.group_ids[name] = made.result().id
            preparation.created_groups.append(name)
        for key, made_field in zip(new_fields, made_fields):
            made_field.result()
            preparation.created_fields.append(key)
    for key, field_type in wanted_fields.items():
        if key in types and types[key] != field_type:
            preparation.warnings.append(
                f"the MailerLite field {key!r} is a {types[key]} field but the mapping sends a {field_type}; "
                "values that do not fit are refused by MailerLite"
            )
    return preparation


def name_groups(client: MailerLiteClient, preparation: Preparation, plans: Sequence[ContactPlan]) -> None:
    """Give the plans the ids of the groups they name that the run does not know yet (a templated rule's
    "Tier Silver"): a group joined is found or created in MailerLite, one only left is found (or, absent from
    the account, not left). The created ones are noted in ``preparation``."""
    joined, left = unknown_groups(plans, preparation.group_ids)
    if not joined and not left:
        return
    for name in sorted(joined | left):
        group = client.find_group(name)
        if group is None and name in joined:
            group = client.create_group(name)
            preparation.created_groups.append(name)
        if group is not None:
            preparation.group_ids[name] = group.id
    for plan in plans:
        resolve_groups(plan, preparation.group_ids)


class Sender:
    """Sends plans in batches, several in flight at once (``in_flight``), answers handed back in the order the
    batches went out.

    One batch at a time waits a whole answer (about a second at MailerLite) for each of the 120 requests a minute;
    a few in flight keep the account's budget in use instead. Each batch takes its turn in the account's one
    shared budget (``AccountBudget``: its 429 pause holds every sender), so more in flight never means more than
    the limit. A contact's requests all go in one batch, and a batch waits while one of its contacts is in a
    batch still in flight. Nothing is recorded here: the caller records each batch's answers as they are handed
    back, so a crash loses only answers not yet handed back, whose events stay pending."""

    def __init__(
        self,
        client: MailerLiteClient,
        *,
        batch_size: int = MAX_BATCH_REQUESTS,
        patience: Patience | None = None,
        in_flight: int = 1,
    ):
        self.client = client
        self.patience = patience or Patience()
        self.batch_size = min(batch_size, MAX_BATCH_REQUESTS) - 1  # room for the one read that keeps it a batch
        self.in_flight = max(1, in_flight)
        self.requests_sent = 0  # HTTP requests to MailerLite (a batch counts once), of the batches handed back

    def send(
        self, plans: Sequence[ContactPlan], *, stop: Callable[[], bool] | None = None
    ) -> Iterator[list[ContactResult]]:
        """Send the plans that have operations; yield the results of each batch once it is answered, in the
        order the batches went out. ``stop`` is asked before each batch after the first is answered: when it
        says True no other batch goes out, and those in flight are still answered and yielded. Raises the
        ``STOPPING_ERRORS`` (a revoked key...) and ``MailerLiteUnavailable`` without marking anyone failed, once
        the other batches in flight are yielded."""
        return self._in_flight(_batches(plans, self.batch_size), rehearsal=False, stop=stop)

    def rehearse(
        self, plans: Sequence[ContactPlan], *, stop: Callable[[], bool] | None = None
    ) -> Iterator[list[ContactResult]]:
        """What ``send`` would do, for a dry run: only the plans' lookups are sent (reads, which change
        nothing), and each contact's outcome is what MailerLite's answer would make it ("not in MailerLite,
        nothing would be sent" for an update-only contact it does not hold). Results come batch by batch."""
        batches = (list(plans[start : start + self.batch_size]) for start in range(0, len(plans), self.batch_size))
        return self._in_flight(batches, rehearsal=True, stop=stop)

    def _in_flight(
        self, batches: Iterator[list[ContactPlan]], *, rehearsal: bool, stop: Callable[[], bool] | None
    ) -> Iterator[list[ContactResult]]:
        """Up to ``in_flight`` batches sent at once, each answer yielded in turn. The pool is shut down only
        when no batch is in flight any more, whatever ends the loop (the caller stopping early, a failure): a
        run holds the account's lease until then, so no other run can send the same contacts meanwhile."""
        running: deque[tuple[Future[tuple[list[ContactResult], int]], frozenset[str]]] = deque()
        failure: Exception | None = None
        answered = 0

        def oldest() -> Iterator[list[ContactResult]]:
            nonlocal failure, answered
            future, _ = running[0]
            try:
                results, requests = future.result()  # a Ctrl-C while waiting here leaves the batch in flight
            except Exception as exc:  # raised once the others in flight are handed back
                running.popleft()
                failure = failure or exc
                return
            running.popleft()
            self.requests_sent += requests
            answered += 1
            yield results

        pool = ThreadPoolExecutor(max_workers=self.in_flight, thread_name_prefix="mailerlite-batch")
        try:
            for batch in batches:
                emails = frozenset(plan.email for plan in batch)
                while running and (
                    len(running) >= self.in_flight or any(not emails.isdisjoint(held) for _, held in running)
                ):
                    yield from oldest()
                if failure is not None or (answered and stop is not None and stop()):
                    break
                running.append((pool.submit(self._send_batch, batch, rehearsal=rehearsal), emails))
            while running:
                yield from oldest()
        except (KeyboardInterrupt, SystemExit):  # while waiting on an answer: those in flight are handed back first
            while running:
                yield from oldest()
            raise
        finally:
            pool.shutdown(wait=True)
        if failure is not None:
            raise failure

    def _send_batch(self, plans: list[ContactPlan], *, rehearsal: bool = False) -> tuple[list[ContactResult], int]:
        """One batch (and its second rounds), run in one of the sender's threads: the contacts' results, and
        the HTTP requests it took."""
        results = [
            ContactResult(
                plan, ItemOutcome.UNCHANGED, subscriber_id=plan.new_state.subscriber_id, status=plan.new_state.status
            )
            for plan in plans
        ]
        first: list[tuple[ContactResult, Operation, BatchRequest]] = []
        later: dict[int, list[Operation]] = {}
        for number, result in enumerate(results):
            problem = _unsendable(result.plan.operations)
            if problem:  # this contact alone fails; the others of the batch go out
                _fail(result, problem, None, retryable=False)
                continue
            operations = result.plan.operations
            if result.plan.reads_first:
                first.append((result, operations[0], _request(operations[0], None)))
                later[number] = operations[1:]
                continue
            if rehearsal:  # nothing to read first: the plan is what would be sent
                _as_planned(result)
                continue
            for operation in operations:
                if SUBSCRIBER_PLACEHOLDER in operation.path:
                    later.setdefault(number, []).append(operation)
                else:
                    first.append((result, operation, _request(operation, None)))
        requests = self._exchange(first)
        second: list[tuple[ContactResult, Operation, BatchRequest]] = []
        for number, operations in later.items():
            result = results[number]
            if result.outcome in (ItemOutcome.FAILED, ItemOutcome.SKIPPED):
                continue
            if result.outcome == ItemOutcome.SUPPRESSED:
                _nothing_applied(result)
                continue
            if result.answered:
                operations = follow_up(result.plan, operations, result.seen)
            if rehearsal:
                _as_answered(result, operations)
                continue
            for operation in operations:
                if SUBSCRIBER_PLACEHOLDER in operation.path and not result.subscriber_id:
                    continue  # not in MailerLite: nothing to take out of a group
                second.append((result, operation, _request(operation, result.subscriber_id)))
        for start in range(0, len(second), self.batch_size):
            requests += self._exchange(second[start : start + self.batch_size])
        if rehearsal:
            for result in results:
                if result.outcome == ItemOutcome.SKIPPED:
                    result.reason = result.reason.replace("nothing was sent", "nothing would be sent")
            return results, requests
        for result in results:
            if result.outcome != ItemOutcome.UNCHANGED or not result.plan.operations:
                continue
            if result.plan.outcome == PlanOutcome.FORGET:
                result.outcome = ItemOutcome.FORGOTTEN
                result.reason = FORGOTTEN_IN_MAILERLITE if result.applied else FORGOTTEN_NOT_IN_MAILERLITE
                continue
            if not result.applied:
                result.reason = "MailerLite already holds what the events say: nothing needed changing"
                continue
            result.outcome = ItemOutcome.CREATED if result.created else ItemOutcome.UPDATED
            if result.plan.action is not None:  # unsubscribed, deleted, or out of the studio's groups
                result.outcome = RECORDED_OUTCOMES[result.plan.outcome]
                continue
            if result.status in SUPPRESSED_STATUSES:  # applied, but MailerLite keeps them unsubscribed
                result.outcome = ItemOutcome.SUPPRESSED
                result.reason = (
                    f"the subscriber is {result.status} in MailerLite, which does not allow re-adding them by "
                    "API; their fields were updated, and the next event for them checks again"
                )
        return results, requests

    def _exchange(self, items: list[tuple[ContactResult, Operation, BatchRequest]]) -> int:
        """Send one batch and read its answers into the results; the number of HTTP requests sent (0 or 1)."""
        if not items:
            return 0
        requests = [request for _, _, request in items]
        if all(request.is_upsert for request in requests):
            requests.append(_NOT_ONLY_UPSERTS)
        try:
            answer = self.patience.call(lambda: self.client.batch(requests))
        except STOPPING_ERRORS:
            raise
        except MailerLiteError as exc:  # a refusal of the whole batch that waiting does not cure
            for result, _, request in items:
                result.requests.append(request.to_json())
                _fail(result, str(exc), exc.status, retryable=True)
            return 1
        for number, (result, operation, request) in enumerate(items):
            result.requests.append(request.to_json())
            if number < len(answer.responses):
                _read_answer(result, operation, answer.responses[number])
            else:
                _fail(result, UNANSWERED, None, retryable=True)
        return 1


def _batches(plans: Sequence[ContactPlan], size: int) -> Iterator[list[ContactPlan]]:
    """The plans in batches of at most ``size`` first-round requests, each contact's requests in one batch."""
    pending: list[ContactPlan] = []
    count = 0
    for plan in plans:
        first = _first_round(plan)
        if pending and count + first > size:
            yield pending
            pending, count = [], 0
        pending.append(plan)
        count += first
    if pending:
        yield pending


def _first_round(plan: ContactPlan) -> int:
    """How many of a plan's requests go in the first round (the rest wait for MailerLite's answer)."""
    if plan.reads_first:
        return 1
    return sum(1 for operation in plan.operations if SUBSCRIBER_PLACEHOLDER not in operation.path)


def _unsendable(operations: list[Operation]) -> str:
    """Why these requests cannot be written as JSON for MailerLite ("" when they can), naming the field."""
    for operation in operations:
        if not encodes_as_json(operation.body):
            fields = (operation.body or {}).get("fields")
            bad = (
                [key for key, value in fields.items() if not encodes_as_json(value)] if isinstance(fields, dict) else []
            )
            where = f"the value of {', '.join(map(str, bad))}" if bad else "a value of this contact"
            return (
                f"{where} cannot be sent to MailerLite (a number that is not finite or is too long, text that is "
                "not valid Unicode, or data nested too deeply); correct it at the source"
            )
    return ""


def encodes_as_json(value: Any) -> bool:
    """Whether MailerLite can be sent this value (and the history can keep it)."""
    try:
        encode_json(value)
    except (ValueError, UnicodeEncodeError):
        return False
    return True


def _request(operation: Operation, subscriber_id: str | None) -> BatchRequest:
    path = operation.path
    if subscriber_id:
        path = path.replace(SUBSCRIBER_PLACEHOLDER, path_segment(subscriber_id))
    return BatchRequest(method=operation.method, path=batch_path(api_relative(path)), body=operation.body)


def _read_answer(result: ContactResult, operation: Operation, item: BatchItemResult) -> None:
    code = item.code
    if result.response_code is None or code >= 300:
        result.response_code = code
    data = item.body.get("data") if isinstance(item.body, dict) else None
    forgetting = result.plan.outcome == PlanOutcome.FORGET  # a suppressed subscriber is forgotten all the same
    if 200 <= code < 300:
        if operation.kind != "lookup":
            result.applied += 1
        if operation.kind in ("upsert", "lookup") and isinstance(data, dict):
            result.subscriber_id = str(data.get("id") or result.subscriber_id or "") or None
            result.status = data.get("status") or result.status
            result.created = result.created or (operation.kind == "upsert" and code == 201)
            result.answered, result.seen = True, data
            if operation.kind == "lookup" and result.status in SUPPRESSED_STATUSES:
                if result.plan.action == "unsubscribe":
                    result.outcome = ItemOutcome.SUPPRESSED
                    result.reason = f"already {result.status} in MailerLite: nothing to send"
                elif result.plan.action is None:
                    result.outcome = ItemOutcome.SUPPRESSED
                    result.reason = suppressed_reason(result.status)
        elif operation.kind == "unsubscribe":
            result.status = (data or {}).get("status") or "unsubscribed"
        elif operation.kind == "delete":
            result.status, result.subscriber_id = DELETED_STATUS, None
        return
    if operation.kind in ("unsubscribe", "delete") and code == 404:
        result.outcome, result.reason = ItemOutcome.SKIPPED, NOT_IN_MAILERLITE[result.plan.action]
        return
    if operation.kind == "unassign" and code == 404:
        return  # not in the group: the wanted result
    if operation.kind == "forget" and code == 404:
        return  # gone from MailerLite meanwhile: nothing left to forget there
    if operation.kind == "lookup" and code == 404:
        result.answered, result.seen = True, None
        if not forgetting and not any(planned.kind == "upsert" for planned in result.plan.operations):
            result.outcome = ItemOutcome.SKIPPED
            result.reason = NOT_IN_MAILERLITE.get(result.plan.action, NOT_IN_MAILERLITE[None])
        return
    error = item.error()
    message = str(error) if error is not None else f"MailerLite answered {code}"
    if code == 422 and _is_suppression(item.body):
        result.outcome = ItemOutcome.SUPPRESSED
        result.status = "unsubscribed"
        result.reason = (
            "the subscriber unsubscribed (or bounced, or was marked junk) in MailerLite, which does "
            "not allow re-adding them by API; they can only come back through a form or the app"
        )
        return
    _fail(result, message, code, retryable=code == 429 or code >= 500)


def _as_planned(result: ContactResult) -> None:
    """A rehearsed plan that reads nothing first: recorded as planned, its requests as they would go."""
    plan = result.plan
    result.outcome, result.reason = RECORDED_OUTCOMES[plan.outcome], plan.reason
    result.requests = [operation.as_request() for operation in plan.operations]


def _as_answered(result: ContactResult, operations: list[Operation]) -> None:
    """A rehearsed plan after its lookup was answered: what would be sent now, and what that would make of
    the contact (created when MailerLite does not hold it, updated, or nothing to change)."""
    plan = result.plan
    would_send = [operation.as_request() for operation in operations]
    result.requests.extend(would_send)
    if plan.outcome == PlanOutcome.FORGET:  # forgotten whether MailerLite holds them or not
        result.outcome, result.reason = ItemOutcome.FORGOTTEN, plan.reason
    elif not would_send:
        result.outcome = ItemOutcome.UNCHANGED
        result.reason = "MailerLite already holds what the events say: nothing would change"
    elif plan.action is not None:  # would be unsubscribed, deleted, or taken out of the studio's groups
        result.outcome, result.reason = RECORDED_OUTCOMES[plan.outcome], plan.reason
    else:
        result.outcome = ItemOutcome.UPDATED if result.seen is not None else ItemOutcome.CREATED


def _nothing_applied(result: ContactResult) -> None:
    """MailerLite keeps the subscriber suppressed and nothing was sent after the lookup: the product goes on
    knowing what it knew, with only the status new."""
    plan = result.plan
    before = plan.previous
    plan.new_state = ContactState(plan.email) if before is None else before.copy()
    plan.changes, plan.groups_added, plan.groups_removed = {}, [], []


def _is_suppression(body: Any) -> bool:
    errors = body.get("errors") if isinstance(body, dict) else None
    text = str(errors or "").lower()
    return "unsubscribed" in text or "cannot be imported" in text


def _fail(result: ContactResult, reason: str, code: int | None, *, retryable: bool) -> None:
    if result.outcome == ItemOutcome.FAILED:
        return
    result.outcome, result.reason, result.retryable = ItemOutcome.FAILED, reason, retryable
    result.response_code = code if code is not None else result.response_code
