"""How to fix a row or an event that cannot be synced, in the words a marketer uses (Monitor's *Needs
attention*). Read from the status and the reason the sync gave; pure."""

from __future__ import annotations

from sync_core.domain.planning import SkipStatus


def _from_file(origin: str) -> bool:
    return bool(origin) and not origin.startswith("webhook") and origin != "stored"


def where_from(origin: str) -> str:
    """Where an event came from, for people: "file partners.csv row 12", "webhook"."""
    return f"file {origin}" if _from_file(origin) else (origin or "unknown")


def how_to_fix(status: str, reason: str, origin: str = "") -> str:
    """The next step for one event that waits for a person: ``status`` is invalid or rejected, ``origin``
    where it came from ("partners.csv row 12", "webhook")."""
    from_file = _from_file(origin)
    again = "import the corrected file again" if from_file else "have the sender send the event again"
    where = "in the file" if from_file else "at the sender"
    text = reason.lower()
    if status == SkipStatus.REJECTED:
        return f"It cannot be read as it is: correct it {where} and {again}."
    if "email address" in text:
        return f"Correct the email address {where} and {again}."
    if "does not fit a" in text:
        return (
            f"Correct the value {where} and {again}; or, if the value is right, change the field's type or "
            "transform on Field mapping and check the rows again (button below)."
        )
    return f"Correct the data {where} and {again}, or change the Field mapping and check the rows again."
