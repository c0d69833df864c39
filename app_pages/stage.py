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

from viz.stage import STAGE_CSS, STAGE_JS, module_text

KEY = "stage"
#: What the stage reports back (viz/stage.js REPORTS): each a trigger value, applied by apply_report.
REPORTS = ("lr", "start", "show3d", "present", "explain", "speed")

_component = st.components.v2.component(
    "descent_lab.stage",
    html="",
    css=STAGE_CSS.read_text(),
    js=module_text(STAGE_JS),
    isolate_styles=False,  # Plotly's stylesheet is global; in a shadow root its mode bar and hover break
)


def _finite(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and abs(v) < float("inf")


def apply_report(name: str, v, run_ids: list[int], speeds) -> None:
    """Put what the stage reported (``name``: one of REPORTS, ``v`` its value as the browser sent it)
    into the state: ``lr`` {run, lr} a finished learning-rate drag (run slot -> that run's lr),
    ``start`` {x, y}, ``show3d`` / ``present`` / ``explain`` (bools), ``speed``. Values of the wrong
    shape are ignored."""
    ss = st.session_state
    if name == "lr" and isinstance(v, dict) and isinstance(v.get("run"), int) and _finite(v.get("lr")):
        if 0 <= v["run"] < len(run_ids) and v["lr"] > 0:
            i = run_ids[v["run"]]
            ss[f"r{i}.lr"] = float(v["lr"])
            # set on purpose: kept when the run switches back to this optimizer or the surface changes
            ss[f"r{i}.own.{ss[f'r{i}.opt']}"] = float(v["lr"])
    elif name == "start" and isinstance(v, dict) and _finite(v.get("x")) and _finite(v.get("y")):
        ss[f"start.{ss.surface}.x"] = round(float(v["x"]), 3)
        ss[f"start.{ss.surface}.y"] = round(float(v["y"]), 3)
    elif name in ("show3d", "present", "explain") and isinstance(v, bool):
        ss[name] = v
    elif name == "speed" and v in speeds:
        ss.speed = v


def _on(name: str, run_ids: list[int], speeds):
    """The callback for the stage's report ``name``."""
    return lambda: apply_report(name, st.session_state[KEY].get(name), run_ids, speeds)


def stage(payload: bytes, run_ids: list[int], speeds) -> None:
    """Mount (or update) the stage with viz.stage.stage_payload's ``payload``."""
    _component(
        key=KEY,
        data=payload,
        **{f"on_{name}_change": _on(name, run_ids, speeds) for name in REPORTS},
    )
