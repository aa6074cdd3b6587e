"""The Streamlit entry point: ``streamlit run dashboard.py``. Navigation and the shared sidebar, and the live
webhook receiver served by the same process.

``streamlit run`` finds the ``st.App`` below (it reads this file) and serves it with uvicorn: the app's routes
are the webhook endpoints and ``/healthz``, and its lifespan starts the sync worker with the server and stops it
with it (``SYNC_STUDIO_WORKER=off`` serves without the worker). Streamlit then runs this same file again, as
``__main__``, for every page view: that run draws the pages.
"""

import logging

import streamlit as st

if __name__ != "__main__":  # imported to be served: build the app, draw nothing
    from sync_core.live import LiveSync

    live = LiveSync()
    app = st.App(__file__, routes=live.routes(), lifespan=live.lifespan)

else:  # a page view
    from pages import sidebar, ui

    st.set_page_config(page_title="MailerLite sync studio", page_icon=":material/sync:", layout="wide")

    navigation = st.navigation(
        {
            "Setup": [
                st.Page("pages/connection.py", title="Connection", icon=":material/power:", default=True),
                st.Page("pages/field_mapping.py", title="Field mapping", icon=":material/table_edit:"),
                st.Page("pages/group_rules.py", title="Group rules", icon=":material/group_add:"),
            ],
            "Test": [
                st.Page("pages/preview.py", title="Preview", icon=":material/preview:"),
                st.Page("pages/sandbox_tools.py", title="Sandbox tools", icon=":material/science:"),
            ],
            "Operate": [
                st.Page("pages/run_sync.py", title="Run sync", icon=":material/play_circle:"),
                st.Page("pages/monitor.py", title="Monitor", icon=":material/monitoring:"),
                st.Page("pages/drift.py", title="Compare with MailerLite", icon=":material/compare_arrows:"),
            ],
        }
    )

    ui.open_wanted_page()
    workspace = ui.workspace()
    if workspace is not None:
        # Drawn after the page (so it shows what the page just changed), but placed above anything else.
        sidebar_area = st.sidebar.container()
        try:
            with ui.inside_navigation():
                navigation.run()
        except Exception as exc:  # noqa: BLE001 - a page must never show a traceback
            logging.getLogger("sync_studio.dashboard").exception("page %s failed", navigation.title)
            st.error(
                f"Something went wrong on this page: {str(exc) or type(exc).__name__}. "
                "Your unsaved changes are kept; try again, or reload the page.",
                icon=":material/error:",
            )
        with sidebar_area:
            try:
                sidebar.draw(workspace)
            except Exception as exc:  # noqa: BLE001
                logging.getLogger("sync_studio.dashboard").exception("the sidebar failed")
                st.error(f"The account status cannot be shown: {exc}")
