"""The contact memory belongs to one MailerLite account: a sync to another account starts from what it holds.

The README's own path: try the sandbox, then switch it off and sync to your real account (here a second sandbox
account served over HTTP, reached with MAILERLITE_API_KEY and MAILERLITE_BASE_URL, as a real one would be).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa

from storage import Database
from storage.db import driver_url
from storage.migrate import upgrade
from sync_core.domain.presets import load_preset
from sync_core.engine.run import SyncEngine
from sync_core.mailerlite import MailerLiteClient, MailerLiteSettings
from sync_core.sandbox import SandboxAccount, serve_sandbox
from tests.engine.conftest import import_bytes, partners_csv
from tests.reference import REPO

REAL_KEY = "real-account-key-0001"


def _sandbox_config(default_group: str = "Newsletter"):
    config = load_preset("partnero")
    config.connection.default_group = default_group
    return config


@pytest.fixture
def real_account(monkeypatch):
    """Another account, over HTTP, that the workspace reaches through the environment like a real one."""
    account = SandboxAccount(keys=[REAL_KEY], limit=10_000, window_seconds=1, import_limit=1000, seed=11)
    with serve_sandbox(account) as server:
        monkeypatch.setenv("MAILERLITE_API_KEY", REAL_KEY)
        monkeypatch.setenv("MAILERLITE_BASE_URL", server.base_url)
        yield account, MailerLiteClient(MailerLiteSettings(api_key=REAL_KEY, base_url=server.base_url))


def _switch_to_real(workspace) -> None:
    config = workspace.config()
    config.connection.sandbox = False
    workspace.save_config(config, author="test", comment="sandbox off")


def test_a_sync_to_another_account_sends_whole_contacts_not_only_what_changed(workspace, real_account):
    account, real = real_account
    workspace.save_config(_sandbox_config(), author="test")
    import_bytes(workspace, partners_csv(6))
    first = SyncEngine(workspace).run()
    assert first.created == 6 and first.account == "sandbox" and first.account_label == "Sandbox"
    assert len(workspace.sandbox().state.subscribers) == 6

    _switch_to_real(workspace)
    changed = partners_csv(6, sales=lambda n: n + 100)  # every row changed: total_sales only
    import_bytes(workspace, changed, name="day2.csv")
    second = SyncEngine(workspace).run()
    assert second.status == "finished", second.error
    assert second.created == 6 and second.updated == 0  # new to this account: created, with everything
    assert second.account.startswith("mailerlite:") and REAL_KEY not in second.account
    assert second.account_label.startswith("MailerLite account, key from MAILERLITE_API_KEY at 127.0.0.1:")
    assert real.count_subscribers() == 6
    pat = real.get_subscriber("partner3@example.com")
    assert pat.fields["name"] == "Pat Number3" and pat.fields["partner_key"] == "key3"
    assert pat.fields["total_sales"] == 103
    assert sorted(group.name for group in pat.groups) == ["Active Partners", "Newsletter", "Partners"]
    # the sandbox's memory is its own: nothing it remembers was changed by the other account's run
    sandbox_state = workspace.contacts.get("sandbox", "partner3@example.com").state
    assert str(sandbox_state["fields"]["total_sales"][0]) == "3"
    # and the next run to the real account sends nothing more
    third = SyncEngine(workspace).run()
    assert third.requests == 0


def test_the_same_file_imported_again_after_the_switch_goes_whole_to_the_new_account(workspace, real_account):
    """Rows already synced to the sandbox wait again when the file comes in once more for another account."""
    _, real = real_account
    workspace.save_config(_sandbox_config(), author="test")
    assert import_bytes(workspace, partners_csv(4)).stored == 4
    SyncEngine(workspace).run()
    _switch_to_real(workspace)
    again = import_bytes(workspace, partners_csv(4), account=_real_key(workspace))
    assert (again.stored, again.duplicates, again.requeued) == (0, 4, 4)
    assert "4 synced to another account wait again for this one" in again.describe()
    run = SyncEngine(workspace).run()
    assert run.created == 4, run.error
    pat = real.get_subscriber("partner1@example.com")
    assert (pat.fields["name"], pat.fields["partner_key"]) == ("Pat Number1", "key1")
    assert sorted(group.name for group in pat.groups) == ["Active Partners", "Newsletter", "Partners"]
    # once they are in this account, the same file again is only known rows, as before
    third = import_bytes(workspace, partners_csv(4), account=_real_key(workspace))
    assert (third.stored, third.duplicates, third.requeued) == (0, 4, 0)


def _real_key(workspace) -> str:
    from sync_core.engine.accounts import account_identity

    return account_identity(workspace, workspace.config()).key


def test_switching_back_finds_the_sandbox_memory_again(workspace, real_account):
    _, real = real_account
    workspace.save_config(_sandbox_config(), author="test")
    import_bytes(workspace, partners_csv(3))
    SyncEngine(workspace).run()
    _switch_to_real(workspace)
    import_bytes(workspace, partners_csv(3, sales=lambda n: n + 100), name="day2.csv")
    SyncEngine(workspace).run()
    config = workspace.config()
    config.connection.sandbox = True
    workspace.save_config(config, author="test", comment="sandbox on again")
    import_bytes(workspace, partners_csv(3, sales=lambda n: n + 200), name="day3.csv")
    back = SyncEngine(workspace).run()
    assert (back.created, back.updated) == (0, 3)  # the sandbox knows them: only the change is sent
    item = workspace.runs.items(run_id=back.id, limit=1)[0]
    assert item.requests[0]["body"]["fields"] == {"total_sales": item.changes["total_sales"][1]}


def test_each_run_records_the_account_it_went_to(workspace, real_account):
    workspace.save_config(_sandbox_config(), author="test")
    import_bytes(workspace, partners_csv(2))
    SyncEngine(workspace).run()
    _switch_to_real(workspace)
    import_bytes(workspace, partners_csv(2, sales=lambda n: n + 100), name="day2.csv")
    SyncEngine(workspace).run()
    runs = workspace.runs.recent()
    assert [run.account_label.split(" at ")[0] for run in runs] == [
        "MailerLite account, key from MAILERLITE_API_KEY",
        "Sandbox",
    ]


# --- an old database --------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """The URL of an empty database of each kind, not migrated yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    import uuid

    from tests.conftest import POSTGRES_ADMIN_URL

    request.getfixturevalue("postgres_url")  # fails in CI, skips elsewhere, when no server runs
    name = f"sync_studio_old_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(driver_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _old_database(url: str, *, sandbox: bool) -> Database:
    """A database at revision 0002 (before contacts had an account) with a synced contact and its run."""
    engine = sa.create_engine(driver_url(url))
    upgrade(engine, "0002")
    config = _sandbox_config()
    config.connection.sandbox = sandbox
    state = {
        "email": "ada@example.com",
        "subscriber_id": "170000000000000001",
        "status": "active",
        "fields": {"name": ["Ada", "2026-01-01T12:00:00+00:00"], "total_sales": ["5", "2026-01-01T12:00:00+00:00"]},
        "groups": {"Partners": [True, "2026-01-01T12:00:00+00:00"], "Newsletter": [True, "2026-01-01T12:00:00+00:00"]},
    }
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO config_version (created_at, author, comment, document) "
                "VALUES ('2026-01-01 12:00:00', 'test', '', :document)"
            ).bindparams(sa.bindparam("document", type_=sa.JSON)),
            {"document": config.model_dump(mode="json")},
        )
        connection.execute(
            sa.text(
                'INSERT INTO sync_run (started_at, finished_at, "trigger", dry_run, status, error, notes, '
                "config_version_id, holder, created, updated, unchanged, suppressed, skipped, invalid, failed, "
                "dead, ignored, rejected, requests, duration_seconds) VALUES ('2026-01-01 12:00:00', "
                "'2026-01-01 12:00:01', 'manual', false, 'finished', '', '', 1, 'h:1:x', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
                "1, 0.5)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO contact (email, subscriber_id, status, state, updated_at) "
                "VALUES ('ada@example.com', '170000000000000001', 'active', :state, '2026-01-01 12:00:01')"
            ).bindparams(sa.bindparam("state", type_=sa.JSON)),
            {"state": state},
        )
    engine.dispose()
    return Database(url)  # opening it migrates it to the newest revision


