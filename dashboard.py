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
    from pages import access, sidebar, ui
    from sync_core.domain.access import NOBODY
    from sync_core.domain.messages import plain_message

    st.set_page_config(page_title="MailerLite sync studio", page_icon=":material/sync:", layout="wide")
    ui.enter(NOBODY)  # until the door below lets someone in

    PAGES = {
        "Start": [("pages/home.py", "Home", ":material/home:")],
        "Setup": [
            ("pages/connection.py", "Connection", ":material/power:"),
            ("pages/field_mapping.py", "Field mapping", ":material/table_edit:"),
            ("pages/group_rules.py", "Group rules", ":material/group_add:"),
            ("pages/people.py", "People", ":material/manage_accounts:"),
        ],
        "Test": [
            ("pages/preview.py", "Preview", ":material/preview:"),
            ("pages/sandbox_tools.py", "Sandbox tools", ":material/science:"),
        ],
        "Operate": [
            ("pages/run_sync.py", "Run sync", ":material/play_circle:"),
            ("pages/monitor.py", "Monitor", ":material/monitoring:"),
            ("pages/drift.py", "Compare with MailerLite", ":material/compare_arrows:"),
        ],
    }

    HOME = "pages/home.py"  # the first-run guide: the page the studio opens on

    shared = ui.shared_workspace()
    if shared is None:
        st.stop()
    try:
        actor = access.gate(shared)
    except Exception:  # noqa: BLE001 - the door itself failed (e.g. the database is away): closed, in words
        logging.getLogger("sync_studio.dashboard").exception("the sign-in check failed")
        st.error("The studio cannot check who you are right now; try again in a moment.", icon=":material/lock:")
        st.stop()
    ui.enter(actor, access.visitor_address())
    sections: dict[str, list] = {}
    for section, pages in PAGES.items():
        allowed = [
            st.Page(path, title=title, icon=icon, default=path == HOME)
            for path, title, icon in pages
            if actor.may(access.PAGE_PERMISSIONS[path])
        ]
        if allowed:
            sections[section] = allowed
    navigation = st.navigation(sections)

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
                f"Something went wrong on this page: {plain_message(exc)}. "
                "Your unsaved changes are kept; try again, or reload the page.",
                icon=":material/error:",
            )
        with sidebar_area:
            try:
                sidebar.draw(workspace)
            except Exception as exc:  # noqa: BLE001
                logging.getLogger("sync_studio.dashboard").exception("the sidebar failed")
                st.error(f"The account status cannot be shown: {plain_message(exc)}.")
            access.sign_out_button(workspace, actor)
