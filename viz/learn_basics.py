"""Figures of the first Learn pages (gradient descent, batches, EWMA, momentum): static maps with
paths, line charts, the data with fitted lines, EWMA weights. Plain Plotly dicts, large fonts for
a projector, colours from PALETTE. The numbers the pages print come from descent_lab.learn.
"""

from __future__ import annotations

import re

import numpy as np

from descent_lab.learn import path_length, samples_per_update
from descent_lab.runlist import PALETTE
from landscapes import Surface

from .style import FONT, GREY, LIGHT_GREY, clean, landscape_image

TICKS = {"size": 15}


def figure_title(text: str) -> dict:
    return {"text": text, "x": 0.5, "xref": "paper", "xanchor": "center", "y": 0.98, "yanchor": "top",
            "font": {"size": 19}}


def axis(title: str, **extra) -> dict:
    return {"title": {"text": title}, "tickfont": TICKS, "automargin": True, **extra}


def legend_below() -> dict:
    """A horizontal legend at the bottom of the figure (container-referenced, so the plot area and
    its axis title make room for it instead of sitting under it)."""
    return {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0,
            "font": {"size": 15}, "bgcolor": "rgba(255,255,255,0.85)"}


def log_ticks(values, *, lo=None, hi=None) -> dict:
    """Tick values and plain labels for a log axis over the finite positive ``values`` (or
    [lo, hi]): 1, 2, 5 in every decade when the span is at most three decades, else powers of
    ten (every other one beyond eight decades), written out from 0.001 to 10000 and as 10^k
    beyond. Labels read as numbers: 0.5, not "5"."""
    v = np.concatenate([np.asarray(a, dtype=float).ravel() for a in values]) if len(values) else np.ones(1)
    v = v[np.isfinite(v) & (v > 0)]
    lo = float(lo if lo is not None else (v.min() if v.size else 1.0))
    hi = float(hi if hi is not None else (v.max() if v.size else 10.0))
    d0, d1 = int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi)))
    if d1 - d0 <= 3:
        ticks = [m * 10.0**d for d in range(d0, d1 + 1) for m in (1, 2, 5)]
    else:
        every = 1 if d1 - d0 <= 8 else 2
        ticks = [10.0**d for d in range(d0, d1 + 1) if d % every == 0]
    ticks = [t for t in ticks if lo / 1.0001 <= t <= hi * 1.0001] or [10.0**d0]
    if d1 - d0 <= 3 or (ticks[0] >= 1e-3 and ticks[-1] <= 1e4):
        text = [f"{t:g}" for t in ticks]
    else:
        text = [f"10<sup>{round(np.log10(t))}</sup>" for t in ticks]
    return {"tickvals": ticks, "ticktext": text}


#: a formula's form label, as the registry and the pages write it: \quad \text{(average form)}
FORM_LABEL = re.compile(r"\s*\\quad\s*(\\text\{\(.*?form\)\})")


def stacked(*lines: str) -> str:
    """Formula lines as one gathered block, a form label (``\\quad \\text{(… form)}``) moved to a line
    of its own at the end: a phone's narrow column keeps the whole formula and its label."""
    tex = r" \\ ".join(lines)
    m = FORM_LABEL.search(tex)
    if m:
        tex = tex[:m.start()] + tex[m.end():] + r" \\ " + m.group(1)
    return r"\begin{gathered} " + tex + r" \end{gathered}"


def step_text(step) -> str:
    """A step number as the pages print it: "not within the run" for -1 (never)."""
    return str(int(step)) if int(step) >= 0 else "not within the run"


def signed(value: float, digits: int = 2) -> str:
    """A number with a typographic minus sign, for text: signed(-0.96) == "−0.96"."""
    return f"{value:.{digits}f}".replace("-", "−")


# --- maps ----------------------------------------------------------------------------------------


