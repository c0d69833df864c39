"""The Explore page's figures: sweep maps, fair comparisons, basins of attraction, noisy clouds.

Plain dicts in Plotly's JSON schema, built from arrays (the page computes the
batches with optimizers.run). Diverged runs are data: every figure shows them
as their own category (grey, crossed cells; crosses; gaps), never as errors.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from descent_lab.runlist import PALETTE
from landscapes import Surface

from .landscape import COLORMAP
from .learn_basics import log_ticks
from .style import DARK_GREY, FONT, GREY, LIGHT_GREY, TICK_FONT, TITLE_FONT, f32, landscape_image, rgba

DIVERGED = LIGHT_GREY  # cell colour of diverged runs (with dark crosses on top)
CROSS = DARK_GREY
NOT_CONVERGED = "#FFFFFF"
FLOOR = 1e-16  # f - f* below this is drawn at this value (log axes)

#: how a swept setting is laid out: log10(v), linear, or -log10(1 - v) (betas near 1)
SCALES = ("log", "linear", "log1m")


def to_axis(values, scale: str) -> np.ndarray:
    """Positions of ``values`` on a sweep axis of ``scale`` (cells are evenly spaced there)."""
    v = np.asarray(values, dtype=float)
    with np.errstate(all="ignore"):
        if scale == "log":
            return np.log10(v)
        if scale == "log1m":
            return -np.log10(1 - v)
    return v


def from_axis(u, scale: str) -> np.ndarray:
    """Inverse of ``to_axis``."""
    u = np.asarray(u, dtype=float)
    if scale == "log":
        return 10.0**u
    if scale == "log1m":
        return 1 - 10.0 ** (-u)
    return u


def _ticks(values, scale: str) -> dict:
    """Readable ticks for a sweep axis: decades, 0.9/0.99/..., or Plotly's own."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if scale == "linear":
        return {}
    if scale == "log":
        exps = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
        nice = [10.0**e for e in exps if lo * (1 - 1e-9) <= 10.0**e <= hi * (1 + 1e-9)]
        if len(nice) < 2:
            nice = [lo, hi]
        text = [f"{v:g}" for v in nice]
    else:
        u_lo, u_hi = to_axis([lo, hi], scale)
        # (1 - 0.999 is 0.0010000000000000009: without the margin 0.999's tick is lost)
        nice = [1 - 10.0**-k for k in range(math.ceil(u_lo - 1e-9), math.floor(u_hi + 1e-9) + 1)]
        if len(nice) < 2:
            nice = [lo, hi]
        text = [f"{v:.6g}" for v in nice]
    return {"tickvals": [float(t) for t in to_axis(nice, scale)], "ticktext": text}


def _log_bar_ticks(lo: float, hi: float) -> dict:
    """Ticks for a colour bar of log10 values from lo to hi: powers of ten (at most eight) over a
    wide span; over three decades or less 1, 2, 5 in each decade, and at least the two ends."""
    exps = list(range(math.ceil(lo), math.floor(hi) + 1))
    if len(exps) >= 4:
        exps = exps[::max(1, math.ceil(len(exps) / 8))]
        return {"tickvals": exps, "ticktext": [f"1e{e}" if e else "1" for e in exps]}
    ticks = log_ticks([], lo=10.0**lo, hi=10.0**hi)
    vals, text = [math.log10(t) for t in ticks["tickvals"]], ticks["ticktext"]
    if len(vals) < 2:  # less than a factor 2 between the ends: label the ends
        vals, text = [lo, hi], [f"{10.0**lo:.3g}", f"{10.0**hi:.3g}"]
    return {"tickvals": vals, "ticktext": text}


def _axis_title(label: str, scale: str, ticks: dict) -> str:
    """A sweep axis's title: its label and scale; on a log scale of 1 − value, the ticks it shows."""
    if scale == "log1m":
        return f"{label} (log scale of 1 − value: {', '.join(ticks['ticktext'])} equally far apart)"
    return f"{label} (log scale)" if scale == "log" else label


#: what f - f* means, for captions and help texts where it appears
GAP_TEXT = "J − J*: the final loss minus the lowest value J can take (0 = at the global minimum)"