def test_an_old_database_that_synced_to_the_sandbox_keeps_its_memory_for_the_sandbox_only(empty_database_url):
    database = _old_database(empty_database_url, sandbox=True)
    from storage.contacts import ContactStore
    from storage.runs import RunStore

    contacts = ContactStore(database)
    ada = contacts.get("sandbox", "ada@example.com")
    assert ada is not None and ada.state["fields"]["name"][0] == "Ada"
    assert contacts.get("mailerlite:0123456789abcdef", "ada@example.com") is None
    run = RunStore(database).get(1)
    assert (run.account, run.account_label) == ("sandbox", "Sandbox")
    database.dispose()


def test_an_old_database_whose_account_is_unknown_gives_its_memory_to_the_next_account_synced(
    empty_database_url, tmp_path, real_account
):
    _, real = real_account
    database = _old_database(empty_database_url, sandbox=False)  # a real account, which one the old rows do not say
    from storage.contacts import ContactStore
    from sync_core.engine.workspace import Workspace

    assert ContactStore(database).states("sandbox", ["ada@example.com"]) == {}
    old = Workspace(database, directory=tmp_path / "data")
    real.upsert_subscriber("ada@example.com", fields={"name": "Ada"})  # what the account already holds
    import_bytes(old, b"email,name,surname,key,status,total_sales\nada@example.com,Ada,,k1,active,5\n")
    run = SyncEngine(old).run()
    assert run.status == "finished", run.error
    assert run.created == 0 and run.updated == 1  # it remembered Ada, for this account: only changes are sent
    item = old.runs.items(run_id=run.id, limit=1)[0]
    assert "total_sales" not in item.requests[0]["body"].get("fields", {})  # 5 then, 5 now
    assert ContactStore(database).get(run.account, "ada@example.com") is not None
    database.dispose()


