"""The sandbox's optional state file: the dashboard's sandbox survives a restart."""

from __future__ import annotations

import json

import pytest

from storage.sandbox_store import SandboxStore
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


def test_two_accounts_on_one_file_are_one_account(tmp_path):
    """Each answer is stored before it is given, and each request first reads what others stored."""
    path = tmp_path / "sandbox.db"
    first, second = SandboxAccount(state_file=path), SandboxAccount(state_file=path)
    with sandbox_client(first) as one, sandbox_client(second) as other:
        one.upsert_subscriber("a@example.com")
        group = other.create_group("Partners")
        other.upsert_subscriber("b@example.com", groups=[group.id])
        one.upsert_subscriber("a@example.com", groups=[group.id])
        assert {s.email for s in one.iter_subscribers()} == {"a@example.com", "b@example.com"}
        assert other.find_group("Partners").active_count == 2
        one.delete_group(group.id)
        assert other.get_subscriber("b@example.com").group_ids == []
    first.close()
    second.close()


def test_a_legacy_json_state_is_imported_once(tmp_path):
    legacy = tmp_path / "sandbox.json"
    old = SandboxAccount()
    with sandbox_client(old) as client:
        group = client.create_group("Partners")
        client.upsert_subscriber("a@example.com", fields={"name": "Ada"}, groups=[group.id])
    legacy.write_text(json.dumps(old.state.to_json()))
    account = SandboxAccount(state_file=tmp_path / "sandbox.db")
    with sandbox_client(account) as client:
        again = client.get_subscriber("a@example.com")
        assert again.fields["name"] == "Ada" and again.group_ids == [group.id]
        client.delete_subscriber(again.id)
    account.close()
    reopened = SandboxAccount(state_file=tmp_path / "sandbox.db")  # the JSON file is still there: not read again
    with sandbox_client(reopened) as client:
        assert client.count_subscribers() == 0
    reopened.close()


def test_reads_do_not_write(tmp_path):
    path = tmp_path / "state.db"
    account = SandboxAccount(state_file=path)
    with sandbox_client(account) as client:
        client.count_subscribers()
        client.list_groups()
    account.close()
    assert SandboxStore(path).version() == 0


def test_an_unreadable_state_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(SandboxStateError, match="move it away"):
        SandboxAccount(state_file=path)


@pytest.mark.parametrize("stored", [False, True])
def test_a_person_resubscribing_in_the_app_is_seen_by_every_process(tmp_path, stored):
    """The one way back after an unsubscribe (a form, the app), which the API itself refuses."""
    path = tmp_path / "sandbox.db"
    account = SandboxAccount(state_file=path) if stored else SandboxAccount()
    with sandbox_client(account) as client:
        client.upsert_subscriber("back@example.com", status="unsubscribed")
        assert account.resubscribe("back@example.com") and not account.resubscribe("nobody@example.com")
        back = client.get_subscriber("back@example.com")
        assert back.status == "active" and back.unsubscribed_at is None
    if stored:
        with sandbox_client(SandboxAccount(state_file=path)) as other:
            assert other.get_subscriber("back@example.com").status == "active"
