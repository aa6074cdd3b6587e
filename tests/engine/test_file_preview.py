"""``preview_file``: what importing a file would do, read without storing anything."""

from __future__ import annotations

import io

from storage.events import EventStore
from sync_core.domain.presets import load_preset
from sync_core.engine.file_import import import_file, preview_file

PARTNERS = (
    "email,name,key,status,total_sales\n"
    "ada@example.com,Ada,a1,active,3\n"
    "broken,Bob,b1,pending,1\n"
    "cy@example.com,Cy\n"
    "dee@example.com,Dee,d1,active,lots\n"
)


def preview(text: str, name: str = "partners.csv", **options):
    return preview_file(io.BytesIO(text.encode()), name=name, config=load_preset("partnero"), **options)


def test_the_rejected_rows_have_their_row_numbers_and_reasons_in_words():
    result = preview(PARTNERS)
    assert (result.read, result.rejected_count) == (4, 3)
    assert result.describe().splitlines()[0] == "partners.csv: 4 rows read, 3 rejected"
    rows = {row.row: row.reason for row in result.rejected}
    assert sorted(rows) == [3, 4, 5]  # the header is row 1, as a spreadsheet counts
    assert "'broken' is not a valid email address" in rows[3] and rows[3].endswith("(column email)")
    assert rows[4].startswith("too few values: the row has 2")
    assert "'lots' does not fit a number field" in rows[5]
    assert "data." not in " ".join(rows.values())
    csv_text = result.rejected_csv().splitlines()
    assert csv_text[0] == "row,reason,content" and csv_text[1].startswith("3,")


def test_columns_rows_email_and_mapping():
    result = preview(PARTNERS)
    assert result.columns == ["email", "name", "key", "status", "total_sales"]
    assert result.rows[0] == {
        "email": "ada@example.com",
        "name": "Ada",
        "key": "a1",
        "status": "active",
        "total_sales": "3",
    }
    assert result.email_column == "email" and result.kind == "partner"
    uses = {use.column: use.sent_as for use in result.mapping}
    assert uses["email"] == ["the subscriber's email address"]
    assert uses["key"] == ["MailerLite field partner_key"]
    assert uses["status"] == ["MailerLite field status", "decides the group Active Partners"]
    assert uses["total_sales"] == ["MailerLite field total_sales"]


def test_every_row_is_counted_once():
    result = preview("email,name\nada@example.com,Ada\nnope,Bob\n")
    assert result.describe().splitlines()[0] == "partners.csv: 2 rows read, 1 rejected"


def test_a_file_without_an_email_column_says_to_choose_one():
    text = "contact,name\nada@example.com,Ada\nbob@example.com,Bob\n"
    result = preview(text)
    assert result.problem == "no column holds email addresses; choose which one does"
    assert result.email_column is None and result.email_candidates == ["contact"]
    assert (result.read, result.rejected_count) == (0, 0) and len(result.rows) == 2
    assert result.describe() == (
        "partners.csv: no column holds email addresses; choose which one does (contact looks like one)."
    )
    chosen = preview(text, email_column="contact")
    assert (chosen.problem, chosen.email_column, chosen.read, chosen.rejected_count) == (None, "contact", 2, 0)
    assert {use.column: use.sent_as for use in chosen.mapping}["contact"] == ["the subscriber's email address"]


def test_the_chosen_email_column_is_what_the_import_uses(workspace):
    events = EventStore(workspace.database)
    text = b"contact,name\nada@example.com,Ada\n"
    summary = import_file(events, io.BytesIO(text), name="people.csv", email_column="contact")
    assert summary.stored == 1 and events.for_email("ada@example.com")


def test_a_preview_stores_nothing(workspace):
    events = EventStore(workspace.database)
    preview(PARTNERS)
    assert events.counts() == {}


def test_a_large_file_is_counted_whole_but_only_a_few_rows_are_kept():
    text = "email,name\n" + "".join(f"p{n}@example.com,P{n}\n" for n in range(5000)) + "bad,Row\n"
    result = preview(text)
    assert (result.read, result.rejected_count, len(result.rows)) == (5001, 1, 5)
    assert result.rejected[0].row == 5002


def test_json_lines_records_are_previewed_by_line():
    text = '{"email": "ada@example.com", "name": "Ada"}\n{"email": "nope"}\nnot json\n'
    result = preview(text, name="partners.jsonl")
    assert result.read == 3 and [row.row for row in result.rejected] == [2, 3]
    assert result.rejected[1].where == "line 3" and "email" in result.columns
