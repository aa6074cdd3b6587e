"""The sandbox's optional state file: the dashboard's sandbox survives a restart."""

from __future__ import annotations

import json

import pytest

from sync_core.sandbox import SandboxAccount, SandboxStateError, sandbox_client


def test_state_survives_a_restart(tmp_path):
    path = tmp_path / "sandbox.json"
    account = SandboxAccount(state_file=path)
    with sandbox_client(account) as client:
        group = client.create_group("Partners")
        field = client.create_field("Tier", "text")
        first = client.upsert_subscriber("a@example.com", fields={"tier": "gold"}, groups=[group.id]).subscriber
        client.upsert_subscriber("b@example.com", status="unsubscribed")
    account.close()

    reopened = SandboxAccount(state_file=path)
    with sandbox_client(reopened) as client:
        again = client.get_subscriber("a@example.com")
        assert again.id == first.id and again.fields["tier"] == "gold" and again.group_ids == [group.id]
        assert client.get_subscriber("b@example.com").status == "unsubscribed"
        assert client.find_group("Partners").active_count == 1
        assert [f.id for f in client.iter_fields()][-1] == field.id
        newer = client.upsert_subscriber("c@example.com").subscriber
        assert int(newer.id) > int(first.id)  # ids are not reused after a restart
        assert client.create_field("Level").id != field.id


def test_saves_are_spaced_out_and_flushed_on_close(tmp_path):
    path = tmp_path / "state.json"
    account = SandboxAccount(state_file=path, save_interval_seconds=60)
    with sandbox_client(account) as client:
        client.upsert_subscriber("a@example.com")  # first change: written at once
        saved = json.loads(path.read_text())
        client.upsert_subscriber("b@example.com")  # within the interval: not yet
        assert json.loads(path.read_text()) == saved
    account.close()
    assert {s["email"] for s in json.loads(path.read_text())["subscribers"]} == {"a@example.com", "b@example.com"}


def test_reads_do_not_write(tmp_path):
    path = tmp_path / "state.json"
    account = SandboxAccount(state_file=path)
    with sandbox_client(account) as client:
        client.count_subscribers()
    account.close()
    assert not path.exists()


def test_an_unreadable_state_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(SandboxStateError, match="move it away"):
        SandboxAccount(state_file=path)