def sweep_figure(
    values: np.ndarray,
    diverged_at: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    *,
    x_label: str,
    y_label: str,
    x_scale: str = "log",
    y_scale: str = "linear",
    metric: str = "gap",
    steps: int = 500,
    tol: float = 0.01,
    title: str = "",
    best: tuple[int, int] | None = None,
    height: int = 600,
    value_label: str = "final J − J*",
    notes=None,
    click: str = "open in the Playground",
) -> dict:
    """A heatmap of one number per cell of a two-setting sweep.

    best: (j, i) of the cell to outline (the lowest final f - f*, or the fastest), in the legend.

    values (ny, nx): final f - f* (``metric="gap"``, log colours) or the step a run gets
    within ``tol`` of a minimum for good (``metric="steps"``; -1 = never). diverged_at
    (ny, nx): -1 or the step a run diverged. xs (nx,), ys (ny,): the settings.
    Diverged cells are grey with crosses (legend "diverged"); the last trace is an
    invisible scatter of cell centres that carries the hover text and takes clicks
    (trace index ``len(data) - 1``, point index ``j * nx + i``). ``value_label`` names the gap
    metric's value (a network's "final loss"), ``notes`` (ny, nx) adds a line to each cell's
    hover text, ``click`` says what a click does.
    """
    values = np.asarray(values, dtype=float)
    div = np.asarray(diverged_at) >= 0
    ny, nx = values.shape
    ux, uy = to_axis(xs, x_scale), to_axis(ys, y_scale)
    with np.errstate(all="ignore"):
        if metric == "gap":
            shown = np.log10(np.maximum(values, FLOOR))
            shown[~np.isfinite(values)] = np.nan
            cbar_title = value_label
        else:
            shown = np.where(values >= 0, values, np.nan)
            cbar_title = f"steps to within {tol:g}<br>of a minimum"
    shown[div] = np.nan
    finite = shown[np.isfinite(shown)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    colorbar = {"title": {"text": cbar_title, "side": "right"}, "thickness": 14, "len": 0.9}
    if metric == "gap":
        colorbar.update(_log_bar_ticks(lo, hi))
    data = [{
        "type": "heatmap", "x": f32(ux), "y": f32(uy), "z": f32(shown), "zmin": lo, "zmax": hi,
        "colorscale": COLORMAP.capitalize(), "reversescale": False, "hoverinfo": "skip",
        "colorbar": colorbar, "name": title or "sweep", "showscale": bool(finite.size),
    }]
    gx, gy = np.meshgrid(ux, uy)
    cell = max(4.0, min(22.0, 420.0 / max(nx, ny)))
    data += _sweep_marks(ux, uy, div, cell, metric=metric, tol=tol, steps=steps, best=best,
                         value_label=value_label)
    text = _cell_texts(values, diverged_at, xs, ys, x_label, y_label, metric=metric, tol=tol, steps=steps,
                       value_label=value_label, notes=notes)
    data.append({
        "type": "scatter", "mode": "markers", "x": f32(gx.ravel()), "y": f32(gy.ravel()), "text": text,
        "marker": {"size": cell, "color": "rgba(0,0,0,0)", "symbol": "square"}, "showlegend": False,
        "name": "cells", "hovertemplate": f"%{{text}}<extra>click: {click}</extra>",
    })
    layout = _sweep_layout(xs, ys, ux, uy, x_label, y_label, x_scale, y_scale, title, height)
    return _readable({"data": data, "layout": layout})


def _sweep_marks(ux, uy, div, cell: float, *, metric: str, tol: float, steps: int, best, value_label: str
                 ) -> list[dict]:
    """The sweep's marks over the heatmap: diverged cells (grey, crossed), the "not within tol" legend
    entry, and the best cell's outline."""
    gx, gy = np.meshgrid(ux, uy)
    data = []
    if div.any():
        data.append({
            "type": "heatmap", "x": f32(ux), "y": f32(uy), "z": f32(np.where(div, 1.0, np.nan)),
            "colorscale": [[0, DIVERGED], [1, DIVERGED]], "showscale": False, "hoverinfo": "skip",
            "zmin": 0, "zmax": 1, "name": "diverged cells",
        })
        data.append({  # the crosses: the legend entry "diverged" (only when some run diverged)
            "type": "scatter", "mode": "markers", "name": "diverged",
            "x": f32(gx[div]), "y": f32(gy[div]),
            "marker": {"symbol": "x", "size": cell * 0.7, "color": CROSS, "line": {"width": 0}},
            "hoverinfo": "skip", "showlegend": True,
        })
    if metric == "steps":
        data.append({
            "type": "scatter", "mode": "markers", "x": [None], "y": [None], "hoverinfo": "skip",
            "name": f"not within {tol:g} after {steps} steps",
            "marker": {"symbol": "square", "size": 14, "color": NOT_CONVERGED,
                       "line": {"color": GREY, "width": 1}},
        })
    if best is not None:
        bj, bi = best
        data.append({
            "type": "scatter", "mode": "markers", "x": [float(ux[bi])], "y": [float(uy[bj])],
            "name": "best cell outline", "hoverinfo": "skip", "showlegend": False,
            "marker": {"symbol": "square-open", "size": max(14.0, cell * 1.3), "color": "#FFFFFF",
                       "line": {"color": "#FFFFFF", "width": 3}},
        })
        data.append({
            "type": "scatter", "mode": "markers", "x": [float(ux[bi])], "y": [float(uy[bj])],
            "name": f"lowest {value_label}" if metric == "gap" else "fewest steps", "hoverinfo": "skip",
            "marker": {"symbol": "square-open", "size": max(14.0, cell * 1.3) + 5, "color": "#000000",
                       "line": {"color": "#000000", "width": 2}},
        })
    return data


def _cell_texts(values, diverged_at, xs, ys, x_label: str, y_label: str, *, metric: str, tol: float,
                steps: int, value_label: str, notes) -> list[str]:
    """Each cell's hover text, row by row: its settings and its outcome."""
    text = []
    ny, nx = np.shape(values)
    for j in range(ny):
        for i in range(nx):
            head = f"{x_label} = {xs[i]:.4g}<br>{y_label} = {ys[j]:.4g}<br>"
            d = int(np.asarray(diverged_at)[j, i])
            v = values[j, i]
            if d >= 0:
                tail = f"diverged at step {d}"
            elif metric == "gap":
                tail = f"{value_label} = {v:.3g}"
            else:
                tail = f"within {tol:g} of a minimum from step {int(v)}" if v >= 0 else (
                    f"not within {tol:g} after {steps} steps")
            text.append(head + tail + ("" if notes is None else f"<br>{notes[j][i]}"))
    return text


def _sweep_layout(xs, ys, ux, uy, x_label: str, y_label: str, x_scale: str, y_scale: str, title: str,
                  height: int) -> dict:
    nx, ny = len(ux), len(uy)
    dx = (ux[1] - ux[0]) / 2 if nx > 1 else 0.5
    dy = (uy[1] - uy[0]) / 2 if ny > 1 else 0.5
    xt, yt = _ticks(xs, x_scale), _ticks(ys, y_scale)
    layout = {
        "height": height + LEGEND_ROW * 2, "font": FONT,
        "margin": {"l": 80, "r": 10, "t": 40 if title else 20, "b": 60},
        "xaxis": {"title": {"text": _axis_title(x_label, x_scale, xt)}, "range": [ux[0] - dx, ux[-1] + dx],
                  "showgrid": False, "zeroline": False, **xt},
        "yaxis": {"title": {"text": _axis_title(y_label, y_scale, yt)}, "range": [uy[0] - dy, uy[-1] + dy],
                  "showgrid": False, "zeroline": False, **yt},
        "legend": BELOW,
        "plot_bgcolor": NOT_CONVERGED, "hovermode": "closest", "hoverlabel": {"font": FONT},
        "clickmode": "event+select", "dragmode": False, "uirevision": "sweep",
    }
    if title:
        layout["title"] = {"text": title, "font": TITLE_FONT, "x": 0.01, "xanchor": "left", "y": 0.99,
                           "yanchor": "top"}
    return layout


def for_phone(fig: dict) -> dict:
    """A sweep_figure laid out for a phone's width: the colour bar lies under the map (not beside
    it), the margins are narrow and the title is one size smaller, so the map keeps most of the
    width."""
    out = copy.deepcopy(fig)
    lay = out["layout"]
    for trace in out["data"]:
        if "colorbar" in trace:
            bar = trace["colorbar"]
            bar.update(orientation="h", x=0, xanchor="left", len=1, lenmode="fraction", y=-0.15,
                       yanchor="top", thickness=12, title={**bar["title"], "side": "top"})
            if len(bar.get("tickvals", ())) > 4:  # a phone's width holds four labels side by side
                bar["tickvals"], bar["ticktext"] = bar["tickvals"][::2], bar["ticktext"][::2]
    lay["margin"] = {**lay["margin"], "l": 64, "r": 20, "b": lay["margin"]["b"] + 140}
    lay["height"] = lay["height"] + 140
    if "title" in lay:
        lay["title"]["font"] = {**lay["title"].get("font", {}), "size": FONT["size"]}
    return out


LEGEND_ROW = 28  # px per legend row
#: a legend under the x axis title: anchored to the bottom of the whole figure (Plotly then grows
#: the bottom margin to fit it), so it never sits on the axis title, however many rows it wraps to
BELOW = {"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yref": "container", "yanchor": "bottom",
         "font": FONT}


def _readable(fig: dict) -> dict:
    """Big tick labels and axis titles on every 2-D axis (the page is projected in class)."""
    for k, ax in fig["layout"].items():
        if k.startswith(("xaxis", "yaxis")):
            ax.setdefault("tickfont", TICK_FONT)
            if "title" in ax:
                ax["title"].setdefault("font", FONT)
    return fig


def _gap_for_log(gap) -> np.ndarray:
    g = np.asarray(gap, dtype=float)
    with np.errstate(all="ignore"):
        return np.where(np.isfinite(g), np.maximum(g, FLOOR), np.nan)


def sensitivity_figure(lrs, curves: list[tuple[str, str, np.ndarray, np.ndarray, int | None]],
                       height: int = 460) -> dict:
    """Final f - f* against the learning rate, one curve per optimizer (log-log).

    curves: (label, colour, gap (n,), diverged_at (n,), best index or None). Diverged
    learning rates break the curve and get a cross along the top; the best rate is a big dot.
    """
    lrs = np.asarray(lrs, dtype=float)
    height += LEGEND_ROW * math.ceil((len(curves) + 1) / 2)  # the legend under the axis title
    data = []
    top = []
    for label, color, gap, div, best in curves:
        gap = _gap_for_log(gap)
        bad = np.asarray(div) >= 0
        gap[bad] = np.nan
        data.append({"type": "scatter", "x": lrs, "y": gap, "mode": "lines+markers", "name": label,
                     "legendgroup": label, "line": {"color": color, "width": 3},
                     "marker": {"size": 6, "color": color},
                     "hovertemplate": f"{label}<br>η = %{{x:.3g}}<br>final J − J* = %{{y:.3g}}"
                                      "<extra></extra>"})
        if bad.any():
            top.append((label, color, lrs[bad]))
        if best is not None:
            data.append({"type": "scatter", "x": [lrs[best]], "y": [gap[best]], "mode": "markers",
                         "showlegend": False, "legendgroup": label,
                         "marker": {"size": 16, "color": color, "symbol": "circle",
                                    "line": {"color": "black", "width": 2}},
                         "hovertemplate": f"{label}: best η %{{x:.3g}}<br>J − J* = %{{y:.3g}}"
                                          "<extra></extra>"})
    for k, (label, color, xs) in enumerate(top):
        data.append({"type": "scatter", "x": xs, "y": [1.02 + 0.06 * k] * len(xs), "yaxis": "y2",
                     "mode": "markers", "showlegend": False, "legendgroup": label,
                     "marker": {"symbol": "x", "size": 10, "color": color},
                     "hovertemplate": f"{label}: diverges at η %{{x:.3g}}<extra></extra>"})
    if top:
        data.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": "diverged (×)",
                     "marker": {"symbol": "x", "size": 10, "color": CROSS}, "hoverinfo": "skip"})
    layout = {
        "height": height, "font": FONT, "margin": {"l": 80, "r": 20, "t": 60, "b": 60},
        "title": {"text": "Sensitivity to the learning rate", "font": TITLE_FONT,
                  "x": 0.01, "xanchor": "left", "xref": "paper", "y": 0.98, "yanchor": "top"},
        "xaxis": {"type": "log", "title": {"text": "η (learning rate)"}, "exponentformat": "power"},
        "yaxis": {"type": "log", "title": {"text": "final J − J*"}, "exponentformat": "power",
                  "domain": [0, 0.9]},
        "yaxis2": {"domain": [0.9, 1.0], "range": [1.0, 1.04 + 0.06 * max(len(top), 1)], "visible": False,
                   "fixedrange": True},
        "legend": BELOW,
        "hovermode": "closest",
    }
    return _readable({"data": data, "layout": layout})


