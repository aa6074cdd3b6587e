"""The trigger action "forget" (a Partnero customer deleted): planned through the engine like any other action,
shown as "would be forgotten" by the Preview and a dry run, and carried out by a sync against the sandbox: the
subscriber is forgotten there, the studio erases the contact and records the forget, without the email."""

from __future__ import annotations

import io
import json

from sync_core.domain.config import ACTION_LABELS, Trigger
from sync_core.domain.planning import PlanOutcome
from sync_core.domain.presets import load_preset
from sync_core.domain.preview import preview_event
from sync_core.domain.sources import normalize_input
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine
from sync_core.engine.run_changes import iter_run_changes
from tests.engine.conftest import fast_client

EMAIL = "grace@example.com"


def deleted_customer() -> bytes:
    return json.dumps(
        {
            "event": "customer.deleted",
            "created_at": "2026-01-02T10:00:00.000000Z",
            "data": {"key": "cust_grace", "email": EMAIL, "name": "Grace", "partner": {"key": "p1"}},
        },
        separators=(",", ":"),
    ).encode()


def forgetting_config():
    config = load_preset("partnero")
    config.triggers.append(
        Trigger(name="Forget deleted customers", source="partnero", event_types=["customer.deleted"], action="forget")
    )
    config.connection.sandbox = True
    return config


def status_in(account) -> int:
    return account.handle(
        "GET", f"/api/subscribers/{EMAIL}", headers={"Authorization": f"Bearer {account.default_key}"}
    ).status


def test_the_action_forget_is_labelled_for_the_field_mapping_page():
    assert ACTION_LABELS["forget"] == "Forget (GDPR)"


def test_preview_shows_the_contact_would_be_forgotten(now):
    event = normalize_input(deleted_customer(), "partnero", received_at=now)
    preview = preview_event(forgetting_config(), event, now=now)
    assert preview.evaluation.status == "sync" and preview.evaluation.action == "forget"
    for plan in (preview.new_contact, preview.existing_contact):
        assert plan is not None and plan.outcome == PlanOutcome.FORGET
        assert [(o.method, o.path) for o in plan.operations] == [
            ("GET", f"/api/subscribers/{EMAIL}"),
            ("POST", "/api/subscribers/{subscriber_id}/forget"),
        ]


def test_a_sync_forgets_the_contact_in_the_sandbox_and_in_the_studio(workspace, account):
    workspace.save_config(forgetting_config(), author="test")
    client = fast_client(account)
    rows = f"email,name,key,status\n{EMAIL},Grace,g1,active\n".encode()
    import_file(workspace.events, io.BytesIO(rows), name="partners.csv")
    assert SyncEngine(workspace, client=client).run().created == 1
    assert status_in(account) == 200

    import_file(workspace.events, io.BytesIO(deleted_customer()), name="partnero.jsonl")
    dry = SyncEngine(workspace, client=client).run(dry_run=True)
    [change] = list(iter_run_changes(workspace.runs, dry.id))
    assert change.outcome == "forgotten" and change.in_words().startswith(f"{EMAIL} would be forgotten")
    assert dry.forgotten == 1 and status_in(account) == 200  # a dry run forgets nothing

    run = SyncEngine(workspace, client=client).run()
    assert run.forgotten == 1 and run.failed == 0, run.error
    assert status_in(account) == 404
    assert workspace.events.for_email(EMAIL) == []
    assert workspace.runs.items(email=EMAIL) == []
    assert workspace.contacts.get("sandbox", EMAIL) is None
    [item] = workspace.runs.items(run_id=run.id)
    assert item.outcome == "forgotten" and EMAIL not in json.dumps(
        [item.email, item.reason, item.requests, item.changes]
    )
    [record] = workspace.forgotten.records()
    assert record.origin == "trigger" and "Forget deleted customers" in record.requested_by
    assert EMAIL not in record.result

    # The same file again: the old rows stay out.
    import_file(workspace.events, io.BytesIO(rows), name="partners.csv")
    again = SyncEngine(workspace, client=client).run()
    assert again.requests == 0 and status_in(account) == 404


def test_an_old_event_stored_without_the_tombstones_is_never_planned(workspace, account):
    """An event stored past the screen (a store opened without the tombstones, a PostgreSQL transaction that
    overlapped the forget) is caught by the run: never sent, and deleted."""
    from sync_core.engine.forget import forget_contact
    from tests.engine.conftest import import_bytes

    workspace.save_config(forgetting_config(), author="test")
    client = fast_client(account)
    rows = f"email,name,key,status,created_at\n{EMAIL},Grace,g1,active,2026-01-01\n".encode()
    import_bytes(workspace, rows)
    assert SyncEngine(workspace, client=client).run().created == 1
    forget_contact(workspace, EMAIL, requested_by="test", origin="cli", client=client)
    assert status_in(account) == 404
    import_bytes(workspace, rows)  # EventStore(database): no tombstones to screen with
    assert workspace.events.for_email(EMAIL)
    dry = SyncEngine(workspace, client=client).run(dry_run=True)
    assert dry.created == 0 and list(iter_run_changes(workspace.runs, dry.id)) == []
    run = SyncEngine(workspace, client=client).run()
    assert run.requests == 0 and run.created == 0 and status_in(account) == 404
    assert workspace.events.for_email(EMAIL) == []
