"""People: who may sign in and what their role lets them do (admins only). Passwords are stored as hashes;
a person added without a password signs in with the company account (single sign-on) by their email."""

from __future__ import annotations

import streamlit as st

from pages import ui, widgets
from sync_core.domain.access import ROLE_HELP, ROLE_LABELS, NotAllowed, Role
from sync_core.engine.people import add_person, change_person, remove_person, sign_in_set_up
from sync_core.settings import get_settings

ROLES = [Role.ADMIN, Role.EDITOR, Role.VIEWER]


def _role_label(role: Role) -> str:
    return f"{ROLE_LABELS[role]}: {ROLE_HELP[role]}"


def _add(ws) -> None:  # noqa: ANN001
    name = str(st.session_state.get("pp_name") or "").strip()
    password = str(st.session_state.get("pp_password") or "")
    st.session_state["pp_password"] = ""
    role = st.session_state.get("pp_role") or Role.VIEWER
    try:
        add_person(
            ws,
            name,
            Role(role),
            password=password or None,
            may_export_bodies=bool(st.session_state.get("pp_bodies")),
        )
    except (ValueError, NotAllowed) as exc:
        widgets.flash("error", str(exc))
        return
    st.session_state["pp_name"] = ""
    how = "with the password you set" if password else "with their company account (single sign-on)"
    widgets.flash("success", f"{name} can sign in now, {how}, as {ROLE_LABELS[Role(role)].lower()}.")


def _change(ws, name: str) -> None:  # noqa: ANN001
    password = str(st.session_state.get("pp_new_password") or "")
    st.session_state["pp_new_password"] = ""
    try:
        change_person(
            ws,
            name,
            role=Role(st.session_state.get(f"pp_change_role_{name}") or Role.VIEWER),
            password=password or None,
            may_export_bodies=bool(st.session_state.get(f"pp_change_bodies_{name}")),
        )
    except (ValueError, NotAllowed) as exc:
        widgets.flash("error", str(exc))
        return
    widgets.flash("success", f"{name} is changed" + (" (their sessions were ended)." if password else "."))


def _remove(ws, name: str) -> None:  # noqa: ANN001
    try:
        remove_person(ws, name)
    except (ValueError, NotAllowed) as exc:
        widgets.flash("error", str(exc))
        return
    widgets.flash("info", f"{name} can no longer sign in.")


def main() -> None:
    st.title("People")
    st.caption(
        "Who may sign in, and what they may do. Admins manage the connection, the API key, webhook secrets and "
        "people; editors map, preview and run syncs; viewers read the Monitor and Preview."
    )
    ws = ui.workspace()
    if ws is None:
        return
    widgets.show_flash()
    people = ws.people.all()
    settings = get_settings()
    if sign_in_set_up():
        st.info(
            f"**{settings.admin_user}** is the first admin: their password is SYNC_STUDIO_ADMIN_PASSWORD.",
            icon=":material/key:",
        )
    if not people and not sign_in_set_up():
        st.warning(
            "No one signs in yet: the studio is only reachable from this machine. As soon as you add someone, "
            "everyone signs in, so add **your own admin account with a password** first.",
            icon=":material/lock_open:",
        )
    if people:
        st.dataframe(
            [
                {
                    "Name": person.name,
                    "Role": ROLE_LABELS.get(Role(person.role), person.role) if person.role in Role else person.role,
                    "Signs in with": "password" if person.password_hash else "company account",
                    "May export request bodies": person.may_export_bodies or person.role != Role.VIEWER.value,
                    "Added": widgets.when(person.created_at),
                }
                for person in people
            ],
            hide_index=True,
            width="stretch",
        )
    st.subheader("Add someone", divider="gray")
    with st.form("pp_add", border=False, enter_to_submit=True):
        st.text_input("User name (or their email, for single sign-on)", key="pp_name")
        st.selectbox("Role", ROLES, key="pp_role", format_func=_role_label, index=0 if not people else 2)
        st.text_input(
            "Password",
            key="pp_password",
            type="password",
            autocomplete="new-password",
            help="At least 10 characters; tell it to them yourself. Leave empty for someone who signs in with "
            "their company account.",
        )
        st.checkbox("May export the requests sent to MailerLite (viewers)", key="pp_bodies")
        st.form_submit_button("Add", type="primary", icon=":material/person_add:", on_click=_add, args=(ws,))
    if not people:
        return
    st.subheader("Change or remove", divider="gray")
    name = st.selectbox("Person", [person.name for person in people], key="pp_person")
    person = next(person for person in people if person.name == name)
    with st.form("pp_change", border=False):
        current = Role(person.role) if person.role in Role else Role.VIEWER
        st.selectbox(
            "Role", ROLES, key=f"pp_change_role_{person.name}", index=ROLES.index(current), format_func=_role_label
        )
        st.text_input("New password (leave empty to keep it)", key="pp_new_password", type="password")
        st.checkbox(
            "May export the requests sent to MailerLite",
            key=f"pp_change_bodies_{person.name}",
            value=person.may_export_bodies,
        )
        st.form_submit_button("Save changes", on_click=_change, args=(ws, person.name))
    st.button(
        f"Remove {person.name}",
        key="pp_remove",
        icon=":material/person_remove:",
        type="tertiary",
        on_click=_remove,
        args=(ws, person.name),
    )


ui.page_guard("pages/people.py")
main()
