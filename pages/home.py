"""Home: a welcome, the first-run guide (six steps, each ticked off when the installation shows it is done, each
linking to the page that does it), what the sandbox is, and the account at a glance."""

from __future__ import annotations

import streamlit as st

from pages import ui
from pages.access import PAGE_PERMISSIONS
from sync_core.engine import first_run

#: The page that does each step (``first_run.Step.key``), and its name in the navigation.
STEP_PAGES = {
    "connect": ("pages/connection.py", "Connection"),
    "preset": ("pages/field_mapping.py", "Field mapping"),
    "preview": ("pages/preview.py", "Preview"),
    "dry_run": ("pages/run_sync.py", "Run sync"),
    "sync": ("pages/run_sync.py", "Run sync"),
    "webhooks": ("pages/connection.py", "Connection"),
}
#: What to do on the step's page, once there.
STEP_HOW = {
    "connect": "Open {page}",
    "preset": "Load a preset on {page}",
    "preview": "Preview an event on {page}",
    "dry_run": "Start a dry run on {page}",
    "sync": "Start a sync on {page}",
    "webhooks": "Set up webhooks on {page}",
}
#: Who may do what the step needs, in words, for a role that cannot open its page.
STEP_WHO = {
    "connect": "an admin",
    "webhooks": "an admin",
    "preset": "an editor",
    "dry_run": "an editor",
    "sync": "an editor",
}


def draw_step(number: int, step: first_run.Step) -> None:
    path, page = STEP_PAGES[step.key]
    with st.container(border=True):
        mark = ":green[:material/check_circle:]" if step.done else ":gray[:material/radio_button_unchecked:]"
        state = " — done" if step.done else ""
        st.markdown(f"{mark} **{number}. {step.title}**{state}")
        st.caption(step.why)
        if ui.may(PAGE_PERMISSIONS[path]):
            st.page_link(path, label=STEP_HOW[step.key].format(page=page), icon=":material/arrow_forward:")
        elif not step.done:
            st.caption(f"Your role cannot open the {page} page: {STEP_WHO.get(step.key, 'an admin')} does this step.")


def main() -> None:
    st.title("Welcome to the MailerLite sync studio")
    st.markdown(
        "The studio keeps your MailerLite subscribers up to date with your partners from **Partnero** and your "
        "customers from **Dodo Payments**: who they are, what they bought, which groups they belong in. "
        "Follow the steps below to sync your first contacts; each one ticks itself off when it is done."
    )
    ws = ui.workspace()
    if ws is None:
        return
    report = ui.connection_report(ws)
    facts = first_run.facts(ws, connected=report.ok)
    steps = first_run.steps(facts)
    done = first_run.done_count(steps)

    guide, side = st.columns([3, 2], gap="large")
    with guide:
        st.subheader(f"{done} of {len(steps)} steps done", divider="gray")
        if done == len(steps):
            st.success("All set: the studio syncs on its own as events arrive.", icon=":material/celebration:")
        for number, step in enumerate(steps, start=1):
            draw_step(number, step)

    with side:
        st.subheader("Your account at a glance", divider="gray")
        if facts.sandbox:
            st.markdown(":orange-badge[:material/science: Sandbox]")
        else:
            st.markdown(":green-badge[:material/mail: MailerLite]")
        if report.ok:
            st.metric("Subscribers", f"{report.subscriber_count or 0:,}")
            st.caption(f"{len(report.groups)} groups and {len(report.fields)} fields in the account.")
        else:
            where = (
                "the Connection page says why and what to do"
                if ui.may(PAGE_PERMISSIONS["pages/connection.py"])
                else "ask an admin to check the connection"
            )
            st.warning(f"The account does not answer right now: {where}.", icon=":material/error:")
        synced = ws.monitor.contacts_synced()
        if synced:
            st.markdown(
                f":green[:material/check_circle:] **{synced:,} contact{'' if synced == 1 else 's'} synced** "
                "by the studio so far."
            )
        else:
            st.caption("No contact synced yet.")
        if ui.may(PAGE_PERMISSIONS["pages/monitor.py"]):
            st.page_link("pages/monitor.py", label="See every sync in Monitor", icon=":material/monitoring:")

        st.subheader("What is the sandbox?", divider="gray")
        st.markdown(
            "The sandbox is a practice MailerLite account built into the studio. It is used as long as no "
            "MailerLite API key is set (or when it is switched on, on the Connection page): it answers exactly "
            "like MailerLite, with its own subscribers, groups and fields, but **nothing reaches MailerLite**. "
            "Try everything there first; when you add your API key, the same configuration syncs to your real "
            "account."
        )
        if facts.sandbox:
            st.caption("You are using the sandbox now.")
        else:
            st.caption("You are connected to MailerLite now: syncs change your real account.")


ui.page_guard("pages/home.py")
main()
