"""Figures of Learn page 10, "Real networks": Hessian spectra, per-seed values, and the small
read-outs the page's text formats (ranges of measured numbers). Plain Plotly dicts; the line
charts are learn_basics.series_figure.
"""

from __future__ import annotations

import numpy as np

from descent_lab.runlist import PALETTE

from .learn_basics import axis, figure_title, legend_below
from .style import FONT, GREY, clean


def span(values, digits: int = 2) -> str:
    """The range of measured ``values`` for text: "0.026 to 0.080" (one value: "0.026")."""
    v = np.asarray(values, dtype=float).ravel()
    lo, hi = f"{v.min():.{digits}g}", f"{v.max():.{digits}g}"
    return lo if lo == hi else f"{lo} to {hi}"


def percent(values) -> str:
    """Accuracies (fractions) as a percent range: "91.8 to 94.0 %"."""
    v = 100 * np.asarray(values, dtype=float).ravel()
    lo, hi = f"{v.min():.1f}", f"{v.max():.1f}"
    return f"{lo} %" if lo == hi else f"{lo} to {hi} %"


#: the spectra's signed log scale is linear within +-FLOOR of zero
FLOOR = 1e-4


def signed_log(v, floor: float) -> np.ndarray:
    """sign(v) log10(1 + |v| / floor): a log scale for numbers of either sign, linear within
    +-floor of zero. Equal factors are equal distances beyond the floor, on both sides."""
    v = np.asarray(v, dtype=float)
    return np.sign(v) * np.log10(1 + np.abs(v) / floor)


def signed_log_ticks(lo: float, hi: float, floor: float) -> dict:
    """Ticks for a signed_log axis covering [lo, hi]: 0 and +-10 floor times powers of ten (+-floor
    itself would crowd the 0)."""
    vals = [0.0]
    for sign, end in ((-1, -lo), (1, hi)):
        t = 10 * floor
        while t <= max(end, floor) * 1.0001:
            vals.append(sign * t)
            t *= 10
    vals.sort()
    text = [f"{v:g}".replace("-", "−") for v in vals]
    return {"tickvals": clean(signed_log(vals, floor)), "ticktext": text}


def spectrum_figure(spectra, *, floor: float = FLOOR, height: int = 420, title: str = "") -> dict:
    """Each Hessian's eigenvalues, smallest to largest: one line per spectrum (objects with step,
    loss and eigenvalues), the x axis the eigenvalue's rank, the y axis signed_log (so the
    negative ones, directions in which the loss curves down, show at every size)."""
    data = []
    lo = min(float(np.min(s.eigenvalues)) for s in spectra)
    hi = max(float(np.max(s.eigenvalues)) for s in spectra)
    for i, s in enumerate(spectra):
        lam = np.asarray(s.eigenvalues, dtype=float)
        color = PALETTE[i % len(PALETTE)]
        data.append({
            "type": "scatter", "x": clean(np.arange(1, lam.size + 1)), "y": clean(signed_log(lam, floor)),
            "customdata": clean(lam), "mode": "lines", "name": f"step {s.step} (loss {s.loss:.3g})",
            "line": {"color": color, "width": 3},
            "hovertemplate": f"step {s.step}<br>eigenvalue %{{x}}: %{{customdata:.3g}}<extra></extra>",
        })
    layout = {
        "height": height, "font": FONT, "hovermode": "closest",
        "xaxis": axis("eigenvalues, smallest to largest", zeroline=False),
        "yaxis": axis("eigenvalue (signed log scale)", zeroline=True, zerolinecolor=GREY, zerolinewidth=2,
                       **signed_log_ticks(lo, hi, floor)),
        "margin": {"l": 10, "r": 10, "t": 45 if title else 10, "b": 10}, "legend": legend_below(),
    }
    if title:
        layout["title"] = figure_title(title)
    return {"data": data, "layout": layout}


