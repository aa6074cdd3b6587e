"""A contact's changes in words, as JSON and as table rows, from a plan and from what a run recorded; the fix
for a row that cannot be synced. Plain values only."""

from __future__ import annotations

import csv
import io

from sync_core.domain.changes import changes_csv, from_plan, from_record, matches
from sync_core.domain.fixes import how_to_fix, where_from
from sync_core.domain.planning import Planner
from sync_core.domain.presets import load_preset
from tests.core.builders import partner


def test_a_plan_and_its_record_read_the_same():
    planner = Planner(load_preset("partnero"))
    first = planner.plan([partner("active")]).contacts[0]
    later = planner.plan(
        [partner("inactive", at="2025-06-01T10:00:00.000000Z", event="partner.updated", name="Johnny")],
        {first.email: first.new_state},
    ).contacts[0]
    change = from_plan(later)
    assert change.outcome == "updated"
    fields = {f.name: (f.before, f.after) for f in change.fields}
    assert fields["name"] == ("John Doe", "Johnny Doe") and fields["status"] == ("active", "inactive")
    assert change.groups_removed == ["Active Partners"] and change.groups_added == []
    recorded = from_record(
        later.email,
        "updated",
        {name: [before, after] for name, (before, after) in later.changes.items()},
        [(g, "removed") for g in later.groups_removed],
        later.reason,
    )
    assert recorded == change
    assert change.in_words().startswith('john.doe@partnero.com would be updated: name "John Doe" → "Johnny Doe"')
    assert "− Active Partners" in change.in_words()


def test_rows_csv_and_filters():
    new = from_record("Ada@Example.com", "created", {"total_sales": [None, 12]}, [("Partners", "added")])
    left_out = from_record("(no valid email)", "invalid", {}, [], "'x' is not a valid email address (row 3)")
    rows = list(csv.DictReader(io.StringIO(changes_csv([new, left_out]))))
    assert rows[0] | {} == {
        "email": "Ada@Example.com",
        "outcome": "would be created",
        "field": "total_sales",
        "before": "",
        "after": "12",
        "groups added": "Partners",
        "groups removed": "",
        "why": "",
    }
    assert rows[1]["outcome"] == "skipped: invalid" and "row 3" in rows[1]["why"] and rows[1]["field"] == ""
    assert matches(new, ["created"], "ada@") and not matches(new, ["invalid"]) and not matches(new, None, "bob")
    assert new.to_json()["fields"] == {"total_sales": {"before": None, "after": 12}}


def test_the_fix_depends_on_the_problem_and_where_it_came_from():
    email = how_to_fix("invalid", "'x' is not a valid email address: no @", "partners.csv row 3")
    assert email == "Correct the email address in the file and import the corrected file again."
    number = how_to_fix("invalid", "total_sales: 'lots' does not fit a number field", "partners.csv row 5")
    assert "Field mapping" in number and "in the file" in number
    assert "at the sender" in how_to_fix("rejected", "the body is not JSON", "webhook")
    assert where_from("partners.csv row 12") == "file partners.csv row 12" and where_from("webhook") == "webhook"
