"""Group rules named from the event, through the engine against the built-in sandbox: a partner syncs into
"Tier Gold"; when Partnero says their tier is Silver, the dry run shows the move and the sync makes it."""

from __future__ import annotations

import json

from storage.events import EventStore
from storage.runs import RunStore
from sync_core.cli.main import main
from sync_core.domain.presets import load_preset
from sync_core.engine.file_import import import_file
from sync_core.engine.run_changes import iter_run_changes
from sync_core.engine.workspace import Workspace
from tests.engine.conftest import events_file, fast_client
from tests.reference import partnero_fixture


def partner_webhook(tier: str, at: str) -> dict:
    body = partnero_fixture("partner-updated-with-tier.json")
    body["created_at"] = at
    body["data"]["updated_at"] = at
    body["data"]["custom_fields"] = [{"key": "tier", "value": tier}]
    return body


def groups_of(account, email: str) -> set[str]:
    return {group.name for group in fast_client(account).get_subscriber(email).groups}


def test_a_tier_change_moves_the_partner_between_tier_groups(engine, partnero_workspace, account):
    store = EventStore(partnero_workspace.database)
    import_file(store, events_file(partner_webhook("Gold", "2025-06-12T08:15:00Z")), name="gold.jsonl")
    first = engine.run()
    assert first.status == "finished" and first.created == 1, first.error
    assert "Tier Gold" in first.notes  # created in MailerLite when first needed, like the other rule groups
    assert groups_of(account, "john.doe@example.com") == {"Partners", "Active Partners", "Tier Gold"}
    assert fast_client(account).get_subscriber("john.doe@example.com").fields["tier"] == "Gold"

    import_file(store, events_file(partner_webhook("Silver", "2025-07-01T09:00:00Z")), name="silver.jsonl")
    dry = engine.run(dry_run=True)
    (change,) = list(iter_run_changes(RunStore(partnero_workspace.database), dry.id))
    assert (change.groups_added, change.groups_removed) == (["Tier Silver"], ["Tier Gold"])
    assert [(f.name, f.before, f.after) for f in change.fields] == [("tier", "Gold", "Silver")]
    assert "+ Tier Silver" in change.in_words() and "− Tier Gold" in change.in_words()
    assert "Tier Silver" not in {group.name for group in fast_client(account).iter_groups()}  # a dry run creates none

    second = engine.run()
    assert second.status == "finished" and second.updated == 1, second.error
    assert groups_of(account, "john.doe@example.com") == {"Partners", "Active Partners", "Tier Silver"}
    groups = {group.name: group for group in fast_client(account).iter_groups()}
    assert groups["Tier Gold"].active_count == 0 and groups["Tier Silver"].active_count == 1

    again = engine.run()
    assert again.requests == 0  # nothing new: nothing sent


def test_a_partner_whose_tier_group_was_deleted_by_hand_still_moves(engine, partnero_workspace, account):
    store = EventStore(partnero_workspace.database)
    import_file(store, events_file(partner_webhook("Gold", "2025-06-12T08:15:00Z")), name="gold.jsonl")
    assert engine.run().created == 1
    client = fast_client(account)
    gold = client.find_group("Tier Gold")
    assert gold is not None
    client.delete_group(gold.id)
    import_file(store, events_file(partner_webhook("Silver", "2025-07-01T09:00:00Z")), name="silver.jsonl")
    run = engine.run()
    assert run.status == "finished" and run.failed == 0 and run.updated == 1, run.error
    assert groups_of(account, "john.doe@example.com") == {"Partners", "Active Partners", "Tier Silver"}


def test_the_webhook_file_stays_readable_json():
    assert json.loads(json.dumps(partner_webhook("Gold", "2025-06-12T08:15:00Z")))["data"]["custom_fields"]


def test_the_cli_dry_run_shows_the_move_in_words(tmp_path, monkeypatch, capsys):
    for variable in ("DATABASE_URL", "MAILERLITE_API_KEY", "MAILERLITE_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("SYNC_STUDIO_DATA_DIR", str(tmp_path / "data"))
    Workspace().save_config(load_preset("partnero"))
    gold, silver = tmp_path / "gold.jsonl", tmp_path / "silver.jsonl"
    gold.write_text(json.dumps(partner_webhook("Gold", "2025-06-12T08:15:00Z")) + "\n")
    silver.write_text(json.dumps(partner_webhook("Silver", "2025-07-01T09:00:00Z")) + "\n")
    assert main(["import", str(gold)]) == 0 and main(["sync"]) == 0
    assert main(["import", str(silver)]) == 0
    capsys.readouterr()
    assert main(["sync", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert 'john.doe@example.com would be updated: tier "Gold" → "Silver"; + Tier Silver; − Tier Gold' in out, out
