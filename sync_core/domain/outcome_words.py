"""What the Monitor, the exports and the CLI call a sync's outcomes, a run's and an event's statuses, and the
colour each outcome has in the charts: failures red, waiting ones orange, good ones green, nothing-to-do grey.

The stored names (``storage.statuses``) stay short and stable for machines; these are for people.
"""

from __future__ import annotations

#: outcome → (label, colour). The order is the order of the charts' legend.
OUTCOMES: dict[str, tuple[str, str]] = {
    "created": ("Created", "#1a9850"),
    "updated": ("Updated", "#66bd63"),
    "unsubscribed": ("Unsubscribed", "#fdae61"),
    "deleted": ("Deleted from MailerLite", "#8c6d31"),
    "forgotten": ("Forgotten (GDPR)", "#7b6fa8"),
    "unchanged": ("Already up to date", "#bdbdbd"),
    "skipped": ("Skipped", "#d4d4d4"),
    "ignored": ("Ignored by the rules", "#e3e3e3"),
    "suppressed": ("Left MailerLite earlier, not re-added", "#969696"),
    "invalid": ("Cannot be synced as it is", "#f46d43"),
    "rejected": ("Refused on arrival", "#fb9a70"),
    "failed": ("Failed, tried again", "#d73027"),
    "dead": ("Failed for good, needs a retry", "#a50026"),
}

RUN_STATUSES = {
    "running": "Running",
    "finished": "Finished",
    "failed": "Failed",
    "interrupted": "Stopped before the end",
    "cancelled": "Stopped by a person",
}

EVENT_STATUSES = {
    "pending": "Waiting for the sync",
    "staged": "Imported, waiting for a dry run or a sync",
    "synced": "Synced",
    "ignored": "Ignored by the rules",
    "invalid": "Cannot be synced as it is",
    "rejected": "Refused on arrival",
    "failed": "Failed, tried again",
    "dead": "Failed for good, needs a retry",
}

TRIGGERS = {
    "manual": "Started by a person",
    "dashboard": "Started on the dashboard",
    "cli": "Started from the command line",
    "worker": "Live sync",
    "retry": "Retry",
    "schedule": "Scheduled",
}


def outcome_label(outcome: str | None) -> str:
    return OUTCOMES.get(outcome or "", ((outcome or "—").replace("_", " ").capitalize(), ""))[0]


def outcome_colour(outcome: str) -> str:
    return OUTCOMES.get(outcome, ("", "#8c8c8c"))[1] or "#8c8c8c"


def run_status_label(status: str | None) -> str:
    return RUN_STATUSES.get(status or "", (status or "—").replace("_", " ").capitalize())


def event_status_label(status: str | None) -> str:
    return EVENT_STATUSES.get(status or "", (status or "—").replace("_", " ").capitalize())


def trigger_label(trigger: str | None) -> str:
    return TRIGGERS.get(trigger or "", (trigger or "—").replace("_", " ").capitalize())
