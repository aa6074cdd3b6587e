"""The door: whether this page view must sign in, the sign-in page (a password, or single sign-on with
``st.login``), the page shown when sign-in is needed but not set up, and sign-out.

Not a page (it is not listed in the navigation). dashboard.py calls ``gate`` before anything else; it stops the
run unless someone may go in, and hands the pages a workspace acting as that person (``ui.workspace``), so what
their role does not allow is refused by ``sync_core`` whatever a widget sends.
"""

from __future__ import annotations

import logging

import streamlit as st

from sync_core.domain.access import LOCAL_ADMIN, Actor, Permission, sign_in_need
from sync_core.engine.people import session_actor, sign_in, sign_in_by_email, sign_in_set_up, sign_out
from sync_core.engine.workspace import Workspace

log = logging.getLogger("sync_studio.dashboard")

_TOKEN = "access_token"

#: What opening each page needs.
PAGE_PERMISSIONS = {
    "pages/home.py": Permission.VIEW,
    "pages/connection.py": Permission.MANAGE_CONNECTION,
    "pages/people.py": Permission.MANAGE_USERS,
    "pages/field_mapping.py": Permission.EDIT_CONFIG,
    "pages/group_rules.py": Permission.EDIT_CONFIG,
    "pages/preview.py": Permission.VIEW,
    "pages/sandbox_tools.py": Permission.USE_SANDBOX_TOOLS,
    "pages/run_sync.py": Permission.RUN_SYNC,
    "pages/monitor.py": Permission.VIEW,
    "pages/drift.py": Permission.RUN_SYNC,
}


def single_sign_on() -> bool:
    """Whether ``[auth]`` is set in ``.streamlit/secrets.toml`` (``st.login`` with an OpenID Connect provider)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def visitor_address() -> str:
    """The visitor's IP address (``None`` from this machine), for the audit log and the slow-down."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001
        return ""
    return address if isinstance(address, str) else ""


def _headers() -> dict[str, str]:
    try:
        return dict(st.context.headers or {})
    except Exception:  # noqa: BLE001
        return {}


def gate(ws: Workspace) -> Actor:
    """Who this page view acts as; when no one may go in yet, the sign-in page is drawn and the run stops."""
    need = sign_in_need(
        server_address=st.get_option("server.address"),
        client_address=visitor_address() or None,
        headers=_headers(),
        admin_password_set=sign_in_set_up(),
        people_exist=ws.people.count() > 0,
        single_sign_on=single_sign_on(),
    )
    if not need.required:
        return LOCAL_ADMIN
    actor = session_actor(ws, st.session_state.get(_TOKEN))
    if actor is not None:
        return actor
    st.session_state.pop(_TOKEN, None)
    if single_sign_on() and _signed_in_with_provider():
        result = sign_in_by_email(ws, str(st.user.get("email") or ""), address=visitor_address())
        if result.ok:
            st.session_state[_TOKEN] = result.token
            return result.actor  # type: ignore[return-value]
        _closed(lambda: _refused(result.message))
    if not (sign_in_set_up() or ws.people.count() > 0 or single_sign_on()):
        _closed(lambda: _not_set_up(need.reason))
    _closed(lambda: _sign_in_page(ws))
    raise AssertionError("unreachable")  # _closed ends the run


def _closed(draw) -> None:  # noqa: ANN001
    """Draw only ``draw``'s page, whatever address was asked for, and end the run: no page of the studio, not
    even its name in the navigation, is shown before the door opens."""
    st.navigation([st.Page(draw, title="Sign in", url_path="sign-in", default=True)], position="hidden").run()
    st.stop()


def _refused(message: str) -> None:
    st.title("Sign in")
    st.error(message, icon=":material/block:")
    st.button("Sign out", key="access_provider_sign_out", on_click=st.logout)


def _signed_in_with_provider() -> bool:
    try:
        return bool(st.user.get("is_logged_in"))
    except Exception:  # noqa: BLE001
        return False


def _sign_in_page(ws: Workspace) -> None:
    st.title("Sign in")
    st.caption("This studio is shared, so everyone signs in. Ask an admin if you do not have an account yet.")
    message = st.session_state.pop("access_message", None)
    if message:
        st.error(message, icon=":material/lock:")
    if single_sign_on():
        st.button("Sign in with your company account", key="access_login", type="primary", on_click=st.login)
    with st.form("access_form", border=True, enter_to_submit=True):
        st.text_input("User name", key="access_name", autocomplete="username")
        st.text_input("Password", key="access_password", type="password", autocomplete="current-password")
        st.form_submit_button("Sign in", type="primary", on_click=_sign_in_callback, args=(ws,))


def _sign_in_callback(ws: Workspace) -> None:
    name = str(st.session_state.get("access_name") or "")
    password = str(st.session_state.get("access_password") or "")
    st.session_state["access_password"] = ""  # the password stays in the session no longer than this
    if not name.strip() or not password:
        st.session_state["access_message"] = "Type your user name and your password."
        return
    try:
        result = sign_in(ws, name, password, address=visitor_address())
    except Exception:  # noqa: BLE001 - e.g. the database is away: said in words, the details logged
        log.exception("signing in failed")
        st.session_state["access_message"] = "Signing in is not possible right now; try again in a moment."
        return
    if not result.ok:
        st.session_state["access_message"] = result.message
        return
    st.session_state[_TOKEN] = result.token
    st.session_state.pop("access_name", None)


def _not_set_up(reason: str) -> None:
    st.title("Sign-in is not set up")
    st.warning(
        f"This studio can be reached from other machines ({reason}), so it asks everyone to sign in, and "
        "no way to sign in is set up yet. Nothing else is shown until it is.",
        icon=":material/lock:",
    )
    st.markdown(
        "Set it up in one of two ways, then start the studio again:\n\n"
        "1. **Passwords.** Set `SYNC_STUDIO_ADMIN_PASSWORD` to the first admin's password (at least 10 "
        "characters; the user name is `admin`, or `SYNC_STUDIO_ADMIN_USER`). That admin adds the others "
        "on the **People** page, or with `python -m sync_core users add NAME --role editor`.\n"
        "2. **Single sign-on.** Add an `[auth]` section for your OpenID Connect provider (Google, Microsoft, "
        "Okta, Auth0…) to `.streamlit/secrets.toml` (`redirect_uri`, `cookie_secret`, `client_id`, "
        "`client_secret`, `server_metadata_url`), and set `SYNC_STUDIO_ADMIN_EMAIL` to the first admin's "
        "email.\n\n"
        "Or, to use the studio on this machine only, start it without `--server.address` (it listens on "
        "127.0.0.1)."
    )


def sign_out_button(ws: Workspace, actor: Actor) -> None:
    """In the sidebar: who is signed in, and the way out."""
    if actor.kind != "user":
        return
    st.caption(f"Signed in as **{actor.name}** ({actor.role.value})")
    st.button("Sign out", key="access_sign_out", icon=":material/logout:", on_click=_sign_out_callback, args=(ws,))


def _sign_out_callback(ws: Workspace) -> None:
    sign_out(ws, st.session_state.pop(_TOKEN, None))
    for key in [key for key in st.session_state if not str(key).startswith("access_")]:
        del st.session_state[key]  # nothing of this person's work stays for the next one
    if _signed_in_with_provider():
        st.logout()
