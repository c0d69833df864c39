"""Descent Lab: the Streamlit entry point (navigation only)."""

import streamlit as st

from pages.learn_path import available

st.set_page_config(page_title="Descent Lab", page_icon=":material/landscape:", layout="wide")

pages = {
    "Descent Lab": [
        st.Page("pages/playground.py", title="Playground", icon=":material/sports_esports:", default=True),
        st.Page("pages/explore.py", title="Explore", icon=":material/grid_on:"),
    ],
    "Learn": [st.Page(path, title=title, icon=icon) for path, title, icon in available()],
}
st.navigation({k: v for k, v in pages.items() if v}).run()
