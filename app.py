"""Descent Lab: the Streamlit entry point (navigation only)."""

import streamlit as st

st.set_page_config(page_title="Descent Lab", page_icon=":material/landscape:", layout="wide")

pages = {
    "Descent Lab": [st.Page("pages/playground.py", title="Playground", icon="🎯", default=True)],
}
st.navigation(pages).run()