def map_figure(surface: Surface, image: tuple[str, float, float], paths: list[dict], *,
               height: int = 480, title: str = "", legend: bool = True, step_dots: bool = False,
               axis_titles: tuple[str, str] = ("x", "y")) -> dict:
    """A static map of ``surface`` (``image`` = viz.landscape_png(surface)) with paths drawn on it.

    Each path is a dict: label, color, path (n, 2) and optionally dash, width, opacity, diverged
    (bool) and casing (bool: a white line under it, so it stays visible over paths drawn before it).
    The start is an open circle, the end a filled square, or an x if the run diverged (or its path
    ends in NaNs).
    """
    uri, _, _ = image
    (x0, x1), (y0, y1) = surface.domain
    mins = surface.minima
    data: list[dict] = [{
        "type": "scatter", "x": clean(mins[:, 0]), "y": clean(mins[:, 1]), "mode": "markers",
        "name": "minimum" if len(mins) == 1 else "minima", "showlegend": False,
        "marker": {"symbol": "star", "size": 18, "color": "white", "line": {"color": "black", "width": 1.5}},
        "hovertemplate": "minimum (%{x:.3g}, %{y:.3g})<extra></extra>",
    }]
    for p in paths:
        path = np.asarray(p["path"], dtype=float)
        color = p["color"]
        if p.get("casing"):
            data.append({"type": "scatter", "x": clean(path[:, 0]), "y": clean(path[:, 1]), "mode": "lines",
                         "showlegend": False, "hoverinfo": "skip",
                         "line": {"color": "white", "width": p.get("width", 3) + 4}})
        data.append({
            "type": "scatter", "x": clean(path[:, 0]), "y": clean(path[:, 1]), "name": p["label"],
            "mode": "lines+markers" if step_dots else "lines", "opacity": p.get("opacity", 1.0),
            "line": {"color": color, "width": p.get("width", 3), "dash": p.get("dash", "solid")},
            "marker": {"size": 6, "color": color},
            "hovertemplate": f"{p['label']}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>",
        })
        finite = path[np.all(np.isfinite(path), axis=1)]
        if len(finite):
            ended = bool(p.get("diverged", False)) or len(finite) < len(path)
            data.append({
                "type": "scatter", "x": clean([finite[0, 0], finite[-1, 0]]),
                "y": clean([finite[0, 1], finite[-1, 1]]), "mode": "markers", "showlegend": False,
                "hoverinfo": "skip",
                "marker": {"symbol": ["circle-open", "x" if ended else "square"], "size": 15, "color": color,
                           "line": {"width": 3, "color": color}},
            })
    layout = {
        "height": height, "font": FONT, "plot_bgcolor": "white", "showlegend": legend,
        "margin": {"l": 10, "r": 10, "t": 45 if title else 10, "b": 10},
        "xaxis": axis(axis_titles[0], range=[x0, x1], showgrid=False, zeroline=False, constrain="domain"),
        "yaxis": axis(axis_titles[1], range=[y0, y1], showgrid=False, zeroline=False, scaleanchor="x",
                       scaleratio=1, constrain="domain"),
        "images": [landscape_image(uri, surface.domain)],
        "legend": legend_below(),
        "hovermode": "closest",
    }
    if title:
        layout["title"] = figure_title(title)
    return {"data": data, "layout": layout}


def run_maps(surface: Surface, image: tuple[str, float, float], paths: list[dict], *, height: int = 460,
             axis_titles: tuple[str, str] = ("x", "y")) -> list[dict]:
    """One map per path (dicts as for map_figure), each titled with its run's label in its colour and
    no legend: runs whose paths nearly coincide (batch and mini-batch GD) each stay fully visible,
    and the maps share the surface's domain, so their shakes compare at one scale."""
    figs = []
    for p in paths:
        fig = map_figure(surface, image, [p], height=height, title=p["label"], legend=False,
                         axis_titles=axis_titles)
        fig["layout"]["title"]["font"]["color"] = p["color"]
        figs.append(fig)
    return figs


# --- line charts ---------------------------------------------------------------------------------


