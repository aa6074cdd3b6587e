"""The Compare with MailerLite page, driven as a person would: after a sync and changes made directly in the
sandbox account, the comparison (run in the background) shows what differs in marketer words, with filters and a
CSV download; the repair's preview lists the fixes and sends nothing; the repair fixes the account."""

from __future__ import annotations

from sync_core.domain.presets import load_preset
from sync_core.engine import drift
from sync_core.engine.run import SyncEngine
from sync_core.sandbox import sandbox_client
from tests.dashboard.helpers import by_label, finished, open_page, page_text, run_until
from tests.engine.conftest import import_bytes, partners_csv
from tests.engine.test_drift import change_by_hand, email, snapshot

PAGE = "pages/drift.py"


def test_compare_preview_and_repair_from_the_page(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    client = sandbox_client(studio_workspace.sandbox())
    import_bytes(studio_workspace, partners_csv(6))
    assert SyncEngine(studio_workspace, client=client).run().created == 6
    change_by_hand(client)

    open_page(app, PAGE)
    assert "No comparison yet" in page_text(app)
    by_label(app.button, "Compare with MailerLite").click().run()
    run_until(app, lambda a: any("contacts differ" in w.value for w in a.warning))
    (summary,) = [w.value for w in app.warning if "contacts differ" in w.value]
    assert summary.startswith("5 contacts differ: 1 field changed in MailerLite, 1 removed from a group by hand")
    table = app.dataframe[0].value
    assert set(table["email"]) == {email(n) for n in range(5)}
    row = table[table["email"] == email(1)].iloc[0]
    assert (row["what"], row["in the studio"], row["in MailerLite"]) == ("name", "Pat Number1", "Changed By Hand")
    assert table[table["email"] == email(2)].iloc[0]["repair"].startswith("left deleted")

    by_label(app.multiselect, "Difference").set_value(["deleted"]).run()
    assert list(app.dataframe[0].value["email"]) == [email(2)]
    download = by_label(app.get("download_button"), "Download these differences as CSV")
    assert download is not None
    by_label(app.multiselect, "Difference").set_value([]).run()

    assert by_label(app.button, "Repair").disabled  # a preview first
    before = snapshot(client)
    by_label(app.button, "Preview the repair").click().run()
    run_until(app, finished("finished: 3 updated, 1 suppressed, 1 skipped"))
    assert snapshot(client) == before  # nothing sent
    assert "Dry run" in page_text(app) and "What would change" in page_text(app)

    by_label(app.button, "Repair").click().run()
    run_until(app, lambda a: any(s.value.startswith("Run ") and "3 updated" in s.value for s in a.success))
    after = snapshot(client)
    assert after[email(1)][1]["name"] == "Pat Number1" and "Active Partners" in after[email(3)][2]
    assert after[email(4)] == before[email(4)] and email(2) not in after
    assert drift.latest(studio_workspace).repair_run_id is not None
    assert "compare again to confirm" in page_text(app)

    open_page(app, "pages/monitor.py")  # the repair is a run of its own there
    assert studio_workspace.runs.recent(limit=1)[0].trigger == "repair"
    assert "repair" in page_text(app) or any("repair" in str(frame.value.to_dict()) for frame in app.dataframe)


def test_the_daily_comparison_can_be_switched_off_on_the_page(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, PAGE)
    toggle = [t for t in app.toggle if t.label.startswith("Compare every day")][0]
    assert toggle.value is True
    toggle.set_value(False).run()
    assert studio_workspace.config().drift.daily_check is False
    assert "The daily comparison is off." in page_text(app)
