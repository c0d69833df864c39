"""The Networks page's figures: the loss on a plane with the runs' paths, decision boundaries,
loss and accuracy per step (one animated figure), the 1-D interpolation and the sharpness.

Figures are plain dicts in Plotly's JSON schema, built from arrays (``runs`` and ``land`` are
descent_lab.networks' Runs and Landscape, read for their arrays only). As on the Playground, the
landscape is a picture under the axes (a layout image survives animation frames, a contour
trace does not: plotly.js #4491) and only what moves is in frames. The figure opens on step 0 and
shows no more than the runs have reached: each path is a trail up to the current step and a veil
hides the loss and accuracy curves after it (``whole=True`` draws the whole paths and curves).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import contourpy
import numpy as np
from PIL import Image

from .landscape import bands_png, color_range, toned_colorscale
from .learn_basics import log_ticks
from .playground import animation_controls
from .style import DARK_GREY, FONT, GREY, LIGHT_GREY, f32

PICTURE_PX = 480  # the landscape picture's side (the slice's grid is interpolated up to it)
WIDE_HEIGHT = 1000
FRAME_MS = 120
TRAIL_3D = 200  # points per run at most in a 3-D trail (every k-th step; the current point exact)
CLASS_MARKERS = ({"symbol": "circle-open", "color": GREY, "size": 6},
                 {"symbol": "circle", "color": DARK_GREY, "size": 5})


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


def boundary_line(xs, ys, p) -> tuple[list, list]:
    """The P = 0.5 level of p (len(ys), len(xs)) as one polyline x, y (pieces split by None)."""
    x, y = [], []
    if np.isfinite(p).all():
        for piece in contourpy.contour_generator(x=xs, y=ys, z=p).lines(0.5):
            x += [*piece[:, 0].tolist(), None]
            y += [*piece[:, 1].tolist(), None]
    return x, y


def _panel_title(text: str, xa: str, ya: str, color: str = DARK_GREY, size: int = 15) -> dict:
    return {"text": text, "xref": f"{xa} domain", "yref": f"{ya} domain", "x": 0.0, "y": 1.0,
            "xanchor": "left", "yanchor": "bottom", "showarrow": False,
            "font": {"size": size, "color": color}}


#: the one-column layout in pixels from the top: (name, height, gap below), then rows of two
#: decision-boundary panels (a phone's plot area is about 310 px wide: panels of 140 px)
TALL_PANELS = (("land", 470, 95), ("loss", 170, 85), ("acc", 150, 110))
TALL_ROW = 175  # a row of boundary panels with its titles


def tall_height(runs: int) -> int:
    """The one-column figure's plot height in pixels (without its margins)."""
    return sum(h + gap for _, h, gap in TALL_PANELS) + TALL_ROW * -(-runs // 2)


def _grid(runs: int, tall: bool) -> dict:
    """Axis domains: 'land' (x, y), 'loss', 'acc' and one 'b{i}' per run, each (xdomain, ydomain)."""
    if not tall:
        out = {"land": ([0.0, 0.44], [0.42, 1.0]), "loss": ([0.62, 1.0], [0.76, 1.0]),
               "acc": ([0.62, 1.0], [0.42, 0.66])}
        w = min(0.3, (1 - 0.04 * (runs - 1)) / runs)
        for i in range(runs):
            out[f"b{i}"] = ([i * (w + 0.04), i * (w + 0.04) + w], [0.0, 0.26])
        return out
    total, y = tall_height(runs), 0
    out = {}
    for name, h, gap in TALL_PANELS:
        out[name] = ([0.0, 0.78 if name == "land" else 1.0], [1 - (y + h) / total, 1 - y / total])
        y += h + gap
    for i in range(runs):
        r, c = divmod(i, 2)
        top = y + r * TALL_ROW + 25
        out[f"b{i}"] = ([c * 0.54, c * 0.54 + 0.46], [1 - (top + TALL_ROW - 35) / total, 1 - top / total])
    return out


def _data_range(xy, xs, ys, margin: float = 0.08) -> tuple[list, list]:
    """The boundary panels' x and y ranges: the data's extent plus ``margin`` of its larger side
    (the data fill the panel), within the boundary's grid."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = margin * float((hi - lo).max()) if len(xy) else 0.0
    return ([max(float(xs[0]), float(lo[0]) - pad), min(float(xs[-1]), float(hi[0]) + pad)],
            [max(float(ys[0]), float(lo[1]) - pad), min(float(ys[-1]), float(hi[1]) + pad)])


def network_figure(runs, land, colors, ticks, boundary, *, show3d: bool = False, tall: bool = False,
                   whole: bool = False, frame_ms: int = FRAME_MS) -> dict:
    """One animated figure: the loss on the plane with every run's path (a 3-D surface with
    ``show3d``), train and test loss and accuracy per step, and each run's decision boundary over
    the training data; the slider and Play move all of them together over the steps ``ticks``.
    It opens on the first tick, each path drawn up to the current step and the curves veiled after
    it; ``whole`` adds the whole paths (faint) and leaves the curves unveiled.

    boundary: (xs, ys, P) with P (len(ticks), R, len(ys), len(xs)), P(class 1) at each tick.
    """
    R = len(runs.labels)
    dom = _grid(R, tall)
    layout: dict = {
        "height": tall_height(R) + 180 if tall else WIDE_HEIGHT,  # 180: the margins
        "margin": {"l": 60, "r": 20, "t": 70, "b": 110},
        "font": FONT, "plot_bgcolor": "white", "hovermode": "closest", "uirevision": "keep",
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0.0, "y": 1.035, "yanchor": "bottom", "font": {"size": 14}},
        "images": [], "annotations": [],
    }
    fig = _Animated()
    cursor = np.asarray(ticks)
    (_landscape_3d if show3d else _landscape_2d)(fig, layout, dom, runs, land, colors, cursor, whole)
    _curves(fig, layout, dom, runs, colors, cursor, whole)
    _boundaries(fig, layout, dom, runs, colors, boundary, tall)
    data, animated = fig.data, fig.animated
    frames = []
    for k, t in enumerate(cursor):
        updates = [u for f in fig.per_frame for u in f(k)]
        frames.append({"name": str(int(t)), "data": updates, "traces": animated})
    if frames:  # the figure opens on the first step: nothing after it is drawn
        for idx, upd in zip(animated, frames[0]["data"], strict=True):
            data[idx].update(upd)
    sliders, buttons = animation_controls(cursor, frame_ms, redraw=show3d)
    sliders[0]["active"] = 0
    sliders[0]["y"], buttons[0]["y"] = -0.02 if not tall else -0.01, -0.005
    sliders[0]["pad"] = {"t": 40}
    layout["sliders"], layout["updatemenus"] = sliders, buttons
    return {"data": data, "layout": layout, "frames": frames}


@dataclass
class _Animated:
    """The traces of an animated figure as they are added: which of them the frames update
    (``animated``, indices into ``data``) and the callables k -> those traces' updates at tick k,
    in the same order (``per_frame``)."""

    data: list = field(default_factory=list)
    animated: list = field(default_factory=list)
    per_frame: list = field(default_factory=list)

    def mark(self, n: int = 1) -> None:
        """The next ``n`` traces added are updated by the frames."""
        self.animated += range(len(self.data), len(self.data) + n)


def _axes(layout: dict, dom: dict, name: str, n: int, x: dict, y: dict) -> tuple[str, str]:
    """Axes pair ``n`` of the panel ``name`` (its domain from ``dom``) into ``layout``."""
    xd, yd = dom[name]
    s = "" if n == 1 else str(n)
    layout["xaxis" + s] = {"domain": xd, "anchor": "y" + s, **x}
    layout["yaxis" + s] = {"domain": yd, "anchor": "x" + s, **y}
    return "x" + s, "y" + s


PLANE_TITLE = "Loss on the plane (colour: log10 loss)"


def _landscape_3d(fig: _Animated, layout: dict, dom: dict, runs, land, colors, cursor, whole: bool) -> None:
    """The loss on the plane as a 3-D surface, each run's path at its true loss over it."""
    data, per_frame = fig.data, fig.per_frame
    R, steps, coords = len(runs.labels), runs.steps, land.coords
    _, lo, hi = plane_picture(land.a, land.b, land.loss)
    xd, yd = dom["land"]
    layout["scene"] = {
        "domain": {"x": xd, "y": yd}, "aspectmode": "manual", "aspectratio": {"x": 1, "y": 1, "z": 0.6},
        "xaxis": {"title": {"text": "a"}}, "yaxis": {"title": {"text": "b"}},
        "zaxis": {"title": {"text": "log10 loss"}}, "camera": {"eye": {"x": 1.5, "y": -1.5, "z": 1.1}},
    }
    c = log_loss(land.loss)
    data.append({"type": "surface", "x": f32(land.a), "y": f32(land.b), "z": f32(c), "scene": "scene",
                 "colorscale": "Viridis", "cmin": lo, "cmax": hi, "opacity": 0.85, "showscale": False,
                 "hovertemplate": "a %{x:.3g}, b %{y:.3g}<br>log10 loss %{z:.3g}<extra></extra>"})
    height = log_loss(runs.loss)  # the runs' true loss: the paths lie off the plane
    stride = -(-steps // TRAIL_3D) if steps else 1
    for i in range(R):
        line = {"type": "scatter3d", "mode": "lines", "scene": "scene", "name": runs.labels[i],
                "legendgroup": f"run{i}", "line": {"color": colors[i], "width": 3}, "hoverinfo": "skip"}
        if whole:
            data.append({**line, "x": f32(coords[:, i, 0]), "y": f32(coords[:, i, 1]),
                         "z": f32(height[:, i])})
        else:
            fig.mark()
            data.append(line)
        fig.mark()
        data.append({"type": "scatter3d", "mode": "markers", "scene": "scene", "showlegend": False,
                     "marker": {"size": 6, "color": colors[i], "line": {"color": "white", "width": 2}},
                     "hoverinfo": "skip"})

        def upd3(k, i=i):
            t = int(cursor[k])
            point = {"type": "scatter3d", "x": [coords[t, i, 0]], "y": [coords[t, i, 1]],
                     "z": [height[t, i]]}
            if whole:
                return [point]
            at = np.r_[np.arange(0, t, stride), t]  # every stride-th step and the current one
            return [{"type": "scatter3d", "x": f32(coords[at, i, 0]), "y": f32(coords[at, i, 1]),
                     "z": f32(height[at, i])}, point]
        per_frame.append(upd3)
    layout["annotations"].append({**_panel_title(PLANE_TITLE, "x", "y"), "xref": "paper", "yref": "paper",
                                  "x": xd[0], "y": yd[1]})


def _landscape_2d(fig: _Animated, layout: dict, dom: dict, runs, land, colors, cursor, whole: bool) -> None:
    """The loss on the plane as a picture under the paths projected onto it, with its marks."""
    data, per_frame = fig.data, fig.per_frame
    R, coords = len(runs.labels), land.coords
    uri, lo, hi = plane_picture(land.a, land.b, land.loss)
    a0, a1, b0, b1 = float(land.a[0]), float(land.a[-1]), float(land.b[0]), float(land.b[-1])
    xa, ya = _axes(layout, dom, "land", 1,
                   {"range": [a0, a1], "title": {"text": "a (first direction)"}, "showgrid": False,
                    "zeroline": False},
                   {"range": [b0, b1], "title": {"text": "b (second direction)"}, "showgrid": False,
                    "zeroline": False})
    layout["images"].append({"source": uri, "xref": xa, "yref": ya, "x": a0, "y": b1, "sizex": a1 - a0,
                             "sizey": b1 - b0, "sizing": "stretch", "layer": "below"})
    layout["annotations"].append(_panel_title(PLANE_TITLE, xa, ya))
    xd, yd = dom["land"]
    data.append({  # the colour bar of the picture
        "type": "scatter", "x": [None], "y": [None], "mode": "markers", "showlegend": False,
        "hoverinfo": "skip", "xaxis": xa, "yaxis": ya,
        "marker": {"colorscale": toned_colorscale(), "cmin": lo, "cmax": hi, "color": [lo],
                   "showscale": True,
                   "colorbar": {"title": {"text": "log10 loss", "side": "right"}, "x": xd[1] + 0.005,
                                "xanchor": "left", "y": sum(yd) / 2, "len": yd[1] - yd[0],
                                "thickness": 12}},
    })
    data.append({"type": "scatter", "x": f32(np.repeat(land.a[None], len(land.b), 0).ravel()),
                 "y": f32(np.repeat(land.b, len(land.a))), "mode": "markers", "showlegend": False,
                 "xaxis": xa, "yaxis": ya, "marker": {"size": 12, "opacity": 0},
                 "customdata": f32(land.loss.ravel()),
                 "hovertemplate": "a %{x:.3g}, b %{y:.3g}<br>loss %{customdata:.4g}<extra></extra>"})
    for text, ma, mb in land.marks:
        data.append({"type": "scatter", "x": [ma], "y": [mb], "mode": "markers+text", "text": [text],
                     "textposition": "bottom right", "showlegend": False, "xaxis": xa, "yaxis": ya,
                     "marker": {"symbol": "diamond", "size": 11, "color": "white",
                                "line": {"color": "black", "width": 1.5}},
                     "textfont": {"size": 13}, "hoverinfo": "skip"})
    for i in range(R * whole):
        data.append({"type": "scatter", "x": f32(coords[:, i, 0]), "y": f32(coords[:, i, 1]),
                     "mode": "lines", "showlegend": False, "legendgroup": f"run{i}",
                     "xaxis": xa, "yaxis": ya,
                     "line": {"color": colors[i], "width": 1.5}, "opacity": 0.45, "hoverinfo": "skip"})
    for i in range(R):
        data.append({"type": "scatter", "x": [coords[0, i, 0]], "y": [coords[0, i, 1]], "mode": "markers",
                     "showlegend": False, "xaxis": xa, "yaxis": ya, "hoverinfo": "skip",
                     "marker": {"symbol": "circle-open", "size": 13, "color": colors[i],
                                "line": {"width": 2, "color": colors[i]}}})
    for i in range(R):
        fig.mark(2)
        data.append({"type": "scatter", "mode": "lines", "name": runs.labels[i], "legendgroup": f"run{i}",
                     "xaxis": xa, "yaxis": ya, "line": {"color": colors[i], "width": 3.5},
                     "hoverinfo": "skip"})
        data.append({"type": "scatter", "mode": "markers", "showlegend": False, "xaxis": xa, "yaxis": ya,
                     "marker": {"size": 13, "color": colors[i], "line": {"color": "white", "width": 2}},
                     "hovertemplate": f"{runs.labels[i]}<br>step %{{text}}<extra></extra>"})

        def upd(k, i=i):
            t = cursor[k]
            return [{"x": f32(coords[:t + 1, i, 0]), "y": f32(coords[:t + 1, i, 1])},
                    {"x": [coords[t, i, 0]], "y": [coords[t, i, 1]], "text": [str(t)]}]
        per_frame.append(upd)


def _curves(fig: _Animated, layout: dict, dom: dict, runs, colors, cursor, whole: bool) -> None:
    """Train and test loss and accuracy per step, with the current step's line (and a veil after it)."""
    data, per_frame = fig.data, fig.per_frame
    R, steps = len(runs.labels), runs.steps
    x = np.arange(steps + 1)
    finite = runs.loss[np.isfinite(runs.loss)]
    top = float(max(np.nanmax(runs.test_loss, initial=0.0), finite.max(initial=1.0))) if finite.size else 1.0
    for name, n, train, test, title, ytitle, yrange in (
        ("loss", 2, runs.loss, runs.test_loss, "Loss per step (solid: train, dashed: test)", "loss",
         [0, min(top, 5.0) * 1.05]),
        ("acc", 3, runs.accuracy, runs.test_accuracy, "Accuracy per step (solid: train, dashed: test)",
         "accuracy", [0.4, 1.02]),
    ):
        xa, ya = _axes(layout, dom, name, n,
                       {"range": [0, steps], "title": {"text": "step"}, "gridcolor": "#eee"},
                       {"range": yrange, "title": {"text": ytitle}, "gridcolor": "#eee"})
        layout["annotations"].append(_panel_title(title, xa, ya))
        for i in range(R):
            for values, dash, what in ((train, "solid", "train"), (test, "dash", "test")):
                data.append({"type": "scatter", "x": x, "y": f32(values[:, i]), "mode": "lines",
                             "showlegend": False, "legendgroup": f"run{i}", "xaxis": xa, "yaxis": ya,
                             "line": {"color": colors[i], "width": 2, "dash": dash},
                             "hovertemplate": f"{runs.labels[i]}<br>step %{{x}}: {what} %{{y:.4g}}"
                                              "<extra></extra>"})
        if not whole:  # the curves after the current step, hidden under the plot's colour
            fig.mark()
            data.append({"type": "scatter", "mode": "lines", "showlegend": False, "xaxis": xa, "yaxis": ya,
                         "fill": "toself", "fillcolor": "white", "line": {"width": 0}, "hoverinfo": "skip"})
        fig.mark()
        data.append({"type": "scatter", "mode": "lines", "showlegend": False, "xaxis": xa, "yaxis": ya,
                     "line": {"color": GREY, "width": 1.5, "dash": "dot"}, "hoverinfo": "skip"})

        def cursor_line(k, yrange=yrange):
            t = int(cursor[k])
            lo, hi = yrange
            veil = [] if whole else [{"x": [t + 0.5, steps, steps, t + 0.5, t + 0.5],
                                      "y": [lo, lo, hi, hi, lo]}]
            return [*veil, {"x": [t, t], "y": yrange}]
        per_frame.append(cursor_line)


def _boundaries(fig: _Animated, layout: dict, dom: dict, runs, colors, boundary, tall: bool) -> None:
    """Each run's decision boundary at the current step over the training data, a panel per run."""
    data, per_frame = fig.data, fig.per_frame
    R = len(runs.labels)
    xs, ys, P = boundary
    xy, labels = runs.net.data.x, runs.net.data.y
    xr, yr = _data_range(xy, xs, ys)
    for i in range(R):
        xa, ya = _axes(layout, dom, f"b{i}", 4 + i,
                       {"range": xr, "showgrid": False, "zeroline": False, "showticklabels": False},
                       {"range": yr, "showgrid": False, "zeroline": False, "showticklabels": False,
                        "scaleanchor": f"x{4 + i}", "constrain": "domain"})
        layout[f"xaxis{4 + i}"]["constrain"] = "domain"
        layout["annotations"].append(_panel_title(runs.labels[i], xa, ya, colors[i], size=14))
        for cls in (0, 1):
            pts = xy[labels == cls]
            data.append({"type": "scatter", "x": f32(pts[:, 0]), "y": f32(pts[:, 1]), "mode": "markers",
                         "showlegend": False, "xaxis": xa, "yaxis": ya,
                         "marker": CLASS_MARKERS[cls], "hoverinfo": "skip"})
        fig.mark()
        data.append({"type": "scatter", "mode": "lines", "showlegend": False, "xaxis": xa, "yaxis": ya,
                     "line": {"color": colors[i], "width": 3}, "hoverinfo": "skip"})

        def line(k, i=i):
            bx, by = boundary_line(xs, ys, P[k, i])
            # never empty: plotly.js drops the panel's data points when an empty trace gets points in
            # an animation (seen: the class dots vanished on Play from a step with no boundary)
            return [{"x": bx or [None], "y": by or [None]}]
        per_frame.append(line)
    if R:
        yd = dom["b0"][1]
        layout["annotations"].append({
            "text": "Decision boundary (P = 0.5) at this step<br>open: class 0, filled: class 1" if tall else
                    "Decision boundary (P = 0.5) at the current step, over the training data "
                    "(open: class 0, filled: class 1)", "align": "left",
            "xref": "paper", "yref": "paper", "x": 0.0,
            "y": yd[1] + (0.03 if not tall else 25 / tall_height(R)),
            "xanchor": "left", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 15, "color": DARK_GREY}})


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