def race_figure(fstar: float, curves: list[tuple[str, str, np.ndarray]], height: int = 460) -> dict:
    """f - f* against the step for each tuned optimizer (log y). curves: (label, colour, loss (steps+1,))."""
    height += LEGEND_ROW * len(curves)  # the legend under the axis title: up to one entry a row
    data = []
    for label, color, loss in curves:
        gap = _gap_for_log(np.asarray(loss, dtype=float) - fstar)
        data.append({"type": "scatter", "x": np.arange(len(gap)), "y": gap, "mode": "lines", "name": label,
                     "line": {"color": color, "width": 3},
                     "hovertemplate": f"{label}<br>step %{{x}}<br>J − J* = %{{y:.3g}}<extra></extra>"})
    layout = {
        "height": height, "font": FONT, "margin": {"l": 80, "r": 20, "t": 60, "b": 60},
        "title": {"text": "The race, each at its best rate", "font": TITLE_FONT,
                  "x": 0.01, "xanchor": "left", "xref": "paper", "y": 0.98, "yanchor": "top"},
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"type": "log", "title": {"text": "J − J* (loss above the minimum)"},
                  "exponentformat": "power"},
        "legend": BELOW,
        "hovermode": "x unified",
    }
    return _readable({"data": data, "layout": layout})


