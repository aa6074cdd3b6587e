"""A new user's first sandbox sync, in a real browser: every page opens without an error, a preset is loaded, a
sample file is imported and synced, and Monitor shows the run. A screenshot of each page is kept in
test-artifacts/."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PAGES = [
    ("connection", "Connection"),
    ("field_mapping", "Field mapping"),
    ("group_rules", "Group rules"),
    ("preview", "Preview"),
    ("run_sync", "Run sync"),
    ("monitor", "Monitor"),
]
SAMPLE = "email,name,surname,key,status,total_sales\n" + "".join(
    f"partner{n}@example.com,Pat,Number{n},key{n},{'active' if n % 2 else 'pending'},{n}\n" for n in range(25)
)


def open_page(page, url: str, title: str) -> None:
    page.get_by_role("link", name=title, exact=True).first.click()
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=30_000)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=30_000)  # done running
    assert page.locator("text=Traceback").count() == 0
    assert page.locator("text=Something went wrong on this page").count() == 0


def test_a_new_user_walks_every_page_and_runs_a_first_sandbox_sync(studio, browser_page, tmp_path):
    url, _ = studio
    page = browser_page
    page.goto(url)
    page.get_by_role("heading", name="Welcome to the MailerLite sync studio").first.wait_for(timeout=60_000)  # Home
    page.get_by_text("Sandbox").first.wait_for(timeout=30_000)  # the sidebar is drawn after the page

    for slug, title in PAGES:  # an empty installation: nothing configured, nothing synced
        open_page(page, url, title)
        page.screenshot(path=str(ARTIFACTS / f"empty-{slug}.png"), full_page=True)

    open_page(page, url, "Field mapping")  # start from the Partnero preset
    page.get_by_role("button", name="Load preset…").click()
    page.get_by_role("button", name="Yes, load it").click()
    page.get_by_text("Version 1").first.wait_for(timeout=30_000)

    open_page(page, url, "Run sync")
    sample = tmp_path / "partners.csv"
    sample.write_text(SAMPLE)
    page.locator("input[type=file]").set_input_files(str(sample))
    page.get_by_role("button", name="Import the file").click()
    page.get_by_text("25 read, 25 new").wait_for(timeout=30_000)
    # The worker runs beside the app: the imported rows wait for a person all the same.
    page.get_by_text("25 imported rows wait for you to start a dry run or a sync.").wait_for(timeout=30_000)
    time.sleep(2)
    page.get_by_role("button", name="Start the dry run").click()
    page.get_by_text("Dry run 1 finished").first.wait_for(timeout=120_000)
    page.get_by_text("25 imported rows wait for you").first.wait_for(timeout=30_000)  # the dry run changed nothing
    page.get_by_text("Dry run: record what would be sent, send nothing").click()  # switch the dry run off
    page.get_by_role("button", name="Start the sync").click()
    page.get_by_text("Run 2 finished").first.wait_for(timeout=120_000)
    page.screenshot(path=str(ARTIFACTS / "run-sync-done.png"), full_page=True)
    page.get_by_text("created in MailerLite: Partners").first.wait_for(timeout=30_000)
    created = page.locator("[data-testid=stMetric]").filter(has_text="Created").first
    assert "25" in created.inner_text()  # the person's sync created them: the worker had not sent them before

    page.get_by_role("link", name="See run 2 in Monitor").click()
    page.get_by_role("heading", name="Monitor", exact=True).first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="Contact lookup").wait_for(timeout=30_000)  # the page has drawn to its end
    page.locator("[data-testid=stVegaLiteChart]").first.wait_for(timeout=30_000)
    contacts = page.locator("[data-testid=stMetric]").filter(has_text="Contacts synced")
    assert "25" in contacts.inner_text()
    runs = page.locator("[data-testid=stDataFrame]").first
    runs.wait_for(timeout=30_000)
    assert page.get_by_text("25 subscribers").first.is_visible()  # the sidebar's health is fresh
    page.screenshot(path=str(ARTIFACTS / "monitor-after-sync.png"), full_page=True)

    for slug, title in PAGES:  # and every page again, now that there is a configuration and a run
        open_page(page, url, title)
        page.screenshot(path=str(ARTIFACTS / f"page-{slug}.png"))
