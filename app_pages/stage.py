"""The Playground's stage as a Streamlit component: map, loss chart, 3-D view and playback.

One components.v2 component, inline (viz/stage.js and viz/stage.css, the module the exported page
and the notebook widget load too; no build step), mounted with a stable key so it stays mounted and
updates in place. plotly.js comes from this server, never a CDN: static/plotly.min.js beside the
entry script (served at /app/static/ with server.enableStaticServing, cached by the browser). It is
the pinned plotly package's own file, kept in the repository and shipped in the wheel
(tests/test_install.py checks it is that file), so nothing is written at run time: the app runs
from a read-only install.

The data goes as bytes (viz.stage.stage_payload: a JSON header and the arrays' bytes), which
Streamlit forwards as they are: no base64, no JSON of the numbers, no search for data frames in
them (that search imports pandas, 0.4 s of a cold first load).

What the stage reports back arrives as trigger values and is applied by callbacks before the
page runs: ``lr`` {run, lr} when a learning-rate drag ends, ``start`` {x, y} from a click or the
dragged start ring, ``show3d``, ``present`` and ``explain`` (bools), ``speed``.
"""

from __future__ import annotations

import streamlit as st

from viz.stage import STAGE_CSS, STAGE_JS

KEY = "stage"

_component = st.components.v2.component(
    "descent_lab.stage",
    html="",
    css=STAGE_CSS.read_text(),
    js=STAGE_JS.read_text(),
    isolate_styles=False,  # Plotly's stylesheet is global; in a shadow root its mode bar and hover break
)


def _start(name: str):
    def apply() -> None:
        v = st.session_state[KEY].get("start")
        if isinstance(v, dict) and _finite(v.get("x")) and _finite(v.get("y")):
            surface = st.session_state.surface
            st.session_state[f"start.{surface}.x"] = round(float(v["x"]), 3)
            st.session_state[f"start.{surface}.y"] = round(float(v["y"]), 3)
    return apply


def _finite(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and abs(v) < float("inf")


def on_lr(run_ids: list[int]):
    """The callback for a finished learning-rate drag: run slot -> that run's lr in the state."""
    def apply() -> None:
        v = st.session_state[KEY].get("lr")
        if isinstance(v, dict) and isinstance(v.get("run"), int) and _finite(v.get("lr")):
            slot = v["run"]
            if 0 <= slot < len(run_ids) and v["lr"] > 0:
                i = run_ids[slot]
                st.session_state[f"r{i}.lr"] = float(v["lr"])
                # set on purpose: kept when the run switches back to this optimizer or the surface changes
                st.session_state[f"r{i}.own.{st.session_state[f'r{i}.opt']}"] = float(v["lr"])
    return apply


def _flag(name: str):
    def apply() -> None:
        v = st.session_state[KEY].get(name)
        if isinstance(v, bool):
            st.session_state[name] = v
    return apply


def _speed(speeds):
    def apply() -> None:
        v = st.session_state[KEY].get("speed")
        if v in speeds:
            st.session_state.speed = v
    return apply


def stage(payload: bytes, run_ids: list[int], speeds) -> None:
    """Mount (or update) the stage with viz.stage.stage_payload's ``payload``."""
    _component(
        key=KEY,
        data=payload,
        on_lr_change=on_lr(run_ids),
        on_start_change=_start("start"),
        on_show3d_change=_flag("show3d"),
        on_present_change=_flag("present"),
        on_explain_change=_flag("explain"),
        on_speed_change=_speed(speeds),
    )
