"""The first-run guide's facts, read from the installation: a saved configuration, a preview, a dry run, a sync that
sent someone, an event by webhook or a signing secret; and its six steps, a pure function of them."""

from __future__ import annotations

import io
from dataclasses import replace

from storage.events import NewEvent
from sync_core.domain.presets import load_preset
from sync_core.engine import first_run
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine
from tests.engine.conftest import fast_client
from tests.webhooks.helpers import dodo_body

NOTHING = first_run.Facts(
    connected=False,
    sandbox=True,
    config_saved=False,
    previewed=False,
    dry_run_done=False,
    synced=False,
    webhooks=False,
)
PARTNERS = b"email,name,key,status,total_sales\na@example.com,Ann,k1,active,3\nb@example.com,Bo,k2,active,4\n"


def test_the_six_steps_in_order_each_done_by_its_own_fact():
    steps = first_run.steps(NOTHING)
    assert [step.key for step in steps] == ["connect", "preset", "preview", "dry_run", "sync", "webhooks"]
    assert first_run.done_count(steps) == 0
    assert all(step.title and step.why for step in steps)
    for field, key in [
        ("connected", "connect"),
        ("config_saved", "preset"),
        ("previewed", "preview"),
        ("dry_run_done", "dry_run"),
        ("synced", "sync"),
        ("webhooks", "webhooks"),
    ]:
        steps = first_run.steps(replace(NOTHING, **{field: True}))
        assert [step.key for step in steps if step.done] == [key]
    assert "sandbox" in first_run.steps(NOTHING)[0].why
    assert "sandbox" not in first_run.steps(replace(NOTHING, sandbox=False))[0].why


def test_the_facts_follow_what_the_installation_holds(workspace, account):
    assert first_run.facts(workspace, connected=True) == replace(NOTHING, connected=True)

    workspace.save_config(load_preset("partnero"), author="test")
    import_file(workspace.events, io.BytesIO(PARTNERS), name="partners.csv")  # a file is not a webhook
    facts = first_run.facts(workspace, connected=True)
    assert facts.config_saved and not facts.webhooks

    first_run.note_preview(workspace)
    first_run.note_preview(workspace)
    assert first_run.facts(workspace, connected=True).previewed
    assert len(workspace.audit_log.recent(action=first_run.PREVIEW_USED)) == 1  # recorded once

    engine = SyncEngine(workspace, client=fast_client(account))
    engine.run(dry_run=True)
    facts = first_run.facts(workspace, connected=True)
    assert facts.dry_run_done and not facts.synced  # a dry run sends nothing
    engine.run()
    assert first_run.facts(workspace, connected=True).synced
    engine.run()  # nothing changed: a run that sent nobody, the step stays done
    assert first_run.facts(workspace, connected=True).synced

    body = dodo_body(1, email="dana@example.com")
    workspace.events.add_many([NewEvent("dodo_payments", "msg_first_run_1", body, "payment.succeeded")])
    assert first_run.facts(workspace, connected=True).webhooks


def test_a_signing_secret_alone_counts_as_webhooks_set_up(workspace):
    workspace.set_webhook_secret("partnero", "a-partnero-signing-secret-of-the-test")
    assert first_run.facts(workspace, connected=True).webhooks


def test_a_sync_that_sent_nobody_is_not_a_first_sync(workspace, account):
    workspace.save_config(load_preset("partnero"), author="test")
    SyncEngine(workspace, client=fast_client(account)).run()  # nothing to send
    assert workspace.runs.finished_exists(dry_run=False)
    assert not workspace.runs.finished_exists(dry_run=False, sent=True)
    assert not first_run.facts(workspace, connected=True).synced
