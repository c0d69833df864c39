"""The Networks page's stage as a Streamlit component: the weight-space plane, the output shading, the
network with its unit maps, the curves and the projection's numbers, playing every step in the browser.

One components.v2 component, inline (viz/net_stage.js and viz/net_stage.css, beside the payload's
builder viz/net_stage.py; canvas only, no plotly.js), mounted with a stable key so it stays mounted
and repaints in place when a setting changes. The data goes as viz.stage.pack's bytes of
viz.net_stage.net_stage_data (packed once a view, in the page's cache). What it reports back is
applied by a callback before the page runs: ``points`` {points: [[x, y, class], ...], over} when the
user's drawing pauses; ``lr`` {run, value} when the viewer steps the shown run's η with − or +.
"""

from __future__ import annotations

import streamlit as st

from viz.net_stage import NET_STAGE_CSS, NET_STAGE_JS
from viz.stage import module_text

KEY = "net.stage"

_component = st.components.v2.component(
    "descent_lab.net_stage",
    html="",
    css=NET_STAGE_CSS.read_text(),
    js=module_text(NET_STAGE_JS),
)


def net_stage(payload: bytes, on_points, on_lr) -> None:
    """Mount (or update) the stage with ``payload``, viz.stage.pack of viz.net_stage.net_stage_data;
    ``on_points(value)`` gets what the user drew, ``on_lr(value)`` the η a − or + chose (unchecked: the
    callbacks check them)."""
    _component(key=KEY, data=payload,
               on_points_change=lambda: on_points(st.session_state[KEY].get("points")),
               on_lr_change=lambda: on_lr(st.session_state[KEY].get("lr")))
