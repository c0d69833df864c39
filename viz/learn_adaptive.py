"""Figures of the Learn pages on Nesterov, AdaGrad, RMSProp and Adam: static maps with paths,
Nesterov's look-ahead points, and line charts of per-step quantities. Plain Plotly dicts.
"""

from __future__ import annotations

import numpy as np

from descent_lab.runlist import PALETTE, run_colors
from landscapes import Surface

from .learn_basics import log_ticks
from .style import FONT, clean, landscape_image

#: the loss charts' y title, and the sentence that explains it where it appears
GAP_TITLE = "J − J* (log scale)"
GAP_NOTE = ("J* is the lowest value of the loss J (at the star), so J − J* is how far a run's loss still is "
            "above the best possible; the axis is logarithmic: each grid step is a factor, not a difference.")
#: a horizontal legend at the bottom of the figure; container-referenced, so axis titles make room
LEGEND = {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0,
          "bgcolor": "rgba(255,255,255,0.8)"}


def map_figure(surface: Surface, image: tuple[str, float, float], paths, *, height: int = 520,
               title: str = "", show_steps: bool = True, end_marks: bool = True) -> dict:
    """A static map of ``surface`` (``image`` = viz.landscape_png(surface)) with each path drawn.

    ``paths``: (label, colour, path (n, 2)) triples; a path is drawn as a line with a dot per step,
    its start as an open circle and (``end_marks``) its end as a square.
    """
    uri, _, _ = image
    (x0, x1), (y0, y1) = surface.domain
    mins = surface.minima
    data: list[dict] = [{
        "type": "scatter", "x": clean(mins[:, 0]), "y": clean(mins[:, 1]), "mode": "markers",
        "name": "minimum", "marker": {"symbol": "star", "size": 18, "color": "white",
                                      "line": {"color": "black", "width": 1.5}},
        "hovertemplate": "minimum (%{x:.3g}, %{y:.3g})<extra></extra>",
    }]
    for label, color, path in paths:
        path = np.asarray(path, dtype=float)
        data.append({
            "type": "scatter", "x": clean(path[:, 0]), "y": clean(path[:, 1]), "name": label,
            "mode": "lines+markers" if show_steps else "lines",
            "line": {"color": color, "width": 3}, "marker": {"size": 5, "color": color},
            "hovertemplate": f"{label}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>",
        })
        ends = [0, -1] if end_marks else [0]
        data.append({
            "type": "scatter", "x": clean(path[ends, 0]), "y": clean(path[ends, 1]),
            "mode": "markers", "showlegend": False, "hoverinfo": "skip",
            "marker": {"symbol": ["circle-open", "square"][: len(ends)], "size": 14, "color": color,
                       "line": {"width": 3, "color": color}},
        })
    layout = {
        "height": height, "font": FONT, "margin": {"l": 50, "r": 10, "t": 50 if title else 10, "b": 50},
        "title": {"text": title, "x": 0.5, "xref": "paper", "xanchor": "center"} if title else None,
        "xaxis": {"range": [x0, x1], "title": {"text": "x"}, "showgrid": False, "zeroline": False,
                  "constrain": "domain"},
        "yaxis": {"range": [y0, y1], "title": {"text": "y"}, "showgrid": False, "zeroline": False,
                  "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"},
        "images": [landscape_image(uri, surface.domain)],
        "legend": LEGEND,
        "plot_bgcolor": "white",
    }
    if layout["title"] is None:
        del layout["title"]
    return {"data": data, "layout": layout}


