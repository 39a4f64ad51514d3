"""The dashboard's entry point: `streamlit run dashboard/app.py` (or `make dashboard`)."""

from __future__ import annotations

import streamlit as st

from dashboard import PAGES, VIEWS, filters
from dashboard.publication import NoPublication, current_database

st.set_page_config(page_title="Analytics", page_icon=":material/insights:", layout="wide")

navigation = st.navigation(
    [
        st.Page(VIEWS / file, title=title, icon=icon, default=file == "overview.py")
        for file, title, icon in PAGES
    ]
)
try:
    database = current_database()
except NoPublication as error:
    st.error(str(error))
    st.stop()
st.session_state["filters"] = filters.sidebar()
st.sidebar.caption(f"Publication: `{database.parent.name}` (read-only)")
if st.session_state["filters"] is None:
    st.warning("The publication holds no project yet: land some events and run `make run`.")
    st.stop()
navigation.run()
