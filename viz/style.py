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