def lookahead_figure(surface: Surface, image, momentum_path, nesterov_path, lookahead, grad, step: int,
                     *, labels=("Momentum", "Nesterov"), height: int = 560) -> dict:
    """Momentum's and Nesterov's paths, Nesterov's look-ahead points up to ``step``, and at ``step``
    the current point w_t, its look-ahead point and the downhill direction measured there.

    ``nesterov_path`` (n+1, 2), ``lookahead`` (n, 2) and ``grad`` (n, 2) are the look-ahead rule's
    path, grad_point and grad.
    """
    nesterov_path = np.asarray(nesterov_path, dtype=float)
    lookahead, grad = np.asarray(lookahead, dtype=float), np.asarray(grad, dtype=float)
    n = len(lookahead)
    t = int(min(max(step, 0), n - 1))
    # no end squares: the paths stop at w_{t+1}, which is marked and labelled below (at step 1 a
    # square there would sit on the look-ahead point, where momentum's own step lands)
    mom_color, nag_color = run_colors(["momentum", "nesterov"])
    fig = map_figure(surface, image, [(labels[0], mom_color, np.asarray(momentum_path)[: t + 2]),
                                      (labels[1], nag_color, nesterov_path[: t + 2])], height=height,
                     end_marks=False)
    # a thin segment from each w_s to its look-ahead point, s <= t (None breaks the line)
    xs, ys = [], []
    for s in range(t + 1):
        xs += [nesterov_path[s, 0], lookahead[s, 0], None]
        ys += [nesterov_path[s, 1], lookahead[s, 1], None]
    fig["data"].append({
        "type": "scatter", "x": clean(np.array(xs, dtype=float)), "y": clean(np.array(ys, dtype=float)),
        "mode": "lines", "name": "w<sub>t</sub> → its look-ahead point",
        "line": {"color": "black", "width": 1.5, "dash": "dot"},
        "hoverinfo": "skip",
    })
    fig["data"].append({
        "type": "scatter", "x": clean(lookahead[: t + 1, 0]), "y": clean(lookahead[: t + 1, 1]),
        "mode": "markers", "name": "look-ahead points (gradient taken here)",
        "marker": {"symbol": "x-thin", "size": 9, "color": "black", "line": {"width": 2, "color": "black"}},
        "hovertemplate": "look-ahead point<br>(%{x:.3g}, %{y:.3g})<extra></extra>",
    })
    (x0, x1), (y0, y1) = surface.domain
    g = grad[t]
    norm = float(np.hypot(*g))
    la = lookahead[t]
    if np.isfinite(norm) and norm > 0 and np.all(np.isfinite(la)):
        tip = la - 0.12 * min(x1 - x0, y1 - y0) * g / norm
        fig["data"].append({
            "type": "scatter", "x": clean([la[0], tip[0]]), "y": clean([la[1], tip[1]]),
            "mode": "lines+markers", "name": "downhill at the look-ahead point",
            "line": {"color": PALETTE[2], "width": 4},
            "marker": {"symbol": ["circle", "arrow"], "size": [1, 16], "angleref": "previous",
                       "color": PALETTE[2]},
            "hoverinfo": "skip",
        })
    w = nesterov_path[t]
    points = [w, la, nesterov_path[t + 1]]
    # each label on the side away from the nearer edge of the map, so none runs off it, and above, level
    # with or below its point as the point is the highest, middle or lowest of the three: two points
    # close together (w_2 and w_3 as the run meets the valley floor) get their labels apart
    sides = ["right" if np.isfinite(p[0]) and p[0] < (x0 + x1) / 2 else "left" for p in points]
    by_height = sorted(range(3), key=lambda i: -points[i][1] if np.isfinite(points[i][1]) else np.inf)
    levels = dict(zip(by_height, ("top", "middle", "bottom"), strict=True))
    fig["data"].append({
        "type": "scatter", "x": clean([w[0], la[0], nesterov_path[t + 1, 0]]),
        "y": clean([w[1], la[1], nesterov_path[t + 1, 1]]), "mode": "markers+text", "showlegend": False,
        "text": [f"w<sub>{t}</sub>", "look-ahead", f"w<sub>{t + 1}</sub>"],
        "textposition": [f"{levels[i]} {h}" for i, h in enumerate(sides)],
        "cliponaxis": False,
        "textfont": {"size": 16, "color": "black"},
        "marker": {"size": [15, 13, 11], "color": [PALETTE[0], "white", PALETTE[0]],
                   "line": {"color": "black", "width": 2}},
        "hoverinfo": "skip",
    })
    return fig