def published_values(values) -> np.ndarray:
    """Minima's values as a surface's references publish them: rounding noise (below 1e-12 of the
    largest magnitude, or of 1) is 0 (Himmelblau's minima are all 0, not 7.9e-31)."""
    v = np.asarray(values, dtype=float)
    return np.where(np.abs(v) < 1e-12 * max(1.0, float(np.abs(v).max(initial=0))), 0.0, v)


def basin_classes(surface: Surface, max_classes: int = 6) -> tuple[np.ndarray, list[str], list[str]]:
    """How basin maps colour the known minima: class of each minimum, class names, colours.

    Up to ``max_classes`` minima get a colour each. With more (Rastrigin), minima of equal
    value share a class, from the lowest value up, and the rest share "other minima".
    Two more classes follow: "not converged" and "diverged" (in that order).
    """
    mins, vals = surface.minima, published_values(surface.minima_values)
    k = len(mins)
    if k <= max_classes:
        cls = np.arange(k)
        names = [f"minimum {i + 1} ({m[0]:.3g}, {m[1]:.3g}), J = {v:.4g}"
                 for i, (m, v) in enumerate(zip(mins, vals, strict=True))]
    else:
        levels = np.unique(np.round(vals, 6))
        cls = np.minimum(np.searchsorted(levels, np.round(vals, 6)), max_classes - 1)
        names = []
        for c in range(max_classes):
            n = int(np.sum(cls == c))
            if c < max_classes - 1:
                names.append(f"J = {levels[c]:.4g} ({n} minim{'um' if n == 1 else 'a'})")
            else:
                names.append(f"other minima, J ≥ {levels[c]:.4g} ({n})")
    colors = [PALETTE[i] for i in range(len(names))]  # one each (max_classes <= len(PALETTE))
    return cls, [*names, "not converged", "diverged"], [*colors, NOT_CONVERGED, DIVERGED]


