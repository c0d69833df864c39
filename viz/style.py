"""One look for every figure: fonts, greys and the landscape picture's layout.

The run colours are the run-list's (descent_lab.runlist: PALETTE, run_colors).
"""

from __future__ import annotations

import numpy as np
from plotly.colors import hex_to_rgb

FONT = {"size": 16}
TITLE_FONT = {"size": 18}
TICK_FONT = {"size": 15}
GREY = "#666666"  # reference lines, notes
LIGHT_GREY = "#BBBBBB"  # diverged cells, data points in the background
DARK_GREY = "#333333"  # crosses and outlines on light grey


F32_MAX = float(np.finfo(np.float32).max)


def f32(a) -> np.ndarray:
    """``a`` as drawn and sent (Plotly's binary arrays, the stages' payloads): little-endian float32,
    half the bytes and far more precision than pixels; float64 where a value would overflow float32
    (a diverging run), so no number is changed beyond rounding. NaN and inf stay."""
    a = np.asarray(a, dtype=float)
    fits = not a.size or np.nanmax(np.abs(np.where(np.isfinite(a), a, 0))) < F32_MAX
    return np.ascontiguousarray(a, dtype="<f4" if fits else "<f8")


def rgba(hex_color: str, alpha: float) -> str:
    r, g, b = hex_to_rgb(hex_color)
    return f"rgba({r},{g},{b},{alpha})"


def clean(a) -> list:
    """Floats for JSON, NaN / inf as gaps (None)."""
    a = np.asarray(a, dtype=float)
    return [float(v) if np.isfinite(v) else None for v in a.ravel()]


def landscape_image(uri: str, domain, xref: str = "x", yref: str = "y") -> dict:
    """The layout image that lays the landscape picture (viz.landscape_png) under axes xref/yref."""
    (x0, x1), (y0, y1) = domain
    return {"source": uri, "xref": xref, "yref": yref, "x": x0, "y": y1, "sizex": x1 - x0,
            "sizey": y1 - y0, "sizing": "stretch", "layer": "below"}
