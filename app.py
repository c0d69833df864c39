"""Descent Lab: the Streamlit entry point (navigation only).

The pages live in app_pages/, not pages/: Streamlit serves a folder named pages/ as
its legacy multipage app when a deep link (/explore) is the first request, bypassing
this navigation.
"""

from pathlib import Path

import streamlit as st

from app_pages.blas_threads import one_blas_thread
from app_pages.frozen_imports import freeze_new_imports
from app_pages.learn_path import LEARN_PAGES

# a local file, served by this server: a ":material/...:" page icon is fetched from Google's font CDN
ICON = Path(__file__).parent / "assets" / "icon.png"
freeze_new_imports()  # Streamlit's own modules: the page's imports are not slowed by collections over them
one_blas_thread()  # the server's sessions share the cores with the browsers they serve
st.set_page_config(page_title="Descent Lab", page_icon=str(ICON), layout="wide")

pages = {
    "Descent Lab": [
        st.Page("app_pages/playground.py", title="Playground", icon=":material/sports_esports:",
                default=True),
        st.Page("app_pages/explore.py", title="Explore", icon=":material/grid_on:"),
        st.Page("app_pages/networks.py", title="Networks", icon=":material/hub:"),
    ],
    "Learn": [st.Page(path, title=title, icon=icon) for path, title, icon in LEARN_PAGES],
}
st.navigation(pages, position="top").run()
freeze_new_imports()  # after the page: what it imported stays out of the collector's way
