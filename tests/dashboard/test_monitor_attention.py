"""Monitor counts contacts, not items, and lists the rows that cannot be synced under *Needs attention*, with
where each one is in its file and how to fix it."""

from __future__ import annotations

import io

from storage.events import EventStore
from sync_core.domain.presets import load_preset
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine
from tests.dashboard.helpers import assert_clean, by_label, open_page, page_text

HEADER = "email,name,key,status,total_sales\n"
PARTNERS = "".join(f"p{n}@example.com,Pat {n},k{n},active,{n}\n" for n in range(5))
UPDATED = "".join(f"p{n}@example.com,Pat {n},k{n},pending,{n + 10}\n" for n in range(5))
BAD = "not-an-email,Bad,b1,active,1\nbob@,Bob,b2,active,1\ncarl@example.com,Carl,c1,active,lots\n@example.com,Dee,d1,active,2\n"


def _import(workspace, text: str, name: str):
    return import_file(
        EventStore(workspace.database),
        io.BytesIO(text.encode()),
        name=name,
        config=workspace.active_config().config,
    )


def test_contacts_are_counted_once_and_invalid_rows_need_attention(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    summary = _import(studio_workspace, HEADER + PARTNERS + BAD, "partners.csv")
    assert (summary.rejected, summary.invalid) == (0, 4)
    engine = SyncEngine(studio_workspace)
    engine.run()
    _import(studio_workspace, HEADER + UPDATED, "partners-2.csv")
    engine.run()  # the same 5 partners again: 10 items, 5 contacts

    open_page(app, "pages/monitor.py")
    assert [m.value for m in app.metric if m.label == "Contacts synced"] == ["5"]
    assert [m.value for m in app.metric if m.label == "Created"] == ["5"]
    assert [m.value for m in app.metric if m.label == "Updated"] == ["5"]
    text = page_text(app)
    assert "Nothing failed." not in text and "Nothing needs attention." not in text
    rows = next(frame.value for frame in app.dataframe if "Where" in frame.value.columns)
    by_where = dict(zip(rows["Where"], rows["Problem"]))
    assert set(by_where) == {f"file partners.csv row {n}" for n in (7, 8, 9, 10)}
    assert "'not-an-email' is not a valid email address" in by_where["file partners.csv row 7"]
    assert "'lots' does not fit a number field" in by_where["file partners.csv row 9"]
    fixes = dict(zip(rows["Where"], rows["How to fix it"]))
    assert "email address" in fixes["file partners.csv row 7"] and "import" in fixes["file partners.csv row 7"]
    assert "Field mapping" in fixes["file partners.csv row 9"]

    by_label(app.button, "Check the invalid rows again").click().run()
    assert_clean(app)
    assert any("4 row(s) are back in the queue" in s.value for s in app.success)
    assert EventStore(studio_workspace.database).counts().get("pending") == 4


def test_nothing_needs_attention_after_a_clean_sync(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    _import(studio_workspace, HEADER + PARTNERS, "partners.csv")
    SyncEngine(studio_workspace).run()
    open_page(app, "pages/monitor.py")
    assert_clean(app)
    assert "Nothing needs attention." in page_text(app)
    assert [m.value for m in app.metric if m.label == "Contacts synced"] == ["5"]


def test_the_run_sync_page_reports_the_rows_it_cannot_sync_when_importing(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, "pages/run_sync.py")
    app.file_uploader[0].set_value(("partners.csv", (HEADER + PARTNERS + BAD).encode(), "text/csv"))
    app.run()
    by_label(app.button, "Import the file").click().run()
    assert_clean(app)
    (warning,) = [w.value for w in app.warning if "partners.csv" in w.value]
    assert "9 read, 9 new, 0 already known, 4 invalid" in warning and "0 rejected" not in warning
    for row in ("row 7", "row 8", "row 10"):
        assert f"partners.csv {row}: " in warning
    assert "partners.csv row 9: total_sales: 'lots' does not fit a number field" in warning


UPDATED_AGAIN = "".join(f"p{n}@example.com,Pat {n},k{n},active,{n + 20}\n" for n in range(5))


def test_contacts_updated_in_several_runs_are_counted_once(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    _import(studio_workspace, HEADER + PARTNERS, "partners.csv")
    engine = SyncEngine(studio_workspace)
    engine.run()
    for number, text in enumerate((UPDATED, UPDATED_AGAIN), start=2):
        _import(studio_workspace, HEADER + text, f"partners-{number}.csv")
        engine.run()  # the same 5 partners updated twice: 10 "updated" items, 5 contacts

    open_page(app, "pages/monitor.py")
    assert [m.value for m in app.metric if m.label == "Created"] == ["5"]
    assert [m.value for m in app.metric if m.label == "Updated"] == ["5"]


def test_contacts_failing_in_several_runs_are_counted_once(app, studio_workspace):
    from tests.engine.conftest import failing_batches_client

    studio_workspace.save_config(load_preset("partnero"), author="test")
    _import(studio_workspace, HEADER + PARTNERS, "partners.csv")
    client, _ = failing_batches_client(studio_workspace.sandbox())
    engine = SyncEngine(studio_workspace, client=client)
    engine.run()
    engine.retry()  # fails again: 10 failed items for 5 contacts

    open_page(app, "pages/monitor.py")
    assert [m.value for m in app.metric if m.label == "Contacts failing"] == ["5"]
