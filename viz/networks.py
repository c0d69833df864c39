"""The Networks page's pictures and figures: the loss on a plane as a picture (the stage,
viz/net_stage.py, draws it with the paths), the 1-D interpolation and the sharpness.

Figures are plain dicts in Plotly's JSON schema, built from arrays.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .landscape import bands_png, color_range
from .learn_basics import log_ticks
from .style import FONT, LIGHT_GREY, f32

PICTURE_PX = 480  # the landscape picture's side (the slice's grid is interpolated up to it)

def log_loss(z) -> np.ndarray:
    """What the landscape's colours and heights show: log10 of the loss (NaN where not finite)."""
    with np.errstate(all="ignore"):
        c = np.log10(np.asarray(z, dtype=float))
    return np.where(np.isfinite(c), c, np.nan)


def plane_picture(a, b, z) -> tuple[str, float, float]:
    """The slice z (len(b), len(a)), as log10 loss, as a landscape picture (data URI) and its colour
    range: bilinear between the grid points, PICTURE_PX on each side."""
    c = log_loss(z)
    lo, hi = color_range(c) if np.isfinite(c).any() else (0.0, 1.0)
    fine = Image.fromarray(np.where(np.isfinite(c), c, hi).astype(np.float32)[::-1], mode="F")
    fine = np.asarray(fine.resize((PICTURE_PX, PICTURE_PX), Image.Resampling.BILINEAR))
    return bands_png(np.clip(fine, lo, None), lo, hi), lo, hi


def interpolation_figure(alpha, train, test, labels, colors, height: int = 380) -> dict:
    """The loss along the straight line from the start (alpha 0) to each run's end point (1)."""
    data = []
    for i, label in enumerate(labels):
        for values, dash, what in ((train, "solid", "train"), (test, "dash", "test")):
            data.append({"type": "scatter", "x": f32(alpha), "y": f32(values[i]), "mode": "lines",
                         "name": label if what == "train" else f"{label} (test)", "legendgroup": f"run{i}",
                         "showlegend": what == "train",
                         "line": {"color": colors[i], "width": 2.5, "dash": dash},
                         "hovertemplate": f"{label}<br>alpha %{{x:.2f}}: {what} loss %{{y:.4g}}"
                                          "<extra></extra>"})
    finite = np.concatenate([np.ravel(train), np.ravel(test)])
    finite = finite[np.isfinite(finite)]
    top = float(np.percentile(finite, 95)) * 1.1 if finite.size else 1.0
    layout = {
        "height": height, "margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "font": FONT,
        "plot_bgcolor": "white",
        "xaxis": {"title": {"text": "alpha (0: start, 1: the run's end point)"}, "gridcolor": "#eee",
                  "zeroline": False},
        "yaxis": {"title": {"text": "loss (solid: train, dashed: test)"}, "range": [0, top],
                  "gridcolor": "#eee"},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "shapes": [{"type": "line", "x0": v, "x1": v, "yref": "paper", "y0": 0, "y1": 1,
                    "line": {"color": LIGHT_GREY, "dash": "dot"}} for v in (0, 1)],
    }
    return {"data": data, "layout": layout}


def sharpness_figure(steps, values, edge, labels, colors, height: int = 400) -> dict:
    """The top Hessian eigenvalue along each run (markers and lines) and, dotted in the run's colour,
    the edge of stability 2 / lr of each GD run (log scale)."""
    data = []
    for i, label in enumerate(labels):
        data.append({"type": "scatter", "x": steps, "y": f32(values[:, i]), "mode": "lines+markers",
                     "name": label, "legendgroup": f"run{i}", "line": {"color": colors[i], "width": 2.5},
                     "hovertemplate": f"{label}<br>step %{{x}}: sharpness %{{y:.4g}}<extra></extra>"})
        if np.isfinite(edge[:, i]).any():
            data.append({"type": "scatter", "x": steps, "y": f32(edge[:, i]), "mode": "lines",
                         "name": f"2 / lr of run {i + 1}", "legendgroup": f"run{i}",
                         "line": {"color": colors[i], "width": 2, "dash": "dot"},
                         "hovertemplate": f"2 / lr of run {i + 1}: %{{y:.4g}}<extra></extra>"})
    layout = {
        "height": height, "margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "font": FONT,
        "plot_bgcolor": "white",
        "xaxis": {"title": {"text": "step"}, "gridcolor": "#eee"},
        "yaxis": {"title": {"text": "largest Hessian eigenvalue"}, "type": "log", "gridcolor": "#eee",
                  **log_ticks([values, edge])},  # every label a whole number: no bare-digit minor ticks
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    }
    return {"data": data, "layout": layout}
