"""The first-run guide: the six steps from an empty installation to contacts synced and webhooks coming in,
each ticked off from what the workspace holds (never from what a person says they did).

``facts`` reads the installation; ``steps`` is a pure function of those facts, so the Home page, a test or the
command line can say the same thing. ``note_preview`` is called by the Preview page when it shows an event: the
one step that leaves no trace of its own is recorded once in the audit log.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sync_core.domain.events import DODO_PAYMENTS, MAILERLITE, PARTNERO

#: The audit log's action for "Preview was used" (recorded once per installation).
PREVIEW_USED = "preview_used"
#: The sources whose events come by webhook (an imported file's rows do not count).
WEBHOOK_SOURCES = (DODO_PAYMENTS, PARTNERO, MAILERLITE)

_noted: set[str] = set()  # the databases whose preview is recorded already (to skip the query on every view)
_noted_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Facts:
    """What the installation holds that the guide is about."""

    connected: bool  # an account answers (the sandbox counts)
    sandbox: bool  # the built-in practice account is the one in use
    config_saved: bool  # a configuration has been saved (a preset loaded, or a mapping made by hand)
    previewed: bool  # someone has previewed an event
    dry_run_done: bool  # a dry run has finished
    synced: bool  # a sync has finished that created or updated someone in the account
    webhooks: bool  # an event has arrived by webhook, or a signing secret is set


@dataclass(frozen=True, slots=True)
class Step:
    key: str  # connect, preset, preview, dry_run, sync, webhooks
    title: str
    why: str  # one line: what the step is for, in a marketer's words
    done: bool


def facts(workspace, *, connected: bool) -> Facts:  # noqa: ANN001 - a Workspace
    """The guide's facts for this installation; ``connected``: whether the account answered (the caller has the
    account's report, which it caches)."""
    webhook_secret_set = any(workspace.webhook_secret_status(source).source is not None for source in WEBHOOK_SOURCES)
    webhook_event = any(when is not None for when in workspace.events.last_received(WEBHOOK_SOURCES).values())
    return Facts(
        connected=connected,
        sandbox=workspace.uses_sandbox(),
        config_saved=workspace.configs.latest() is not None,
        previewed=preview_noted(workspace),
        dry_run_done=workspace.runs.finished_exists(dry_run=True),
        synced=workspace.runs.finished_exists(dry_run=False, sent=True),
        webhooks=webhook_secret_set or webhook_event,
    )


def steps(facts: Facts) -> list[Step]:
    """The six steps, in the order to take them, each done or not."""
    connect_why = (
        "The sandbox, a practice account built into the studio, answers for now: connect your own MailerLite "
        "account with its API key when you are ready."
        if facts.sandbox
        else "The studio talks to your MailerLite account with its API key."
    )
    return [
        Step("connect", "Connect a MailerLite account", connect_why, facts.connected),
        Step(
            "preset",
            "Pick a preset",
            "A ready-made mapping for Partnero or Dodo Payments says which data goes to which MailerLite field.",
            facts.config_saved,
        ),
        Step(
            "preview",
            "Preview an event",
            "See exactly what one sale or partner update would change in MailerLite, without sending anything.",
            facts.previewed,
        ),
        Step(
            "dry_run",
            "Do a dry run",
            "Import your contacts and see what a sync would do to each of them, still without sending anything.",
            facts.dry_run_done,
        ),
        Step(
            "sync",
            "Sync your contacts",
            "Send them to MailerLite: new subscribers are created, the others updated.",
            facts.synced,
        ),
        Step(
            "webhooks",
            "Set up webhooks",
            "Let Partnero and Dodo Payments tell the studio about every new sale or partner, so it syncs on its own.",
            facts.webhooks,
        ),
    ]


def done_count(steps: list[Step]) -> int:
    return sum(1 for step in steps if step.done)


def preview_noted(workspace) -> bool:  # noqa: ANN001 - a Workspace
    """Whether someone has previewed an event in this installation."""
    if _place(workspace) in _noted:
        return True
    if workspace.audit_log.recent(limit=1, action=PREVIEW_USED):
        with _noted_lock:
            _noted.add(_place(workspace))
        return True
    return False


def _place(workspace) -> str:  # noqa: ANN001 - a Workspace
    return f"{workspace.directory}|{workspace.database.url}"


def note_preview(workspace) -> None:  # noqa: ANN001 - a Workspace
    """Record (once per installation) that an event was previewed: the guide's third step is done."""
    if preview_noted(workspace):
        return
    workspace.audit(PREVIEW_USED, "Preview")
    with _noted_lock:
        _noted.add(_place(workspace))


__all__ = ["PREVIEW_USED", "Facts", "Step", "done_count", "facts", "note_preview", "preview_noted", "steps"]
