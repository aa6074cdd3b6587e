"""Run sync: a finished dry run shows what would change, contact by contact (fields before and after, groups
added and removed, why a contact is skipped), with filters and a CSV download."""

from __future__ import annotations

import csv
import io

import pytest
import streamlit as st

from storage.events import EventStore
from sync_core.domain.presets import load_preset
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine
from tests.dashboard.helpers import assert_clean, by_label, finished, open_page, run_until

FIRST = b"email,name,key,status,total_sales\nada@example.com,Ada,a1,active,10\n"
SECOND = (
    b"email,name,key,status,total_sales\n"
    b"ada@example.com,Ada L.,a1,pending,12\n"
    b"bob@example.com,Bob,b1,active,3\n"
    b"broken,Row,c1,active,1\n"
)


@pytest.fixture
def downloads(monkeypatch):
    """What each download button of a run would give (AppTest keeps no file to read back)."""
    given: dict[str, object] = {}
    original = st.download_button

    def capture(label, data, *args, **kwargs):  # noqa: ANN001, ANN202
        given[label] = data
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", capture)
    return given


def test_a_dry_run_shows_each_contacts_changes_with_filters_and_a_csv(app, studio_workspace, downloads):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    events = EventStore(studio_workspace.database)
    import_file(events, io.BytesIO(FIRST), name="first.csv")
    SyncEngine(studio_workspace).run()  # Ada is in MailerLite with name "Ada", in Active Partners
    import_file(events, io.BytesIO(SECOND), name="partners.csv")

    open_page(app, "pages/run_sync.py")
    by_label(app.button, "Start the dry run").click().run()
    assert_clean(app)
    run_until(app, finished("Dry run 2 finished"))
    assert any(s.value == "What would change" for s in app.subheader)
    table = app.dataframe[0].value
    ada = table[table["email"] == "ada@example.com"].set_index("field")
    assert ada.loc["name", "before"] == "Ada" and ada.loc["name", "after"] == "Ada L."
    assert ada.loc["status", "before"] == "active" and ada.loc["status", "after"] == "pending"
    assert set(ada["outcome"]) == {"would be updated"} and set(ada["groups removed"]) == {"Active Partners"}
    bob = table[table["email"] == "bob@example.com"].set_index("field")
    assert bob.loc["name", "before"] == "" and bob.loc["name", "after"] == "Bob"
    assert set(bob["outcome"]) == {"would be created"}
    assert set(bob["groups added"]) == {"Partners, Active Partners"}
    (invalid,) = table[table["outcome"] == "skipped: invalid"].to_dict("records")
    assert "not a valid email address" in invalid["why"] and "partners.csv row 4" in invalid["why"]

    by_label(app.multiselect, "What would happen").set_value(["created"]).run()
    assert_clean(app)
    assert set(app.dataframe[0].value["email"]) == {"bob@example.com"}
    rows = list(csv.DictReader(io.StringIO(downloads["Download these changes as CSV"])))
    assert {row["email"] for row in rows} == {"bob@example.com"}
    assert {(row["field"], row["before"], row["after"]) for row in rows} >= {("name", "", "Bob")}

    by_label(app.multiselect, "What would happen").set_value([]).run()
    by_label(app.text_input, "Email contains").set_value("ADA@").run()
    assert_clean(app)
    assert set(app.dataframe[0].value["email"]) == {"ada@example.com"}
    rows = list(csv.DictReader(io.StringIO(downloads["Download these changes as CSV"])))
    assert ("name", "Ada", "Ada L.") in {(row["field"], row["before"], row["after"]) for row in rows}
    assert list(rows[0]) == ["email", "outcome", "field", "before", "after", "groups added", "groups removed", "why"]

    by_label(app.text_input, "Email contains").set_value("nobody").run()
    assert any("No contact matches these filters." in i.value for i in app.info)


def test_a_real_run_shows_no_dry_run_table(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    import_file(EventStore(studio_workspace.database), io.BytesIO(FIRST), name="first.csv")
    open_page(app, "pages/run_sync.py")
    by_label(app.toggle, "Dry run: record what would be sent, send nothing").set_value(False).run()
    by_label(app.button, "Start the sync").click().run()
    assert_clean(app)
    run_until(app, finished("Run 1 finished"))
    assert not any(s.value == "What would change" for s in app.subheader)


def test_the_monitor_shows_a_dry_runs_changes_in_its_run_view(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    import_file(EventStore(studio_workspace.database), io.BytesIO(SECOND), name="partners.csv")
    SyncEngine(studio_workspace).run(dry_run=True)
    open_page(app, "pages/monitor.py")
    assert any(s.value == "What would change" for s in app.subheader)
    table = next(frame.value for frame in app.dataframe if "before" in frame.value.columns)
    assert set(table["email"]) >= {"ada@example.com", "bob@example.com"}
    assert ("name", "", "Ada L.") in set(zip(table["field"], table["before"], table["after"]))
