"""Monitor for managers (issue 14): outcomes in words with colours that mean something, charts that fit the
period with the empty days shown, a contact lookup that finds part of an address and shows the contact as
MailerLite has it, readable exports, and links (``?view=``) that open the tab they are about."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from pages import monitor_charts
from sync_core.domain.outcome_words import OUTCOMES, outcome_colour, outcome_label
from sync_core.engine.exports import items_csv
from sync_core.engine.run import SyncEngine
from tests.dashboard.test_run_and_monitor_pages import arrange

from .helpers import assert_clean, open_page, page_text


def test_failures_are_red_and_nothing_to_do_is_grey():
    def rgb(colour: str) -> tuple[int, int, int]:
        return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)

    for outcome in ("failed", "dead"):
        red, green, blue = rgb(outcome_colour(outcome))
        assert red > 150 and green < 60 and blue < 60, outcome
    for outcome in ("unchanged", "skipped", "ignored"):
        red, green, blue = rgb(outcome_colour(outcome))
        assert max(red, green, blue) - min(red, green, blue) < 10, outcome  # a grey
    red, green, blue = rgb(outcome_colour("created"))
    assert green > red and green > blue
    assert outcome_label("dead") == "Failed for good, needs a retry"
    assert outcome_label("suppressed") != "Suppressed"
    assert len({label for label, _ in OUTCOMES.values()}) == len(OUTCOMES)


def test_a_month_with_one_day_of_data_shows_every_day():
    today = date(2026, 12, 3)
    since = today - timedelta(days=29)
    frame = monitor_charts.daily_frame([(today, "created", 5), (today, "failed", 1)], since, today)
    assert len(set(frame["day"])) == 30
    assert frame["contacts"].sum() == 6
    assert frame.loc[frame["day"] == since, "contacts"].tolist() == [0, 0]
    assert set(frame["Outcome"]) == {"Created", "Failed, tried again"}


def test_the_chart_fits_the_period():
    today = date(2026, 12, 3)
    assert monitor_charts.chart_kind(today, today, today) == "breakdown"
    assert monitor_charts.chart_kind(today - timedelta(days=6), today, today) == "bars"
    assert monitor_charts.chart_kind(today - timedelta(days=29), today, today) == "bars"
    assert monitor_charts.chart_kind(None, today, today - timedelta(days=200)) == "line"
    assert monitor_charts.chart_kind(None, today, today - timedelta(days=3)) == "bars"


def test_the_runs_and_items_read_in_words(app, studio_workspace):
    arrange(studio_workspace)
    SyncEngine(studio_workspace).run(dry_run=True)
    SyncEngine(studio_workspace).run()
    open_page(app, "pages/monitor.py")
    runs = app.dataframe[0].value
    assert list(runs["Kind"]) == ["Sync", "Dry run"]
    assert set(runs["How it went"]) == {"Finished"}
    columns = " ".join(str(c) for frame in app.dataframe for c in frame.value.columns)
    assert "code" not in columns.lower() and "dry run" not in columns  # no raw column names
    charts = app.get("vega_lite_chart")
    assert len(charts) == 3  # over time, by event type, by group
    assert "#1a9850" in charts[0].proto.spec  # created contacts in their green
    assert_clean(app)


def test_a_part_of_an_address_finds_the_contacts(app, studio_workspace):
    arrange(studio_workspace)
    SyncEngine(studio_workspace).run()
    open_page(app, "pages/monitor.py")
    app.text_input(key="monitor_email").set_value("P1").run()
    assert_clean(app)
    pick = app.selectbox(key="monitor_email_pick")
    assert (
        "p1@example.com" in pick.options and "p10@example.com" in pick.options and "p2@example.com" not in pick.options
    )
    pick.set_value("p10@example.com").run()
    assert "**In MailerLite now:** active" in page_text(app)
    app.text_input(key="monitor_email").set_value("nobody-like-this").run()
    assert any("No contact's email address contains" in i.value for i in app.info)


def _default_tabs(node) -> list[str]:
    """The default tab of every tab container on the page (AppTest keeps it in the block's proto)."""
    found = []
    if getattr(node, "type", None) == "tab_container":
        labels = [child.label for child in node.children.values()]
        found.append(labels[node.proto.tab_container.default_tab_index])
    for child in getattr(node, "children", {}).values():
        found.extend(_default_tabs(child))
    return found


def test_a_link_opens_the_tab_it_is_about(app, studio_workspace):
    arrange(studio_workspace)
    SyncEngine(studio_workspace).run()
    open_page(app, "pages/monitor.py")
    assert "Runs" in _default_tabs(app._tree)
    app.query_params["view"] = "failing"
    app.run()
    assert_clean(app)
    assert "Needs attention" in _default_tabs(app._tree)


def test_the_export_has_readable_column_names(studio_workspace):
    arrange(studio_workspace)
    SyncEngine(studio_workspace).run()
    rows = list(csv.DictReader(io.StringIO("".join(items_csv(studio_workspace)))))
    assert rows and {"Run", "When (UTC)", "Email", "Outcome", "Why"} <= set(rows[0])
    assert not {"run_id", "created_at", "response_code"} & set(rows[0])
