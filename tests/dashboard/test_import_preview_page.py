"""Run sync shows what a file holds before it is imported: columns and what they become, the first rows, the
email column (chosen when none is named so), the rows it would reject with their numbers, as a download."""

from __future__ import annotations

from sync_core.domain.presets import load_preset
from tests.dashboard.helpers import assert_clean, by_label, open_page, page_text

PARTNERS = "email,name,key,status\nada@example.com,Ada,a1,active\nbroken,Bob,b1,pending\ncy@example.com,Cy\n"


def _dataframes(app):
    return [frame.value for frame in app.dataframe]


def test_the_preview_shows_columns_mapping_and_rejected_rows_before_anything_is_stored(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, "pages/run_sync.py")
    app.file_uploader[0].set_value(("partners.csv", PARTNERS.encode(), "text/csv")).run()
    assert_clean(app)
    assert any("partners.csv: 3 rows read, 2 rejected" in info.value for info in app.info)
    mapping, rows, rejected = _dataframes(app)[:3]
    assert dict(zip(mapping["Column"], mapping["Sent to MailerLite as"]))["key"] == "MailerLite field partner_key"
    assert list(rows.columns) == ["email", "name", "key", "status"] and len(rows) == 3
    assert list(rejected["Row"]) == [3, 4]
    assert "not a valid email address" in rejected["Why"][0]
    assert "Rows that would be rejected (2)" in page_text(app)
    downloads = app.get("download_button")
    assert len(downloads) == 1 and "Download the rejected rows" in downloads[0].proto.label
    assert studio_workspace.events.counts() == {}  # nothing stored by the preview
    assert by_label(app.selectbox, "The column that holds the email addresses").value == "email"
    by_label(app.button, "Import the file").click().run()
    assert_clean(app)
    assert studio_workspace.events.counts() == {"staged": 2, "rejected": 1}  # the bad address waits, to be fixed


def test_a_file_without_an_email_column_asks_which_one_and_imports_with_it(app, studio_workspace):
    studio_workspace.save_config(load_preset("partnero"), author="test")
    open_page(app, "pages/run_sync.py")
    app.file_uploader[0].set_value(("people.csv", b"contact,name\nada@example.com,Ada\n", "text/csv")).run()
    assert_clean(app)
    picker = by_label(app.selectbox, "The column that holds the email addresses")
    assert picker.value == "contact"  # the column that looks like one is suggested
    picker.set_value("name").run()
    assert not any("This file cannot be imported yet" in w.value for w in app.warning)
    assert any("1 rejected" in info.value for info in app.info)  # "Ada" is not an address
    by_label(app.selectbox, "The column that holds the email addresses").set_value("contact").run()
    assert any("people.csv: 1 row read, 0 rejected" in info.value for info in app.info)
    by_label(app.button, "Import the file").click().run()
    assert_clean(app)
    assert studio_workspace.events.for_email("ada@example.com")