def dots_figure(groups: list[dict], *, ytitle: str, height: int = 380, title: str = "",
                hlines: list[dict] | None = None) -> dict:
    """One column of dots per group (a dict with label, color, values), one dot per seed, and the
    group's mean as a bar across; ``hlines`` (y, label) are dotted reference lines."""
    data = []
    for i, g in enumerate(groups):
        v = np.asarray(g["values"], dtype=float)
        data.append({
            "type": "scatter", "x": [g["label"]] * v.size, "y": clean(v), "mode": "markers",
            "name": g["label"], "marker": {"size": 14, "color": g["color"], "opacity": 0.85,
                                           "line": {"color": "white", "width": 1}},
            "showlegend": False, "hovertemplate": f"{g['label']}<br>%{{y:.3g}}<extra>one seed</extra>",
        })
        data.append({
            "type": "scatter", "x": [g["label"]], "y": [float(np.mean(v))], "mode": "markers",
            "name": "mean" if i == 0 else f"mean {i}", "showlegend": False,
            "marker": {"symbol": "line-ew", "size": 60, "line": {"color": g["color"], "width": 4}},
            "hovertemplate": f"{g['label']}: mean %{{y:.3g}}<extra></extra>",
        })
    labels = [g["label"] for g in groups]
    for h in hlines or []:
        data.append({
            "type": "scatter", "x": [labels[0], labels[-1]], "y": [float(h["y"])] * 2, "mode": "lines",
            "name": h["label"], "line": {"color": h.get("color", GREY), "width": 2, "dash": "dot"},
            "hoverinfo": "skip",
        })
    layout = {
        "height": height, "font": FONT, "hovermode": "closest",
        "xaxis": axis("", type="category"),
        "yaxis": axis(ytitle, rangemode="tozero"),
        "margin": {"l": 10, "r": 10, "t": 45 if title else 10, "b": 10}, "legend": legend_below(),
        "showlegend": bool(hlines),
    }
    if title:
        layout["title"] = figure_title(title)
    return {"data": data, "layout": layout}


def boundary_figure(x, y, xs, ys, curves: list[dict], *, height: int = 420, title: str = "") -> dict:
    """The data points (x (n, 2), labels y) and each network's decision boundary: ``curves`` are
    dicts with label, color, p (len(ys), len(xs)), the probability of class 1 on the grid
    (xs, ys), drawn as its 0.5 contour."""
    x, y = np.asarray(x, dtype=float), np.asarray(y)
    data = []
    for cls, color in ((0, "#9ecae1"), (1, "#fdae6b")):
        pts = x[y == cls]
        data.append({
            "type": "scatter", "x": clean(pts[:, 0]), "y": clean(pts[:, 1]), "mode": "markers",
            "name": f"class {cls}",
            "marker": {"size": 7, "color": color, "line": {"color": "white", "width": 0.5}},
            "hovertemplate": f"class {cls}<extra></extra>",
        })
    for c in curves:
        data.append({
            "type": "contour", "x": clean(xs), "y": clean(ys), "z": np.asarray(c["p"], dtype=float).tolist(),
            "name": c["label"], "showlegend": True, "showscale": False, "hoverinfo": "skip",
            "contours": {"start": 0.5, "end": 0.5, "size": 1, "coloring": "none"},
            "line": {"color": c["color"], "width": 4, "dash": c.get("dash", "solid")},
        })
    layout = {
        "height": height, "font": FONT, "hovermode": "closest", "plot_bgcolor": "white",
        "xaxis": axis("input 1", range=[float(xs[0]), float(xs[-1])], showgrid=False, zeroline=False,
                       constrain="domain"),
        "yaxis": axis("input 2", range=[float(ys[0]), float(ys[-1])], showgrid=False, zeroline=False,
                       scaleanchor="x", scaleratio=1, constrain="domain"),
        "margin": {"l": 10, "r": 10, "t": 45 if title else 10, "b": 10}, "legend": legend_below(),
    }
    if title:
        layout["title"] = figure_title(title)
    return {"data": data, "layout": layout}