BASIN_CLICKS = "starts"  # name of each basin panel's click grid trace
MAX_CLICKS_PER_AXIS = 25


def click_stride(n: int) -> int:
    """Every how many starts a basin map's click grid has a point (at most 25 per axis)."""
    return max(1, math.ceil(n / MAX_CLICKS_PER_AXIS))


def basin_figure(surface: Surface, xs, ys, maps: list[tuple[str, np.ndarray | None]], *, tol: float,
                 width: int = 950) -> dict:
    """One map per optimizer: every start point coloured by where its run ends.

    maps: (title, labels (ny, nx)) with labels = index into surface.minima, -2 = not
    within ``tol`` of a minimum at the end, -1 = diverged; labels None draws the panel
    as still being computed. Same colour for the same minimum in every map; minima are
    stars; the legend tells each class's value. Each computed panel has an invisible
    grid of start points (trace name BASIN_CLICKS, every click_stride(n)-th start
    both ways, point index jj * len(xs[::k]) + ii) that carries the hover text and
    takes clicks (Plotly heatmaps send no selection events).
    """
    cls_of_min, names, colors = basin_classes(surface)
    n_cls = len(names)
    nc, dv = n_cls - 2, n_cls - 1
    (x0, x1), (y0, y1) = surface.domain
    panels = max(len(maps), 1)
    cols = min(panels, 3)
    rows = math.ceil(panels / cols)
    aspect = (y1 - y0) / (x1 - x0)
    # a map's height: its width (the figure's less the margins, shared by the columns) times the aspect,
    # over the share of its row the y axis takes (_basin_axes); taller leaves a gap above and below
    panel_px = min(520, (width - 100) * (1 - 0.05 * (cols - 1)) / cols * aspect)  # margins: ~80 + 20
    panel_height = int(panel_px / 0.86)
    scale = []
    for c, col in enumerate(colors):
        scale += [[c / n_cls, col], [(c + 1) / n_cls, col]]
    data: list[dict] = []
    layout: dict = {
        "height": panel_height * rows + 78, "font": FONT, "margin": {"l": 60, "r": 20, "t": 28, "b": 50},
        "annotations": [], "showlegend": True, "hovermode": "closest", "plot_bgcolor": "white",
        "legend": BELOW,
        "hoverlabel": {"font": FONT}, "dragmode": False, "clickmode": "event", "uirevision": "basins",
    }
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    k = click_stride(max(len(xs), len(ys)))
    cx, cy = np.meshgrid(xs[::k], ys[::k])
    counts = np.zeros(n_cls)
    short = np.array([*(n.split(" (")[0].split(",")[0] for n in names[:nc]), "not converged", "diverged"])
    for p, (title, labels) in enumerate(maps):
        s = "" if p == 0 else str(p + 1)
        layout.update(_basin_axes(p, cols, rows, surface.domain))
        layout["annotations"].append({"text": f"<b>{title}</b>", "xref": f"x{s} domain",
                                      "yref": f"y{s} domain", "x": 0.5, "y": 1.0, "yanchor": "bottom",
                                      "showarrow": False, "font": TITLE_FONT})
        if labels is None:
            layout["annotations"].append({"text": "computing …", "xref": f"x{s} domain",
                                          "yref": f"y{s} domain", "x": 0.5, "y": 0.5, "showarrow": False,
                                          "font": TITLE_FONT})
        else:
            labels = np.asarray(labels)
            z = np.where(labels == -1, dv, np.where(labels == -2, nc, cls_of_min[np.maximum(labels, 0)]))
            counts += np.bincount(z.ravel(), minlength=n_cls)
            data.append({
                "type": "heatmap", "x": f32(xs), "y": f32(ys), "z": z.astype(np.int32), "xaxis": "x" + s,
                "yaxis": "y" + s, "zmin": -0.5, "zmax": n_cls - 0.5, "colorscale": scale, "showscale": False,
                "name": title, "hoverinfo": "skip",
            })
            data.append({
                "type": "scatter", "mode": "markers", "x": f32(cx.ravel()), "y": f32(cy.ravel()),
                "xaxis": "x" + s, "yaxis": "y" + s, "name": BASIN_CLICKS, "showlegend": False,
                "text": short[z[::k, ::k]].ravel().tolist(),
                # half the spacing at most: markers never overlap, so a click picks the nearest start
                # however narrow the column that shows the map
                "marker": {"size": max(4.0, 0.5 * panel_px / len(xs[::k])), "color": "rgba(0,0,0,0)",
                           "symbol": "square"},
                "hovertemplate": "start (%{x:.3g}, %{y:.3g})<br>→ %{text}"
                                 "<extra>click: open in the Playground</extra>",
            })
        data.append(_minima_stars(surface.minima, [colors[c] for c in cls_of_min], s))
    legend = _basin_legend(names, colors, counts, tol)
    data += legend
    layout["height"] += LEGEND_ROW * (len(legend) + 1)  # one entry a row on a narrow column, and the title
    if counts.sum():
        layout["legend"] = {**BELOW, "font": TICK_FONT, "title": {"text": "where the runs end (% of starts)",
                                                                 "side": "top", "font": TICK_FONT}}
    return _readable({"data": data, "layout": layout})


