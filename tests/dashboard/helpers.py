"""Reading and driving the dashboard in AppTest."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

# --- helpers -----------------------------------------------------------------------------------------------------

GENERIC_FAILURE = "Something went wrong on this page"
TEXT_ELEMENTS = (
    "title",
    "header",
    "subheader",
    "markdown",
    "caption",
    "text",
    "error",
    "warning",
    "info",
    "success",
    "code",
    "json",
)


def open_page(app: AppTest, path: str) -> AppTest:
    """Start the app if needed, go to ``path`` (e.g. "pages/preview.py") and check that it drew cleanly."""
    if not getattr(app, "studio_started", False):
        app.run()  # switch_page needs one run first (st.navigation registers the pages)
        app.studio_started = True
    app.switch_page(path).run()
    assert_clean(app)
    return app


def page_on(workspace, monkeypatch, path: str) -> AppTest:  # noqa: ANN001 - a Workspace, a MonkeyPatch
    """A page of the real dashboard (dashboard.py, as in tests/dashboard) on ``workspace``'s database: what a
    person opening the dashboard beside a running server sees."""
    from streamlit.runtime.pages_manager import PagesManager

    from tests.reference import REPO

    monkeypatch.setenv("SYNC_STUDIO_DATA_DIR", str(workspace.directory))
    monkeypatch.setenv("DATABASE_URL", workspace.database.url)
    original = PagesManager.__init__

    def without_legacy_pages(self, *args, **kwargs):  # see tests/dashboard/conftest.py
        PagesManager.uses_pages_directory = False
        original(self, *args, **kwargs)

    monkeypatch.setattr(PagesManager, "__init__", without_legacy_pages)
    return open_page(AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=30), path)


def assert_clean(app: AppTest) -> None:
    """No traceback and no catch-all failure message on the page."""
    assert not app.exception, [e.message for e in app.exception]
    assert not [e.value for e in app.error if GENERIC_FAILURE in e.value]


def texts(app: AppTest, *kinds: str) -> list[str]:
    """Every text of these kinds (all text elements by default), main area and sidebar."""
    out: list[str] = []
    for kind in kinds or TEXT_ELEMENTS:
        for element in getattr(app, kind):
            value = element.value
            out.append(value if isinstance(value, str) else str(value))
    return out


def page_text(app: AppTest) -> str:
    return "\n".join(texts(app))


def by_label(elements, label: str):
    """The one widget of a kind with this label (keys bound to the draft change, labels do not)."""
    found = [element for element in elements if element.label == label]
    assert found, f"no widget labelled {label!r}; labels: {[element.label for element in elements]}"
    return found[0]


def run_until(app, done, timeout: float = 60) -> None:
    """Draw the page again (as its live area does every second) until ``done(app)``."""
    deadline = time.monotonic() + timeout
    while True:
        app.run()
        assert_clean(app)
        if done(app):
            return
        assert time.monotonic() < deadline, page_text(app)
        time.sleep(0.2)


def finished(text: str):
    return lambda app: any(text in s.value for s in [*app.success, *app.error, *app.warning])
