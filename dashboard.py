"""The Streamlit entry point: ``streamlit run dashboard.py``. Navigation and the shared sidebar only."""

import logging

import streamlit as st

from pages import ui

st.set_page_config(page_title="MailerLite sync studio", page_icon=":material/sync:", layout="wide")

navigation = st.navigation({
    "Setup": [
        st.Page("pages/connection.py", title="Connection", icon=":material/power:", default=True),
        st.Page("pages/field_mapping.py", title="Field mapping", icon=":material/table_edit:"),
        st.Page("pages/group_rules.py", title="Group rules", icon=":material/group_add:"),
    ],
    "Test": [
        st.Page("pages/preview.py", title="Preview", icon=":material/preview:"),
    ],
    "Operate": [
        st.Page("pages/run_sync.py", title="Run sync", icon=":material/play_circle:"),
        st.Page("pages/monitor.py", title="Monitor", icon=":material/monitoring:"),
    ],
})

ui.open_wanted_page()
workspace = ui.workspace()
if workspace is not None:
    # Drawn after the page (so it shows what the page just changed), but placed above anything else.
    sidebar = st.sidebar.container()
    try:
        with ui.inside_navigation():
            navigation.run()
    except Exception as exc:  # noqa: BLE001 - a page must never show a traceback
        logging.getLogger("sync_studio.dashboard").exception("page %s failed", navigation.title)
        st.error(f"Something went wrong on this page: {str(exc) or type(exc).__name__}. "
                 "Your unsaved changes are kept; try again, or reload the page.", icon=":material/error:")
    with sidebar:
        try:
            ui.sidebar(workspace)
        except Exception as exc:  # noqa: BLE001
            logging.getLogger("sync_studio.dashboard").exception("the sidebar failed")
            st.error(f"The account status cannot be shown: {exc}")