def _minima_stars(minima: np.ndarray, colors: list[str], s: str) -> dict:
    """The minima as stars in their basins' colours, on the panel with axes suffix ``s``."""
    return {"type": "scatter", "x": minima[:, 0], "y": minima[:, 1], "xaxis": "x" + s, "yaxis": "y" + s,
            "mode": "markers", "showlegend": False, "name": "minima",
            "marker": {"symbol": "star", "size": 16, "color": colors,
                       "line": {"color": "black", "width": 1.5}},
            "hovertemplate": "minimum (%{x:.4g}, %{y:.4g})<extra></extra>"}


def _basin_axes(p: int, cols: int, rows: int, domain, gap: float = 0.05) -> dict:
    """Panel ``p``'s axes in a grid of ``cols`` x ``rows`` maps of ``domain`` (square cells)."""
    (x0, x1), (y0, y1) = domain
    s = "" if p == 0 else str(p + 1)
    c, r = p % cols, p // cols
    w = (1 - gap * (cols - 1)) / cols
    return {
        "xaxis" + s: {"domain": [c * (w + gap), c * (w + gap) + w], "range": [x0, x1], "anchor": "y" + s,
                      "showgrid": False, "zeroline": False, "constrain": "domain",
                      "title": {"text": "start x"}},
        "yaxis" + s: {"domain": [1 - (r + 1) / rows + 0.08 / rows, 1 - r / rows - 0.06 / rows],
                      "range": [y0, y1], "anchor": "x" + s, "scaleanchor": "x" + s, "showgrid": False,
                      "zeroline": False, "constrain": "domain", "constraintoward": "top",  # no gap above
                      "title": {"text": "start y" if c == 0 else ""}},
    }


