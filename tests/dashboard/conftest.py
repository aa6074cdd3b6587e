"""Dashboard tests: each one drives the real app (dashboard.py and its pages) with Streamlit's AppTest, on its own
data directory and SQLite database, against the built-in sandbox account."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.reference import REPO

SECRET_VARIABLES = (
    "MAILERLITE_API_KEY",
    "MAILERLITE_BASE_URL",
    "DODO_PAYMENTS_WEBHOOK_KEY",
    "PARTNERO_WEBHOOK_SECRET",
    "SYNC_STUDIO_SECRET_KEY",
    "SYNC_STUDIO_PUBLIC_URL",
)


@pytest.fixture
def studio_env(tmp_path, monkeypatch):
    """An isolated installation: its own data directory and database, no keys from the environment."""
    for variable in SECRET_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("SYNC_STUDIO_DATA_DIR", str(data))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{data / 'studio.db'}")
    return data


@pytest.fixture
def studio_workspace(studio_env):
    """The same workspace the app opens (its cached one), to arrange and inspect what the pages do."""
    from pages import ui

    return ui._open_workspace(str(studio_env), f"sqlite:///{studio_env / 'studio.db'}")


@pytest.fixture
def app(studio_env, monkeypatch):
    """The dashboard, not run yet.

    A ``pages/`` folder beside the main script puts Streamlit in its legacy multipage mode until the first
    ``st.navigation`` call switches it off for the process, so a server runs every later script run as plain
    ``st.navigation``. AppTest instead resets the mode before each run, and in the legacy mode it loses the
    sidebar on every run after the first; the fixture keeps the mode off, as in the server.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def without_legacy_pages(self, *args, **kwargs):
        PagesManager.uses_pages_directory = False
        original(self, *args, **kwargs)

    monkeypatch.setattr(PagesManager, "__init__", without_legacy_pages)
    return AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=30)
