"""The first-run guide, in a real browser, from an empty installation to a first synced contact: a new user
follows the Home page's steps using only what the pages say (link and button texts, headings, messages; no
widget keys, no paths), and a screenshot of every page goes to docs/screenshots/ (the README shows them).

The texts this test relies on, besides Home's own: "Load preset…" and "Yes, load it" (Field mapping), the
"Sample event" choice and its "Partnero · partner.created" sample (Preview), the
"Upload" (or "Browse files") button of the file upload, "Import the file", "Start the dry run", "Dry run 1 finished", the
"Dry run" switch, "Start the sync", "Run 2 finished" (Run sync), "Generate a secret" (Connection), and the
sidebar's "N subscribers"."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.reference import REPO

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO / "docs" / "screenshots"
WELCOME = "Welcome to the MailerLite sync studio"
PARTNERS = 5
SAMPLE = "email,name,surname,key,status,total_sales\n" + "".join(
    f"partner{n}@example.com,Pat,Number{n},key{n},active,{10 * n}\n" for n in range(PARTNERS)
)
WAIT = 60_000


def settled(page) -> None:  # noqa: ANN001 - a Playwright page
    """The script run is over (the status widget is gone), with nothing on the page gone wrong."""
    page.wait_for_timeout(300)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=WAIT)
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Something went wrong on this page" not in body, body[-2000:]


def shoot(page, name: str) -> None:  # noqa: ANN001
    """The whole page: Streamlit scrolls inside its main area, so the window is made as tall as the page for
    the picture (at most 3,000 pixels), then set back."""
    settled(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 1440, "height": 1100}
    tall = page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollHeight ?? 0")
    page.set_viewport_size({"width": size["width"], "height": min(max(int(tall), size["height"]), 3000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def go_home(page) -> None:  # noqa: ANN001
    page.get_by_role("link", name="Home", exact=True).first.click()
    page.get_by_role("heading", name=WELCOME).first.wait_for(timeout=WAIT)
    settled(page)


def follow_step(page, link: str, heading: str) -> None:  # noqa: ANN001
    """Click the Home step's link (its text matches ``link``) and land on its page."""
    page.get_by_role("link", name=re.compile(link, re.IGNORECASE)).first.click()
    page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=WAIT)
    settled(page)


def steps_done(page, count: int) -> None:  # noqa: ANN001
    page.get_by_text(re.compile(rf"^{count} of 6 steps done")).first.wait_for(timeout=WAIT)


def visit(page, title: str, name: str) -> None:  # noqa: ANN001
    """Open a page from the navigation by its name and take its screenshot."""
    page.get_by_role("link", name=title, exact=True).first.click()
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=WAIT)
    shoot(page, name)


def test_a_new_user_follows_the_first_run_guide_to_a_first_synced_contact(serve_studio, browser_page, tmp_path):
    url, _ = serve_studio("127.0.0.1")  # an empty data directory, this machine only: no sign-in
    page = browser_page
    try:
        walk_the_guide(page, url, tmp_path)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "first-run-failed.png"), full_page=True)  # what the user saw
        raise