def _basin_legend(names, colors, counts: np.ndarray, tol: float) -> list[dict]:
    """The basin maps' legend: each class that some run ends in (minima, not converged, diverged) and
    its share of the starts."""
    nc = len(names) - 2
    total = max(counts.sum(), 1)
    out = []
    for c, (name, col) in enumerate(zip(names, colors, strict=True)):
        if counts.sum() and counts[c] == 0 and c != nc:
            continue  # a minimum no run ends in, or "diverged" when nothing diverged
        share = f"{100 * counts[c] / total:.0f}%: " if counts.sum() else ""
        label = name if c < nc else (f"not within {tol:g} of a minimum" if c == nc else "diverged")
        out.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": share + label,
                    "marker": {"symbol": "star" if c < nc else "square", "size": 16, "color": col,
                               "line": {"color": "black" if c < nc else GREY, "width": 1}},
                    "hoverinfo": "skip"})
    return out


def cloud_figure(surface: Surface, image: tuple[str, float, float], paths: np.ndarray,
                 clean: np.ndarray | None, *, color: str = PALETTE[1], label: str = "", height: int = 560,
                 max_points: int = 120_000) -> dict:
    """R noisy runs as thin translucent paths over the landscape, and the noise-free run.

    paths (steps+1, R, 2); clean (steps+1, 2) or None. Long clouds are thinned in time
    (every k-th step, the last kept) so the payload stays small.
    """
    uri = image[0]
    (x0, x1), (y0, y1) = surface.domain
    paths = np.asarray(paths, dtype=float)
    n, R = paths.shape[:2]
    stride = max(1, math.ceil(n * R / max_points))
    keep = np.unique(np.r_[np.arange(0, n, stride), n - 1])
    sub = paths[keep]  # (m, R, 2)
    sep = np.full((1, R, 2), np.nan)
    flat = np.concatenate([sub, sep], 0).transpose(1, 0, 2).reshape(-1, 2)  # run after run, NaN between
    ends = paths[-1]
    data = []
    if clean is not None:  # underneath, so the cloud stays visible where it follows the clean run
        clean = np.asarray(clean, dtype=float)
        data.append({"type": "scatter", "x": f32(clean[:, 0]), "y": f32(clean[:, 1]), "mode": "lines",
                     "name": "without noise", "line": {"color": "black", "width": 2.5, "dash": "dot"},
                     "hovertemplate": "without noise<br>(%{x:.3g}, %{y:.3g})<extra></extra>"})
    data += [{
        "type": "scatter", "x": f32(flat[:, 0]), "y": f32(flat[:, 1]), "mode": "lines",
        "name": f"{R} noisy runs", "line": {"color": color, "width": 1.5}, "opacity": 0.55,
        "hoverinfo": "skip", "connectgaps": False,
    }, {
        "type": "scatter", "x": f32(ends[:, 0]), "y": f32(ends[:, 1]), "mode": "markers",
        "name": "their ends",
        "marker": {"size": 7, "color": color, "line": {"color": "white", "width": 1}},
        "hovertemplate": "end (%{x:.3g}, %{y:.3g})<extra></extra>",
    }]
    mins = surface.minima
    data.append({"type": "scatter", "x": mins[:, 0], "y": mins[:, 1], "mode": "markers",
                 "name": "known minima",
                 "marker": {"symbol": "star", "size": 15, "color": "white",
                            "line": {"color": "black", "width": 1}},
                 "hovertemplate": "minimum (%{x:.4g}, %{y:.4g})<extra></extra>"})
    start = paths[0, 0]
    data.append({"type": "scatter", "x": [start[0]], "y": [start[1]], "mode": "markers", "name": "start",
                 "marker": {"symbol": "circle-open", "size": 16, "color": "black", "line": {"width": 3}},
                 "hovertemplate": "start (%{x:.3g}, %{y:.3g})<extra></extra>"})
    layout = {
        "height": height, "font": FONT, "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "xaxis": {"range": [x0, x1], "title": {"text": "x"}, "showgrid": False, "zeroline": False,
                  "constrain": "domain"},
        "yaxis": {"range": [y0, y1], "title": {"text": "y"}, "showgrid": False, "zeroline": False,
                  "scaleanchor": "x", "constrain": "domain"},
        "images": [landscape_image(uri, surface.domain)],
        "legend": BELOW,
        "hovermode": "closest", "plot_bgcolor": "white", "dragmode": False,
    }
    layout["height"] += LEGEND_ROW * 3  # the legend under the axis title
    if label:
        layout["title"] = {"text": label, "font": TITLE_FONT, "x": 0.01, "xanchor": "left", "y": 0.99,
                           "yanchor": "top"}
        layout["margin"]["t"] = 60
    return _readable({"data": data, "layout": layout})