def series_figure(series: list[dict], *, title: str = "", xtitle: str = "step", ytitle: str = "",
                  log_y: bool = False, log_x: bool = False, height: int = 380, yrange=None,
                  hlines: list[dict] | None = None) -> dict:
    """Line chart: each series a dict with label, color, y and optionally x (default 0, 1, ...),
    dash, mode ("lines", "markers", "lines+markers"), width, legend (False: not listed).
    ``hlines``: dicts with y, label, color drawn as dotted horizontal lines across the series' x
    range, named in the legend. ``yrange`` in
    data units (log10 taken on a log axis)."""
    data, xs = [], []
    for s in series:
        y = np.asarray(s["y"], dtype=float)
        x = np.asarray(s["x"], dtype=float) if "x" in s else np.arange(len(y), dtype=float)
        xs.append(x[np.isfinite(x)])
        if log_y:
            y = np.where(y > 0, y, np.nan)
        data.append({
            "type": "scatter", "x": clean(x), "y": clean(y), "mode": s.get("mode", "lines"),
            "name": s["label"], "showlegend": s.get("legend", True),
            "line": {"color": s["color"], "width": s.get("width", 3),
                                         "dash": s.get("dash", "solid")},
            "marker": {"size": s.get("size", 7), "color": s["color"]},
            "hovertemplate": f"{s['label']}<br>{xtitle} %{{x:.4g}}: %{{y:.4g}}<extra></extra>",
        })
    for h in hlines or []:  # dotted reference lines, named in the legend (never written on the curves)
        every_x = np.concatenate(xs) if xs else np.zeros(1)
        data.append({
            "type": "scatter", "x": [float(every_x.min()), float(every_x.max())], "y": [float(h["y"])] * 2,
            "mode": "lines", "name": h["label"],
            "line": {"color": h.get("color", GREY), "width": 2, "dash": "dot"}, "hoverinfo": "skip",
        })
    yaxis = axis(ytitle, type="log" if log_y else "linear")
    if log_y:
        ys = [s["y"] for s in series] + [[h["y"]] for h in hlines or []]
        yaxis.update(log_ticks(ys, **({"lo": yrange[0], "hi": yrange[1]} if yrange is not None else {})))
    if yrange is not None:
        lo, hi = yrange
        yaxis["range"] = [float(np.log10(lo)), float(np.log10(hi))] if log_y else [float(lo), float(hi)]
    xaxis = axis(xtitle, type="log" if log_x else "linear")
    if log_x:
        xaxis.update(log_ticks(xs))
    layout = {
        "height": height, "font": FONT, "hovermode": "closest", "xaxis": xaxis, "yaxis": yaxis,
        "margin": {"l": 10, "r": 10, "t": 45 if title else 10, "b": 10}, "legend": legend_below(),
    }
    if title:
        layout["title"] = figure_title(title)
    return {"data": data, "layout": layout}


# --- page 2: the data and the fitted lines -------------------------------------------------------