def walk_the_guide(page, url: str, tmp_path) -> None:  # noqa: ANN001
    page.goto(url)

    # Home: a welcome, the sandbox explained, one step done (the sandbox answers).
    page.get_by_role("heading", name=WELCOME).first.wait_for(timeout=WAIT)
    page.get_by_text("What is the sandbox?").first.wait_for(timeout=WAIT)
    steps_done(page, 1)
    assert page.get_by_text("nothing reaches MailerLite").count() >= 1
    assert page.get_by_text("No contact synced yet.").count() == 1
    shoot(page, "home")

    # 2. Pick a preset, on Field mapping.
    follow_step(page, "preset", "Field mapping")
    page.get_by_role("button", name=re.compile(r"^Load preset")).first.click()
    page.get_by_role("button", name=re.compile(r"^Yes")).first.click()
    page.get_by_text(re.compile(r"^Version 1")).first.wait_for(timeout=WAIT)  # the sidebar: saved
    shoot(page, "field_mapping")
    go_home(page)
    steps_done(page, 2)

    # 3. Preview an event, on Preview: a sample is shown at once (or after its button, where there is one).
    follow_step(page, "preview", "Preview")
    page.get_by_role("combobox", name=re.compile(r"sample", re.IGNORECASE)).first.click()  # a Partnero sample
    page.keyboard.type("partner.created")
    page.get_by_role("option", name=re.compile(r"Partnero.*partner\.created")).first.click()
    settled(page)
    preview_button = page.get_by_role("button", name=re.compile(r"^Preview", re.IGNORECASE))
    if preview_button.count():
        preview_button.first.click()
    page.get_by_text(re.compile(r"Verdict|would (be )?sen[dt]|ignored|synced", re.IGNORECASE)).first.wait_for(
        timeout=WAIT
    )  # what the sample would do
    shoot(page, "preview")
    go_home(page)
    steps_done(page, 3)

    # 4. A dry run, on Run sync: a small file of partners first.
    follow_step(page, "dry run", "Run sync")
    sample = tmp_path / "partners.csv"
    sample.write_text(SAMPLE)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name=re.compile(r"^(Upload|Browse files)")).first.click()
    chooser.value.set_files(str(sample))
    page.get_by_text("partners.csv").first.wait_for(timeout=WAIT)
    page.get_by_role("button", name=re.compile(r"^Import")).first.click()
    page.get_by_text(re.compile(rf"{PARTNERS} imported rows wait")).first.wait_for(timeout=WAIT)
    settled(page)
    page.get_by_role("button", name=re.compile(r"^Start the dry run")).first.click()
    page.get_by_text(re.compile(r"^Dry run \d+ finished")).first.wait_for(timeout=120_000)
    settled(page)
    go_home(page)
    steps_done(page, 4)
    assert page.get_by_text("No contact synced yet.").count() == 1  # a dry run sends nothing

    # 5. The sync, on Run sync.
    follow_step(page, "start a sync", "Run sync")
    dry_run = page.get_by_label(re.compile(r"^Dry run")).first
    if dry_run.is_checked():
        page.get_by_text(re.compile(r"^Dry run:")).first.click()  # the switch, by its words
    page.get_by_role("button", name=re.compile(r"^Start the sync")).first.click()
    page.get_by_text(re.compile(r"^Run \d+ finished")).first.wait_for(timeout=120_000)
    shoot(page, "run_sync")
    go_home(page)
    steps_done(page, 5)
    page.get_by_text(f"{PARTNERS} contacts synced").first.wait_for(timeout=WAIT)  # the first synced contacts
    subscribers = page.locator("[data-testid=stMetric]").filter(has_text="Subscribers").first
    assert subscribers.inner_text().split()[-1] == str(PARTNERS)  # the account holds them now
    page.locator("[data-testid=stSidebar]").get_by_text(f"{PARTNERS} subscribers").first.wait_for(timeout=WAIT)

    # 6. Webhooks, on Connection: a signing secret for Partnero.
    follow_step(page, "webhooks", "Connection")
    shoot(page, "connection")  # before a secret is generated: nothing secret on the picture
    page.get_by_role("button", name=re.compile(r"^Generate a secret")).first.click()
    page.get_by_text(re.compile(r"^New secret saved")).first.wait_for(timeout=WAIT)
    go_home(page)
    steps_done(page, 6)
    page.get_by_text(re.compile(r"^All set")).first.wait_for(timeout=WAIT)
    shoot(page, "home_done")

    # And every other page, now that there is a configuration and a sync.
    for title, name in [
        ("Group rules", "group_rules"),
        ("People", "people"),
        ("Sandbox tools", "sandbox_tools"),
        ("Monitor", "monitor"),
        ("Compare with MailerLite", "drift"),
    ]:
        visit(page, title, name)
    page.get_by_role("link", name="Monitor", exact=True).first.click()
    contacts = page.locator("[data-testid=stMetric]").filter(has_text="Contacts synced").first
    contacts.wait_for(timeout=WAIT)
    assert contacts.inner_text().split()[-1] == str(PARTNERS)
