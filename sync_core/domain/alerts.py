"""Alerts: which problems are worth telling a person about, and what the message says.

Pure: the engine (``sync_core.engine.alerts``) gives the facts (a run's counts, the recent runs' tallies, what the
worker says) and sends what these functions write. Each problem has a key, so that the same problem is told at
most once an hour however many runs or processes meet it, and a link to the Monitor view that explains it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

#: Where the dashboard is when ``SYNC_STUDIO_PUBLIC_URL`` is not set (Streamlit's own address).
LOCAL_DASHBOARD = "http://127.0.0.1:8501"
#: The same problem is told at most once in this time.
ALERT_INTERVAL = timedelta(hours=1)
#: Below this share of contacts synced well over the recent runs, an alert goes out (unless set otherwise).
DEFAULT_THRESHOLD = 0.9
#: How many of the latest runs the success rate is taken over.
RECENT_RUNS = 10


class ProblemKind(StrEnum):
    CONTACTS_FAILED = "contacts_failed"  # contacts failed or went dead in a run
    LOW_SUCCESS_RATE = "low_success_rate"
    WORKER_STALLED = "worker_stalled"  # events wait and the worker cannot sync them
    WORKER_STOPPED = "worker_stopped"
    TEST = "test"  # "Send a test alert"


#: The Monitor view that explains each problem (``/monitor?view=…``).
MONITOR_VIEWS = {
    ProblemKind.CONTACTS_FAILED: "failing",
    ProblemKind.LOW_SUCCESS_RATE: "runs",
    ProblemKind.WORKER_STALLED: "worker",
    ProblemKind.WORKER_STOPPED: "worker",
    ProblemKind.TEST: "runs",
}
#: A problem's kind in a few words, for the list of recent alerts.
KIND_LABELS = {
    ProblemKind.CONTACTS_FAILED: "Contacts failed",
    ProblemKind.LOW_SUCCESS_RATE: "Low success rate",
    ProblemKind.WORKER_STALLED: "Live sync stalled",
    ProblemKind.WORKER_STOPPED: "Worker stopped",
    ProblemKind.TEST: "Test alert",
}


def kind_label(kind: str) -> str:
    """A stored problem kind in words ("Contacts failed")."""
    try:
        return KIND_LABELS[ProblemKind(kind)]
    except ValueError:
        return kind.replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    key: str  # the same problem has the same key: it is told at most once per ``ALERT_INTERVAL``
    count: int  # the contacts (or events) concerned; 0 when none is
    what: str  # what happened, in a sentence
    todo: str  # what to do about it

    @property
    def view(self) -> str:
        return MONITOR_VIEWS[self.kind]

    def link(self, public_url: str | None) -> str:
        return monitor_link(self.view, public_url)

    def subject(self) -> str:
        return f"MailerLite sync studio: {self.what.rstrip('.')}"

    def text(self, public_url: str | None) -> str:
        """The whole message: what happened, what to do, and where to look."""
        return f"{self.what} {self.todo}\nSee what happened in the Monitor: {self.link(public_url)}"


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """What is sent for the problems found together (one run's failed contacts and a low success rate): one
    message, so that a person gets one email and one chat message per thing that went wrong."""

    problems: tuple[Problem, ...]
    public_url: str | None

    @property
    def first(self) -> Problem:
        return self.problems[0]

    def subject(self) -> str:
        return self.first.subject()

    def text(self) -> str:
        return "\n\n".join(problem.text(self.public_url) for problem in self.problems)

    def link(self) -> str:
        return self.first.link(self.public_url)

    @property
    def key(self) -> str:
        return " + ".join(problem.key for problem in self.problems)


def monitor_link(view: str, public_url: str | None) -> str:
    """The address of a Monitor view on the dashboard (``SYNC_STUDIO_PUBLIC_URL`` or this machine's)."""
    base = (public_url or LOCAL_DASHBOARD).strip().rstrip("/")
    return f"{base}/monitor?view={view}"


@dataclass(frozen=True, slots=True)
class RunTally:
    """What a finished run did, as alerts need it."""

    run_id: int
    failed: int  # tried again later
    dead: int  # gave up: waits for a person
    good: int  # created, updated, unchanged, ... (everything that ended well)
    bad: int  # failed, dead and invalid
    account: str = ""
    dry_run: bool = False


def _key(kind: ProblemKind, account: str) -> str:
    return f"{kind.value}:{account}" if account else kind.value


def _contacts(count: int) -> str:
    return f"{count:,} contact{'' if count == 1 else 's'}"


def run_problems(run: RunTally) -> list[Problem]:
    """A run in which contacts failed or went dead: one problem (a dry run sends nothing, so none)."""
    if run.dry_run or run.failed + run.dead <= 0:
        return []
    count = run.failed + run.dead
    if run.dead:
        retried = f"{_contacts(run.failed)} will be tried again automatically; " if run.failed else ""
        todo = (
            f"{retried}{_contacts(run.dead)} gave up after 3 tries and wait{'s' if run.dead == 1 else ''} for you: "
            "open the Monitor, read why, fix the cause and retry them."
        )
    else:
        todo = "They will be tried again automatically; open the Monitor to read why they failed."
    what = f"{_contacts(count)} could not be synced to MailerLite in sync run {run.run_id}."
    return [Problem(ProblemKind.CONTACTS_FAILED, _key(ProblemKind.CONTACTS_FAILED, run.account), count, what, todo)]


def success_rate(runs: Sequence[RunTally]) -> float | None:
    """The share of contacts that ended well over ``runs`` (None: none was synced)."""
    good = sum(run.good for run in runs if not run.dry_run)
    bad = sum(run.bad for run in runs if not run.dry_run)
    return good / (good + bad) if good + bad else None


def success_rate_problem(
    runs: Sequence[RunTally], threshold: float = DEFAULT_THRESHOLD, *, account: str = ""
) -> Problem | None:
    """The recent runs' success rate under ``threshold``."""
    rate = success_rate(runs)
    if rate is None or rate >= threshold:
        return None
    counted = [run for run in runs if not run.dry_run]
    bad = sum(run.bad for run in counted)
    what = (
        f"Only {rate:.0%} of contacts synced well in the last {len(counted)} sync run"
        f"{'' if len(counted) == 1 else 's'}, under your alert level of {threshold:.0%}."
    )
    todo = (
        f"{_contacts(bad)} did not sync. Open the Monitor to see which ones and why: most often a mapping that "
        "sends a value MailerLite refuses, or MailerLite not answering."
    )
    return Problem(ProblemKind.LOW_SUCCESS_RATE, _key(ProblemKind.LOW_SUCCESS_RATE, account), bad, what, todo)


def worker_stalled_problem(waiting: int, reason: str) -> Problem:
    """Events wait and the worker cannot sync them (``reason``: why, in plain words)."""
    what = f"The live sync is stuck: {waiting:,} event{'' if waiting == 1 else 's'} wait to be sent to MailerLite."
    todo = (
        f"{reason.rstrip('.')}. Nothing is lost: they are sent as soon as the cause is fixed. Check the "
        "connection to MailerLite (the API key) on the Connection page."
        if reason
        else "Nothing is lost: they are sent as soon as the cause is fixed. Check the connection to MailerLite."
    )
    return Problem(ProblemKind.WORKER_STALLED, ProblemKind.WORKER_STALLED.value, waiting, what, todo)


def worker_stopped_problem(waiting: int) -> Problem:
    """The sync worker ended without being asked to."""
    what = "The sync worker stopped unexpectedly" + (
        f": {waiting:,} event{'' if waiting == 1 else 's'} wait to be sent to MailerLite." if waiting else "."
    )
    todo = (
        "Webhook events are still stored, but nothing is sent to MailerLite until the worker runs again; the "
        "studio tries to start it again. If this repeats, restart the studio."
    )
    return Problem(ProblemKind.WORKER_STOPPED, ProblemKind.WORKER_STOPPED.value, waiting, what, todo)


def trial_problem() -> Problem:
    """What *Send a test alert* sends: nothing is wrong."""
    return Problem(
        ProblemKind.TEST,
        ProblemKind.TEST.value,
        0,
        "This is a test alert from the MailerLite sync studio.",
        "Nothing is wrong: alerts reach you here when contacts fail to sync or the sync stops.",
    )


__all__ = [
    "AlertMessage",
    "ALERT_INTERVAL",
    "DEFAULT_THRESHOLD",
    "KIND_LABELS",
    "LOCAL_DASHBOARD",
    "MONITOR_VIEWS",
    "RECENT_RUNS",
    "Problem",
    "ProblemKind",
    "RunTally",
    "kind_label",
    "monitor_link",
    "run_problems",
    "success_rate",
    "success_rate_problem",
    "trial_problem",
    "worker_stalled_problem",
    "worker_stopped_problem",
]
