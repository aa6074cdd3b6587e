"""Someone on the network, with a browser and no credentials, against the studio served to the network
(``streamlit run dashboard.py --server.address 0.0.0.0``), browsed at 127.0.0.1: nothing of the app is drawn
until they sign in. Screenshots go to tests/browser/screenshots/ (the README shows them)."""

from __future__ import annotations

import pytest

from tests.reference import REPO

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO / "tests" / "browser" / "screenshots"
#: Every page's address; /connection first, so that the first view of a fresh server is a page's own address.
ADDRESSES = ["/connection", "/", "/field_mapping", "/group_rules", "/preview", "/sandbox_tools", "/run_sync"]
ADDRESSES += ["/monitor", "/drift"]
ADMIN_PASSWORD = "correct horse battery staple 7"


def settled(page) -> None:  # noqa: ANN001 - a Playwright page
    """The script run is over (the status widget is gone), so what is not drawn now will not be."""
    page.wait_for_timeout(300)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=30_000)


def nothing_of_the_app(page) -> None:  # noqa: ANN001
    """No navigation, no account sidebar, no button or field that reaches the account, the key or the data."""
    assert page.locator("[data-testid=stSidebarNav]").count() == 0
    assert page.get_by_role("link", name="Monitor").count() == 0
    assert page.get_by_role("button", name="Test connection").count() == 0
    assert page.get_by_label("MailerLite API key").count() == 0
    assert page.get_by_label("MailerLite API base URL").count() == 0
    assert page.get_by_role("button", name="Export these items as CSV").count() == 0
    assert page.get_by_role("button", name="Download the configuration (JSON)").count() == 0
    assert page.get_by_role("button", name="Generate a secret").count() == 0
    body = page.locator("body").inner_text()
    for word in ("Sandbox", "MailerLite account", "Configuration in force", "Webhook URL", "Traceback"):
        assert word not in body, word


def test_served_to_the_network_with_nothing_set_up_every_page_only_says_how_to_set_up_sign_in(
    serve_studio, browser_page
):
    url, _ = serve_studio("0.0.0.0")
    page = browser_page
    for address in ADDRESSES:
        page.goto(url + address)
        page.get_by_role("heading", name="Sign-in is not set up").first.wait_for(timeout=60_000)
        settled(page)
        body = page.locator("body").inner_text()
        assert "SYNC_STUDIO_ADMIN_PASSWORD" in body, address
        assert "[auth]" in body and "secrets.toml" in body, address
        assert page.get_by_label("Password", exact=True).count() == 0  # nothing to sign in with: no one could
        nothing_of_the_app(page)
        if address == "/connection":
            page.screenshot(path=str(SCREENSHOTS / "sign_in_not_set_up.png"), full_page=True)


def sign_in(page, user: str, password: str) -> None:  # noqa: ANN001
    page.get_by_label("User name", exact=True).fill(user)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    settled(page)


def test_with_an_admin_password_only_the_sign_in_page_until_the_right_password_and_sign_out_closes_it(
    serve_studio, browser_page
):
    url, _ = serve_studio("0.0.0.0", SYNC_STUDIO_ADMIN_PASSWORD=ADMIN_PASSWORD)
    page = browser_page
    for address in ("/monitor", "/connection", "/"):
        page.goto(url + address)
        page.get_by_role("heading", name="Sign in", exact=True).first.wait_for(timeout=60_000)
        # The form is drawn a moment after the title, by the same run: wait for it, then for the run to end.
        page.get_by_label("Password", exact=True).wait_for(timeout=30_000)
        settled(page)
        assert (
            page.get_by_label("User name", exact=True).count() == 1
            and page.get_by_label("Password", exact=True).count() == 1
        )
        nothing_of_the_app(page)
    page.screenshot(path=str(SCREENSHOTS / "sign_in.png"), full_page=True)

    sign_in(page, "admin", "not the password")
    refusal = page.locator("[data-testid=stAlert]")
    refusal.first.wait_for(timeout=60_000)  # failed sign-ins are slowed down
    said = refusal.first.inner_text()
    assert said.strip() and "not the password" not in said and "Traceback" not in said
    assert page.get_by_role("heading", name="Sign in", exact=True).count() >= 1
    nothing_of_the_app(page)
    page.screenshot(path=str(SCREENSHOTS / "sign_in_refused.png"), full_page=True)

    sign_in(page, "admin", ADMIN_PASSWORD)
    page.get_by_role("heading", name="Welcome to the MailerLite sync studio").first.wait_for(timeout=60_000)  # Home
    settled(page)
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_text("Signed in as admin (admin)").wait_for(timeout=30_000)
    page.get_by_role("link", name="Connection", exact=True).first.click()
    page.get_by_role("button", name="Test connection").wait_for(timeout=30_000)  # the admin has the whole app
    settled(page)
    assert page.locator("[data-testid=stSidebarNav]").count() == 1
    assert ADMIN_PASSWORD not in page.locator("body").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "signed_in.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in", exact=True).first.wait_for(timeout=60_000)
    settled(page)
    nothing_of_the_app(page)
    page.goto(url + "/monitor")  # and the session is closed, not just hidden
    page.get_by_role("heading", name="Sign in", exact=True).first.wait_for(timeout=60_000)
    settled(page)
    nothing_of_the_app(page)


def test_through_a_reverse_proxy_on_this_machine_the_page_asks_for_sign_in(serve_studio, browser_page):
    url, _ = serve_studio("127.0.0.1")  # the README's safe default, but a proxy in front serves it to others
    page = browser_page
    page.goto(url + "/connection")  # from this machine itself: the studio, with no sign-in
    page.get_by_role("heading", name="Connection", exact=True).first.wait_for(timeout=60_000)
    page.set_extra_http_headers({"X-Forwarded-For": "203.0.113.9"})
    page.goto(url + "/connection")
    page.get_by_role("heading", name="Sign-in is not set up").first.wait_for(timeout=60_000)
    settled(page)
    nothing_of_the_app(page)
