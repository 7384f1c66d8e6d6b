"""Sign in: with the organisation's OpenID Connect provider when one is configured, else a local account."""

from __future__ import annotations

import streamlit as st

from audit.access.store import SignInFailed
from pages import ui


def _providers() -> list[str | None]:
    """The OIDC providers in secrets.toml: named [auth.NAME] tables, or the one unnamed provider."""
    auth = st.secrets.get("auth", {})
    named = [k for k, v in auth.items() if isinstance(v, dict) or hasattr(v, "keys")]
    return named or [None]


def _oidc() -> None:
    """Buttons for the organisation's sign-in; an email with no account is told so and logged."""
    store = ui.access_store()
    if st.user.is_logged_in:  # signed in with the provider, but ui.signed_in found no account
        email = str(st.user.get("email") or "(no email)")
        if st.session_state.get("_access_refused") != email:
            store.log(email, "sign_in_refused", detail="oidc: no account for this email")
            st.session_state["_access_refused"] = email
        st.error(f"**{email}** has no account for this audit. Ask an administrator to add you "
                 "(`audit users add EMAIL --role ROLE --la LA --oidc-only`).", icon=":material/person_off:")
        st.button("Sign out", on_click=st.logout, key="oidc_logout", icon=":material/logout:")
        return
    for name in _providers():
        label = "Sign in with your organisation" if name is None else f"Sign in with {name}"
        if st.button(label, type="primary", key=f"oidc_login_{name or 'default'}", icon=":material/login:"):
            st.login() if name is None else st.login(name)


def _local() -> None:
    """Email and password, checked by audit.access (argon2, locked after repeated failures)."""
    store = ui.access_store()
    if not store.has_users():
        st.info("This database holds real data and nobody has an account yet. On the server, an administrator adds "
                "the first one with `audit users add EMAIL --role administrator`.", icon=":material/person_add:")
    with st.form("signin_form"):
        email = st.text_input("Email", key="signin_email", autocomplete="username")
        password = st.text_input("Password", type="password", key="signin_password", autocomplete="current-password")
        go = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    if go:
        try:
            account = store.authenticate(email, password)
        except SignInFailed as exc:
            st.error(str(exc), icon=":material/block:")
            return
        st.session_state[ui.ACCOUNT_KEY] = account.email
        st.session_state.pop("signin_password", None)
        st.rerun()


def form() -> None:
    """The sign-in page: why it is needed, then the organisation's sign-in or the local form."""
    st.title("Eastern Region Needs Audit")
    st.markdown("This audit holds children's data. **Sign in** to see your LA's child-level figures; everyone else "
                "sees regional figures with small numbers hidden.")
    _oidc() if ui.oidc_configured() else _local()
    st.caption("Every sign-in, failed sign-in and download is recorded in the audit log.")
