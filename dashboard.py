"""The Streamlit entry point: ``streamlit run dashboard.py``. Navigation and the shared sidebar only."""

import streamlit as st

st.set_page_config(page_title="MailerLite sync studio", page_icon=":material/sync:", layout="wide")

navigation = st.navigation({
    "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
})

with st.sidebar:
    st.caption("Connected to the **sandbox** account (no MailerLite key set).")

navigation.run()