@pytest.mark.processes
def test_the_command_line_sends_the_same_file_whole_to_the_new_account_and_lists_accounts(
    workspace, real_account, tmp_path, monkeypatch
):
    _, real = real_account
    monkeypatch.setenv("DATABASE_URL", workspace.database.url)
    workspace.save_config(_sandbox_config(), author="test")
    partners = tmp_path / "partners.csv"
    partners.write_bytes(partners_csv(3))

    def cli(*args: str) -> str:
        answer = subprocess.run(
            [sys.executable, "-m", "sync_core", *args], cwd=REPO, capture_output=True, text=True, timeout=120
        )
        assert answer.returncode == 0, answer.stderr
        return answer.stdout

    monkeypatch.delenv("MAILERLITE_API_KEY")  # no key yet: the sandbox
    cli("import", str(partners))
    cli("sync")
    monkeypatch.setenv("MAILERLITE_API_KEY", REAL_KEY)
    _switch_to_real(workspace)
    assert "3 synced to another account wait again for this one" in cli("import", str(partners))
    cli("sync")
    assert real.count_subscribers() == 3
    assert real.get_subscriber("partner2@example.com").fields["partner_key"] == "key2"
    runs = json.loads(cli("runs", "--json"))
    assert [run["account_label"].split(" at ")[0] for run in runs] == [
        "MailerLite account, key from MAILERLITE_API_KEY",
        "Sandbox",
    ]
