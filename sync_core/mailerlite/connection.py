"""*Test connection*: does the key work, and what does the account hold? Answered in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field

from .client import MailerLiteClient
from .errors import AuthError, MailerLiteError, NetworkError, RateLimited
from .models import FieldInfo, Group


@dataclass
class ConnectionReport:
    """The answer shown on the Connection page; ``problem`` says why not when ``ok`` is False."""

    ok: bool
    problem: str | None = None
    #: What support needs (status, request, the exception's own words); pages show it only under *Advanced*.
    detail: str | None = None
    subscriber_count: int | None = None
    groups: list[Group] = field(default_factory=list)
    fields: list[FieldInfo] = field(default_factory=list)
    rate_limit: int | None = None
    rate_limit_remaining: int | None = None
    base_url: str = ""

    def summary(self) -> str:
        if not self.ok:
            return f"Not connected: {self.problem}"
        rate = ""
        if self.rate_limit is not None and self.rate_limit_remaining is not None:
            rate = f"; {self.rate_limit_remaining} of {self.rate_limit} requests left in this minute"
        return (
            f"Connected. The account has {_count(self.subscriber_count or 0, 'subscriber')}, "
            f"{_count(len(self.groups), 'group')} and {_count(len(self.fields), 'field')}{rate}."
        )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def test_connection(client: MailerLiteClient) -> ConnectionReport:
    """Count subscribers, list groups and fields; any failure becomes the report's ``problem``."""
    report = ConnectionReport(ok=False, base_url=client.settings.base_url)
    try:
        report.subscriber_count = client.count_subscribers()
        report.groups = list(client.iter_groups())
        report.fields = list(client.iter_fields())
    except AuthError as exc:
        report.problem = (
            "MailerLite refused the API key. Check that it was copied whole from MailerLite "
            "(Integrations > API), belongs to this account and has not been revoked."
        )
        report.detail = repr(exc)
    except NetworkError as exc:
        report.problem = (
            "MailerLite could not be reached from this computer: check the internet connection and the API "
            "address (under Advanced), then press Check again."
        )
        report.detail = repr(exc)
    except RateLimited as exc:
        report.problem = (
            "The key may be fine, but the account's requests for this minute are used up; check again in a minute."
        )
        report.detail = repr(exc)
    except MailerLiteError as exc:
        report.problem = exc.plain
        report.detail = repr(exc)
    else:
        report.ok = True
    snapshot = client.rate_limit_status()
    report.rate_limit = snapshot.server_limit or snapshot.limit
    report.rate_limit_remaining = (
        snapshot.server_remaining if snapshot.server_remaining is not None else snapshot.remaining
    )
    return report


# Not a pytest test, despite the name the product uses for it.
test_connection.__test__ = False  # type: ignore[attr-defined]