def band_figure(fstar: float, loss: np.ndarray, clean: np.ndarray | None, *, color: str = PALETTE[1],
                q: tuple[float, float] = (10, 90), height: int = 560) -> dict:
    """Mean f - f* over the noisy runs with a percentile band, and the noise-free run (log y).

    loss (steps+1, R). Diverged runs (NaN) count as +inf in the band and are left out of
    the mean; the title says how many diverged.
    """
    loss = np.asarray(loss, dtype=float)
    with np.errstate(all="ignore"):
        gap = loss - fstar
        alive = np.isfinite(gap)
        n_alive = alive.sum(1)
        mean = np.where(n_alive > 0, np.where(alive, gap, 0).sum(1) / np.maximum(n_alive, 1), np.nan)
        ranked = np.where(alive, gap, np.inf)
        lo_b, hi_b = np.percentile(ranked, q, axis=1, method="nearest")
    steps = np.arange(len(gap))
    n_div = int((~alive[-1]).sum())
    lo_b, hi_b, mean = _gap_for_log(lo_b), _gap_for_log(hi_b), _gap_for_log(mean)
    data = [
        {"type": "scatter", "x": steps, "y": f32(hi_b), "mode": "lines", "line": {"width": 0},
         "showlegend": False, "hoverinfo": "skip", "name": f"{q[1]:g}th percentile"},
        {"type": "scatter", "x": steps, "y": f32(lo_b), "mode": "lines", "line": {"width": 0},
         "fill": "tonexty",
         "fillcolor": rgba(color, 0.25), "name": f"{q[0]:g}–{q[1]:g}th percentile of the runs",
         "hoverinfo": "skip"},
        {"type": "scatter", "x": steps, "y": f32(mean), "mode": "lines", "line": {"color": color, "width": 3},
         "name": "mean of the noisy runs",
         "hovertemplate": "step %{x}<br>mean J − J* = %{y:.3g}<extra></extra>"},
    ]
    if clean is not None:
        data.append({"type": "scatter", "x": steps, "y": f32(_gap_for_log(np.asarray(clean) - fstar)),
                     "mode": "lines", "name": "without noise", "line": {"color": "black", "width": 2.5,
                                                                         "dash": "dash"},
                     "hovertemplate": "step %{x}<br>without noise J − J* = %{y:.3g}<extra></extra>"})
    height += LEGEND_ROW * 3  # the legend under the axis title
    title = "Loss of the noisy runs"
    if n_div:
        title += f" ({n_div} of {loss.shape[1]} diverged)"
    layout = {
        "height": height, "font": FONT, "margin": {"l": 80, "r": 20, "t": 60, "b": 60},
        "title": {"text": title, "font": TITLE_FONT, "x": 0.01, "xanchor": "left", "y": 0.99,
                  "yanchor": "top"},
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"type": "log", "title": {"text": "J − J* (loss above the minimum)"},
                  "exponentformat": "power"},
        "legend": BELOW,
        "hovermode": "closest",
    }
    return _readable({"data": data, "layout": layout})
