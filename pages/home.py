"""Start page: what the studio does and the ready-made configurations it starts from."""

import streamlit as st

from sync_core.presets import PRESETS, load_preset

st.title("MailerLite sync studio")
st.write(
    "Map partner, customer and payment data from **Partnero** and **Dodo Payments** onto MailerLite "
    "subscribers, fields and groups, without code. Preview exactly what will be sent, then run or watch syncs."
)
st.info("The pages for connection, mapping, rules, preview, syncs and monitoring are on their way. "
        "Until then the command line previews any event: `python -m sync_core preview --preset dodo-payments "
        "--event event.json`.", icon=":material/construction:")

st.subheader("Start from a preset")
for name, (_, description) in PRESETS.items():
    config = load_preset(name)
    with st.expander(f"{config.name} — `{name}`"):
        st.write(description)
        st.write(f"{len(config.triggers)} triggers, {len(config.group_rules)} group rules; groups: "
                 + ", ".join(config.group_names()))