def fit_figure(x, y, lines: list[dict], *, height: int = 440, title: str = "") -> dict:
    """The samples (x_i, y_i) as dots and, per run, its current line y = w x + b.

    ``lines``: dicts with label, color, w, b and optionally dash and width."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lo, hi = float(x.min()), float(x.max())
    pad = 0.05 * (hi - lo)
    xs = np.array([lo - pad, hi + pad])
    data = [{
        "type": "scatter", "x": clean(x), "y": clean(y), "mode": "markers", "name": "data",
        "marker": {"size": 9, "color": LIGHT_GREY, "line": {"color": "white", "width": 1}},
        "hovertemplate": "x = %{x:.3g}, y = %{y:.3g}<extra>sample</extra>",
    }]
    for ln in lines:
        w, b = float(ln["w"]), float(ln["b"])
        ys = w * xs + b if np.isfinite(w) and np.isfinite(b) else np.full(2, np.nan)
        data.append({
            "type": "scatter", "x": clean(xs), "y": clean(ys), "mode": "lines", "name": ln["label"],
            "line": {"color": ln["color"], "width": ln.get("width", 4), "dash": ln.get("dash", "solid")},
            "hovertemplate": f"{ln['label']}: y = {w:.3g} x + {b:.3g}<extra></extra>",
        })
    ypad = 0.1 * (float(y.max()) - float(y.min()))
    layout = {
        "height": height, "font": FONT, "hovermode": "closest",
        "xaxis": axis("x (feature)", range=[xs[0], xs[1]], zeroline=False),
        "yaxis": axis("y (target)", range=[float(y.min()) - ypad, float(y.max()) + ypad], zeroline=False),
        "margin": {"l": 10, "r": 10, "t": 45 if title else 10, "b": 10}, "legend": legend_below(),
    }
    if title:
        layout["title"] = figure_title(title)
    return {"data": data, "layout": layout}


def cost_rows(runs: list[dict], n: int) -> list[dict]:
    """One table row per run: ``runs`` are dicts with label, batch_size (None = all n) and
    trajectory (an optimizers.Trajectory on a dataset surface)."""
    rows = []
    for r in runs:
        tr = r["trajectory"]
        per = samples_per_update(r["batch_size"], n)
        rows.append({
            "run": r["label"],
            "samples per update": per,
            "updates": tr.steps,
            "samples seen": per * tr.steps,
            "epochs": per * tr.steps / n,
            "path length": path_length(tr.path),
            "final loss": float(tr.loss[-1]),
        })
    return rows


# --- page 3: EWMA --------------------------------------------------------------------------------


def ewma_figure(theta, v, *, beta: float, v_hat=None, mark: int | None = None, height: int = 440) -> dict:
    """The series theta_1 .. theta_n as dots, its EWMA V_t as a line and optionally the corrected
    V_t / (1 - beta^t) (dashed); ``mark`` (1-based t) is highlighted with a vertical line."""
    theta = np.asarray(theta, dtype=float)
    t = np.arange(1, len(theta) + 1)
    data = [
        {"type": "scatter", "x": clean(t), "y": clean(theta), "mode": "markers", "name": "data θₜ",
         "marker": {"size": 7, "color": LIGHT_GREY},
         "hovertemplate": "θ<sub>%{x}</sub> = %{y:.3g}<extra></extra>"},
        {"type": "scatter", "x": clean(t), "y": clean(v), "mode": "lines",
         "name": f"EWMA Vₜ (β = {beta:g})", "line": {"color": PALETTE[0], "width": 4},
         "hovertemplate": "V<sub>%{x}</sub> = %{y:.3g}<extra></extra>"},
    ]
    if v_hat is not None:
        data.append({
            "type": "scatter", "x": clean(t), "y": clean(v_hat), "mode": "lines",
            "name": "corrected Vₜ / (1 − βᵗ)", "line": {"color": PALETTE[1], "width": 4, "dash": "dash"},
            "hovertemplate": "corrected V<sub>%{x}</sub> = %{y:.3g}<extra></extra>",
        })
    shapes = []
    if mark is not None:
        shapes.append({"type": "line", "xref": "x", "x0": mark, "x1": mark, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": "black", "width": 2, "dash": "dot"}})
    layout = {
        "height": height, "font": FONT, "hovermode": "closest",
        "xaxis": axis("t (day)", range=[0, len(theta) + 1]),
        "yaxis": axis("value", rangemode="tozero"),
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "legend": legend_below(), "shapes": shapes,
    }
    return {"data": data, "layout": layout}


def weights_figure(w, *, t: int, window: float, height: int = 380) -> dict:
    """Bars of the weights V_t gives to theta_t, theta_{t-1}, ..., theta_1 (``w`` from
    optimizers.ewma.weights), with the effective window 1 / (1 - beta) marked."""
    w = np.asarray(w, dtype=float)
    k = np.arange(len(w))
    inside = k < window
    data = [{
        "type": "bar", "x": clean(t - k), "y": clean(w), "name": "weight (1 − β) βᵏ",
        "marker": {"color": [PALETTE[0] if i else "#a6cbe3" for i in inside], "line": {"width": 0}},
        "customdata": clean(k),
        "hovertemplate": "θ<sub>%{x}</sub> (k = %{customdata}): weight %{y:.3g}<extra></extra>",
    }]
    shapes, notes = [], []
    if np.isfinite(window) and window <= len(w):
        edge = t - window + 0.5
        shapes.append({"type": "line", "xref": "x", "x0": edge, "x1": edge, "yref": "paper", "y0": 0,
                       "y1": 1, "line": {"color": PALETTE[1], "width": 3, "dash": "dash"}})
        notes.append({"xref": "x", "x": edge, "yref": "paper", "y": 1, "xanchor": "right", "yanchor": "top",
                      "text": f"window 1/(1−β) = {window:.3g} ", "showarrow": False,
                      "font": {"color": PALETTE[1]}})
    layout = {
        "height": height, "font": FONT, "bargap": 0.1,
        "xaxis": axis("the value θ it weighs (t − k)", range=[0.5, t + 0.5]),
        "yaxis": axis("its weight in Vₜ", rangemode="tozero"),
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "showlegend": False,
        "shapes": shapes, "annotations": notes,
    }
    return {"data": data, "layout": layout}