def series_figure(series, *, title: str = "", ytitle: str = "", xtitle: str = "step", log_y: bool = False,
                  log_x: bool = False, height: int = 360, yrange=None, x=None) -> dict:
    """Line chart of per-step series: ``series`` is a list of dicts with label, colour, y and
    optionally x, dash, mode and symbol (a marker symbol). ``yrange`` is in data units (log10 is
    applied for a log axis)."""
    data = []
    for s in series:
        y = np.asarray(s["y"], dtype=float)
        xs = np.asarray(s.get("x", x if x is not None else np.arange(1, len(y) + 1)), dtype=float)
        data.append({
            "type": "scatter", "x": clean(xs), "y": clean(y), "mode": s.get("mode", "lines"),
            "name": s["label"], "line": {"color": s["color"], "width": 3, "dash": s.get("dash", "solid")},
            "marker": {"size": 11 if "symbol" in s else 8, "color": s["color"],
                       "symbol": s.get("symbol", "circle"), "line": {"color": s["color"], "width": 2}},
            "hovertemplate": f"{s['label']}<br>{xtitle} %{{x:.4g}}: %{{y:.4g}}<extra></extra>",
        })
    yaxis: dict = {"title": {"text": ytitle}, "type": "log" if log_y else "linear", "automargin": True}
    if log_y:
        yaxis.update(log_ticks([s["y"] for s in series],
                               **({"lo": yrange[0], "hi": yrange[1]} if yrange is not None else {})))
    if yrange is not None:
        lo, hi = yrange
        yaxis["range"] = [float(np.log10(lo)), float(np.log10(hi))] if log_y else [float(lo), float(hi)]
    xaxis: dict = {"title": {"text": xtitle}, "type": "log" if log_x else "linear", "automargin": True}
    if log_x:
        xaxis.update(log_ticks([d["x"] for d in data if d["x"]]))
    layout = {
        "height": height, "font": FONT, "margin": {"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
        "xaxis": xaxis, "yaxis": yaxis, "hovermode": "closest", "legend": LEGEND,
    }
    if title:
        layout["title"] = {"text": title, "x": 0.5, "xref": "paper", "xanchor": "center", "y": 0.98,
                           "yanchor": "top"}
    return {"data": data, "layout": layout}


def rate_series(label: str, color: str, effective_lr) -> list[dict]:
    """The two per-parameter rates of one run as series: x solid, y dashed. When the two rates are
    equal at every step (plain GD: one rate for all weights) a dashed y would lie exactly on the
    solid x and vanish: y is then drawn as dots on every tenth step, over the x line, and its legend
    entry says it is the same rate."""
    eff = np.asarray(effective_lr, dtype=float)
    x = {"label": f"{label}: x", "color": color, "y": eff[:, 0]}
    if np.array_equal(eff[:, 0], eff[:, 1]):
        every = np.arange(0, len(eff), 10)
        return [x, {"label": f"{label}: y (the same rate)", "color": color, "y": eff[every, 1],
                    "x": every + 1, "mode": "markers",
                    "symbol": "circle-open"}]
    return [x, {"label": f"{label}: y", "color": color, "y": eff[:, 1], "dash": "dash"}]


def positive_range(*arrays, pad: float = 1.5) -> tuple[float, float]:
    """A common log-axis range covering the finite positive values of ``arrays``."""
    vals = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    if not vals.size:
        return 1e-3, 1.0
    return float(vals.min() / pad), float(vals.max() * pad)


def gap_series(surface: Surface, runs) -> list[dict]:
    """Loss-above-the-minimum curves, J - J* floored at 1e-16 for a log axis, of ``runs``
    ((label, colour, trajectory) each)."""
    return [{"label": label, "color": color, "y": np.maximum(tr.loss - surface.global_min, 1e-16),
             "x": np.arange(len(tr.loss))} for label, color, tr in runs]
