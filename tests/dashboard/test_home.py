"""The dashboard starts and its home page lists the presets."""

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO


def test_dashboard_renders_the_home_page_with_the_presets():
    app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=30).run()
    assert not app.exception
    assert app.title[0].value == "MailerLite sync studio"
    labels = [expander.label for expander in app.expander]
    assert any("Partnero → MailerLite" in label for label in labels)
    assert any("Dodo Payments → MailerLite" in label for label in labels)
