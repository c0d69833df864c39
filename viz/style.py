"""One look for every figure: fonts, greys, the run colours, and the landscape picture's layout.

Colours: each optimizer has its own (its registry entry's), on every page; a second run of
the same optimizer, or of another form of it, takes the first Okabe-Ito colour not yet used.
"""

from __future__ import annotations

import numpy as np
from plotly.colors import hex_to_rgb

import optimizers

#: Okabe-Ito, safe for colour-blind viewers (yellow left out: invisible on white)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
FONT = {"size": 16}
TITLE_FONT = {"size": 18}
TICK_FONT = {"size": 15}
GREY = "#666666"  # reference lines, notes
LIGHT_GREY = "#BBBBBB"  # diverged cells, data points in the background
DARK_GREY = "#333333"  # crosses and outlines on light grey


def run_colors(names, previous=None) -> list[str]:
    """The colour of each run of optimizers ``names`` (in order): one colour per optimizer, stable
    across edits. ``previous``: the last assignment, one ``(optimizer, colour)`` per run in the same
    order (None for a run that is new). A run that keeps its optimizer keeps its colour; any other
    run takes its optimizer's colour if no run holds it, else the first free palette colour.
    Without ``previous`` the earlier run of a repeated optimizer gets its colour."""
    previous = list(previous or ())
    previous += [None] * (len(names) - len(previous))
    colors: list[str | None] = [None] * len(names)
    for i, (name, prev) in enumerate(zip(names, previous, strict=False)):
        if prev is not None and prev[0] == name and prev[1] not in colors:
            colors[i] = prev[1]
    for i, name in enumerate(names):
        if colors[i] is None:
            own = optimizers.rule(name).color
            colors[i] = own if own not in colors else next((c for c in PALETTE if c not in colors), own)
    return colors


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
