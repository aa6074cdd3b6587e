"""Home, the first-run guide: the studio opens on it, it counts the steps done from what the installation holds
(a preset saved, an event previewed, a dry run, a sync, webhooks), explains the sandbox, shows the account, and
links each step to its page, only to the pages the person's role may open."""

from __future__ import annotations

import pytest

from sync_core.engine import first_run
from tests.dashboard.helpers import assert_clean, by_label, finished, open_page, page_text, run_until
from tests.dashboard.signing_in import add_people, sign_in
from tests.dashboard.test_run_and_monitor_pages import arrange

WELCOME = "Welcome to the MailerLite sync studio"


def steps_done(app) -> str:  # noqa: ANN001
    return next(h.value for h in app.subheader if "steps done" in h.value)


def links(app) -> dict[str, str]:  # noqa: ANN001
    """Each page link's label → the page it opens."""
    return {link.label: link.proto.page for link in app.get("page_link")}


def ticked(app) -> list[str]:  # noqa: ANN001
    return [m.value for m in app.markdown if "— done" in m.value]


def test_a_fresh_installation_opens_on_home_with_one_step_done_by_the_sandbox(app):
    app.run()
    assert_clean(app)
    assert [t.value for t in app.title] == [WELCOME]
    assert steps_done(app) == "1 of 6 steps done"
    assert ticked(app) == [":green[:material/check_circle:] **1. Connect a MailerLite account** — done"]
    text = page_text(app)
    assert "practice MailerLite account built into the studio" in text
    assert "nothing reaches MailerLite" in text
    assert "No contact synced yet." in text
    assert [m.value for m in app.metric if m.label == "Subscribers"] == ["0"]
    assert {
        "Load a preset on Field mapping",
        "Preview an event on Preview",
        "Start a dry run on Run sync",
        "Start a sync on Run sync",
        "Set up webhooks on Connection",
    } <= set(links(app))


def test_the_steps_tick_as_a_preset_a_preview_a_dry_run_a_sync_and_a_secret_are_done(app, studio_workspace):
    app.run()
    assert steps_done(app) == "1 of 6 steps done"
    arrange(studio_workspace)  # the Partnero preset saved, 12 partners imported
    open_page(app, "pages/preview.py")  # the default sample event is previewed
    open_page(app, "pages/home.py")
    assert steps_done(app) == "3 of 6 steps done"

    open_page(app, "pages/run_sync.py")
    by_label(app.button, "Start the dry run").click().run()
    run_until(app, finished("Dry run 1 finished"))
    open_page(app, "pages/home.py")
    assert steps_done(app) == "4 of 6 steps done"
    assert "No contact synced yet." in page_text(app)  # a dry run sends nothing

    open_page(app, "pages/run_sync.py")
    by_label(app.toggle, "Dry run: record what would be sent, send nothing").set_value(False).run()
    by_label(app.button, "Start the sync").click().run()
    run_until(app, finished("Run 2 finished"))
    open_page(app, "pages/home.py")
    assert steps_done(app) == "5 of 6 steps done"
    assert "**12 contacts synced**" in page_text(app)
    assert [m.value for m in app.metric if m.label == "Subscribers"] == ["12"]

    studio_workspace.set_webhook_secret("dodo_payments", "whsec_c3luYy1zdHVkaW8taG9tZS10ZXN0LXNlY3JldA==")
    app.run()
    assert steps_done(app) == "6 of 6 steps done"
    assert any("All set" in s.value for s in app.success)


def test_a_sync_that_only_failed_does_not_tick_the_sync_step(studio_workspace):
    from sync_core.engine.run import SyncEngine
    from tests.engine.conftest import failing_batches_client

    arrange(studio_workspace)
    client, _ = failing_batches_client(studio_workspace.sandbox())
    SyncEngine(studio_workspace, client=client).run()  # every batch fails: nobody reached MailerLite
    facts = first_run.facts(studio_workspace, connected=True)
    assert not facts.synced and not facts.dry_run_done
    SyncEngine(studio_workspace).retry()  # the failed ones sent again: now they are in MailerLite
    assert first_run.facts(studio_workspace, connected=True).synced


@pytest.fixture
def people(studio_env, monkeypatch):
    monkeypatch.delenv("SYNC_STUDIO_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("SYNC_STUDIO_ADMIN_USER", raising=False)
    add_people(monkeypatch)


def test_a_viewer_sees_home_with_links_only_to_the_pages_a_viewer_may_open(app, people):
    sign_in(app, "vera")
    assert [t.value for t in app.title] == [WELCOME]
    assert steps_done(app) == "1 of 6 steps done"
    pages = set(links(app).values())
    assert pages == {"preview", "monitor"}, links(app)  # the pages a viewer may open
    text = page_text(app)
    assert "Your role cannot open the Field mapping page: an editor does this step." in text
    # Setting up webhooks is an admin's; connecting is done already (the sandbox), so it says nothing of it.
    assert text.count("Your role cannot open the Connection page: an admin does this step.") == 1
