"""What leaves the studio as a file: the sync items and the audit log. Each export is allowed by the actor's
role (a viewer's has no request bodies unless they may have them) and recorded in the audit log."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from storage.monitor import EXPORT_COLUMNS, ItemFilter
from sync_core.domain.access import Permission
from sync_core.engine.workspace import Workspace

#: The columns that hold what was sent to MailerLite: the request bodies, and the values they changed.
BODY_COLUMNS = ("requests", "changes")
AUDIT_COLUMNS = ("id", "at", "actor", "role", "action", "subject", "address", "detail")


#: What each exported column is called in the file: words a spreadsheet's reader understands.
ITEM_HEADERS = {
    "id": "Item",
    "run_id": "Run",
    "created_at": "When (UTC)",
    "email": "Email",
    "outcome": "Outcome",
    "reason": "Why",
    "event_type": "Event",
    "response_code": "MailerLite answer code",
    "attempts": "Attempts",
    "dry_run": "Dry run",
    "event_ids": "Event ids",
    "requests": "Requests sent",
    "changes": "Changes",
}


def item_columns(workspace: Workspace) -> tuple[str, ...]:
    if workspace.actor.may(Permission.EXPORT_BODIES):
        return EXPORT_COLUMNS
    return tuple(column for column in EXPORT_COLUMNS if column not in BODY_COLUMNS)


def items_csv(workspace: Workspace, where: ItemFilter | None = None) -> Iterator[str]:
    """The items as CSV text, a page at a time; refused (``NotAllowed``) before anything is read."""
    workspace.require(Permission.EXPORT)
    columns = item_columns(workspace)
    workspace.audit("exported", "sync items", request_bodies=columns == EXPORT_COLUMNS)
    return workspace.monitor.export_csv(where, columns=columns, headers=[ITEM_HEADERS[c] for c in columns])


def audit_csv(workspace: Workspace) -> Iterator[str]:
    """The whole audit log as CSV, oldest first (admins)."""
    workspace.require(Permission.VIEW_AUDIT)
    workspace.audit("exported", "audit log")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_COLUMNS)
    for count, row in enumerate(workspace.audit_log.iter_all(), start=1):
        writer.writerow(
            [
                row.id,
                row.at.isoformat(),
                row.actor,
                row.role,
                row.action,
                row.subject,
                row.address,
                json.dumps(row.detail, ensure_ascii=False, default=str),
            ]
        )
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
