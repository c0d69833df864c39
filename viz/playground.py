"""The Playground's figures: animated trajectories on the map and in 3-D, loss and rate curves.

Figures are plain dicts in Plotly's JSON schema, built from arrays. In the
animated figure only what moves (the path so far, trail, current point, arrows, the
end marks) is in frames; the landscape is a static layout image. The figure opens
at step 0, so a Learn page does not show how its runs end before Play.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go

from descent_lab.compute import RunView, frame_steps
from landscapes import Surface
from optimizers import Trajectory

from .landscape import COLORMAP, display_transform, landscape_grid, log_title, toned_colorscale
from .style import FONT, f32, landscape_image


def _typed(a: np.ndarray) -> dict:
    """Plotly's binary array form: base64 little-endian data with dtype and shape."""
    if a.dtype.kind == "f":
        a = f32(a)
        code = "f4" if a.dtype == np.float32 else "f8"
    else:
        code = "i4"
    a = np.ascontiguousarray(a, dtype="<" + code)
    spec = {"dtype": code, "bdata": base64.b64encode(a).decode()}
    if a.ndim > 1:
        spec["shape"] = ",".join(map(str, a.shape))
    return spec


def typed_arrays(obj):
    """``obj`` (a figure dict) with every numeric array in Plotly's binary form (_typed)."""
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "fiu":
        return _typed(obj)
    if isinstance(obj, dict):
        return {k: typed_arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [typed_arrays(v) for v in obj]
    return obj


class _Prebuilt(go.Figure):
    """A figure whose dict is already final. Streamlit turns figures into JSON via
    ``to_dict()``; building a go.Figure from a large dict costs ~150 ms of
    validation (measured: 165 ms for the default Playground), so the viz tests
    validate every builder's output once and the page skips it."""

    def __init__(self, spec: dict):
        super().__init__()
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec


def fast_figure(fig: dict) -> go.Figure:
    """The figure dict as a go.Figure for st.plotly_chart: arrays binary-encoded, no re-validation."""
    return _Prebuilt(typed_arrays(fig))


def _axis_names(panel: int) -> tuple[str, str]:
    s = "" if panel == 0 else str(panel + 1)
    return "x" + s, "y" + s


def _unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.hypot(*v))
    return v / n if np.isfinite(n) and n > 0 else None


def _arrow(p, direction, length) -> dict:
    """A segment of ``length`` from ``p`` along ``direction`` (hidden if there is none)."""
    d = _unit(np.asarray(direction, dtype=float)) if direction is not None else None
    if d is None or not np.all(np.isfinite(p)):
        return {"x": [None, None], "y": [None, None]}
    q = p + length * d
    return {"x": [p[0], q[0]], "y": [p[1], q[1]]}


def trajectory_figure(
    surface: Surface,
    runs: list[RunView],
    image: tuple[str, float, float],
    *,
    frames: int = 40,
    multiples: bool = False,
    show_3d: bool = True,
    arrows: bool = True,
    trail: int = 40,
    frame_ms: int = 80,
    height: int = 550,
    columns: int = 3,
) -> dict:
    """The animated figure: the map (one panel, or one per run, ``columns`` to a row, ``height`` px
    each row) and optionally the 3-D view.

    ``image`` is ``landscape_png(surface)``: (data URI, colour min, colour max).
    """
    (x0, x1), (y0, y1) = surface.domain
    panels = len(runs) if multiples and runs else 1
    show_3d = show_3d and not multiples
    rows = math.ceil(panels / min(panels, columns))
    width2d = 0.45 if show_3d else 0.92
    layout: dict = {
        "height": height * rows if multiples else height,
        "margin": {"l": 50, "r": 10, "t": 30, "b": 125},
        "font": FONT,
        "showlegend": not multiples,
        "legend": {"orientation": "h", "y": 1.0, "x": 0.0, "yanchor": "bottom", "xanchor": "left",
                   "font": {"size": 12}},
        "hovermode": "closest",
        "hoverdistance": 30,
        "images": [],
        "annotations": [],
        "uirevision": "keep",
        "plot_bgcolor": "white",
    }
    data = _map_panels(surface, runs, image, layout, panels=panels, columns=columns, multiples=multiples,
                       width2d=width2d)
    steps = runs[0].trajectory.steps if runs else 0
    ticks = frame_steps(steps, frames)
    arrow_len = 0.1 * min(x1 - x0, y1 - y0)
    animated: list[int] = []  # indices of traces that frames update
    per_frame = []  # callables t -> list of trace updates, in `animated` order
    for i, run in enumerate(runs):
        traces = _run_traces(run, i, multiples, arrows)
        animated += list(range(len(data), len(data) + len(traces)))
        data += traces
        per_frame.append(_frame_updates(run.trajectory, run.label, trail, arrows, arrow_len, surface.domain))
    if show_3d:
        layout["scene"] = _scene_layout(surface, width2d + 0.06)
        view, show, lift = _surface_3d(surface, image, layout["scene"])
        data.append(view)
        for i, run in enumerate(runs):
            animated += [len(data), len(data) + 1]
            data += _run_traces_3d(run, i)
            per_frame.append(_frame_3d(run.trajectory.path, show(surface.f(run.trajectory.path)) + lift))

    frame_list = []
    for t in ticks:
        updates = [u for f in per_frame for u in f(int(t))]
        frame_list.append({"name": str(t), "data": updates, "traces": animated})
    if frame_list:  # the figure opens at step 0; Play shows the rest
        for idx, upd in zip(animated, frame_list[0]["data"], strict=True):
            data[idx].update(upd)
    layout["sliders"], layout["updatemenus"] = animation_controls(ticks, frame_ms, redraw=show_3d)
    return {"data": data, "layout": layout, "frames": frame_list}


def _map_panels(surface: Surface, runs: list[RunView], image, layout: dict, *, panels: int, columns: int,
                multiples: bool, width2d: float) -> list[dict]:
    """The map panels' axes, pictures and titles (into ``layout``), and their static traces: the
    minima, the click targets and the colour bar."""
    uri, cmin, cmax = image
    (x0, x1), (y0, y1) = surface.domain
    cols = min(panels, columns)
    rows = math.ceil(panels / cols)
    row_gap = (0.06 if cols > 1 else 0.22) / rows  # a stack leaves room for the ticks and each title
    gap = 0.04
    data: list[dict] = []
    for p in range(panels):
        xa, ya = _axis_names(p)
        c, r = p % cols, p // cols
        w = (width2d - gap * (cols - 1)) / cols
        xdom = [c * (w + gap), c * (w + gap) + w]
        if cols > 1:  # the gap under each row
            ydom = [1 - (r + 1) / rows + row_gap, 1 - r / rows]
        else:  # a stack: equal rows, the gaps between them (the last sits on the controls)
            h = (1 - (rows - 1) * row_gap) / rows
            ydom = [1 - r * (h + row_gap) - h, 1 - r * (h + row_gap)]
        layout["xaxis" + xa[1:]] = {
            "domain": xdom, "range": [x0, x1], "title": {"text": "x"}, "showgrid": False,
            "zeroline": False, "anchor": ya, "constrain": "domain",
        }
        layout["yaxis" + ya[1:]] = {
            "domain": ydom, "range": [y0, y1], "title": {"text": "y"}, "showgrid": False,
            "zeroline": False, "anchor": xa, "scaleanchor": xa, "scaleratio": 1, "constrain": "domain",
        }
        layout["images"].append(landscape_image(uri, surface.domain, xa, ya))
        if multiples:
            layout["annotations"].append({
                "text": runs[p].label, "xref": xa + " domain", "yref": ya + " domain", "x": 0.5,
                "y": 1.0, "yanchor": "bottom", "showarrow": False, "font": {"color": runs[p].color},
            })
        mins = surface.minima
        data.append({
            "type": "scatter", "x": mins[:, 0], "y": mins[:, 1], "xaxis": xa, "yaxis": ya,
            "mode": "markers", "name": "known minima", "showlegend": p == 0, "legendgroup": "minima",
            "marker": {"symbol": "star", "size": 13, "color": "white",
                       "line": {"color": "black", "width": 1}},
            "hovertemplate": "minimum (%{x:.4g}, %{y:.4g})<extra></extra>",
        })
    data.append(_click_targets(surface))
    data.append({  # colour bar for the landscape image
        "type": "scatter", "x": [None], "y": [None], "mode": "markers", "showlegend": False,
        "hoverinfo": "skip",
        "marker": {"colorscale": toned_colorscale(), "cmin": cmin, "cmax": cmax,
                   "color": [cmin],
                   "showscale": True, "colorbar": {
                       "title": {"text": log_title(surface) if surface.log_scale else "J"},
                       "x": width2d + 0.005, "len": 0.8, "thickness": 12}},
    })
    return data


def _run_traces(run: RunView, i: int, multiples: bool, arrows: bool) -> list[dict]:
    """Run ``i``'s traces on its map panel, all updated by the frames: the path so far, the start and
    end marks, the divergence note, the trail, the current point and (``arrows``) the -gradient and
    step arrows. The figure opens at step 0: the end shows only when the run gets there."""
    tr = run.trajectory
    xa, ya = _axis_names(i if multiples else 0)
    axes = {"xaxis": xa, "yaxis": ya, "legendgroup": f"run{i}"}
    div = int(tr.diverged_at)
    data = [{
        "type": "scatter", "mode": "lines", "name": run.label,
        "line": {"color": run.color, "width": 2.5}, "opacity": 0.85, **axes,
        "hovertemplate": f"{run.label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
    }, {
        "type": "scatter", "mode": "markers", "showlegend": False, **axes,
        "marker": {"symbol": ["circle-open", "x" if div >= 0 else "square"], "size": [12, 12],
                   "color": run.color, "line": {"width": 2, "color": run.color}},
        "text": ["start", f"diverged at step {div}" if div >= 0 else f"end (step {tr.steps})"],
        "hovertemplate": f"{run.label}: %{{text}}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
    }, {
        "type": "scatter", "mode": "text", "showlegend": False, "hoverinfo": "skip", **axes,
        "text": [f"diverged at step {div}" if div >= 0 else ""], "textposition": "top center",
        "textfont": {"color": run.color, "size": 13},
    }, {
        "type": "scatter", "mode": "lines", "showlegend": False, "hoverinfo": "skip",
        "line": {"color": run.color, "width": 3.5}, **axes,
    }, {
        "type": "scatter", "mode": "markers", "showlegend": False, **axes,
        "marker": {"size": 13, "color": run.color, "line": {"color": "white", "width": 2}},
        "hovertemplate": f"{run.label}<br>%{{text}}<extra></extra>",
    }]
    if arrows:
        for name, dash, col in (("-gradient", "dot", "black"), ("step", "solid", run.color)):
            data.append({
                "type": "scatter", "mode": "lines+markers", "showlegend": False, "hoverinfo": "skip",
                "name": name, "line": {"color": col, "width": 2.5, "dash": dash}, **axes,
                "marker": {"symbol": ["circle", "arrow"], "size": [1, 13], "angleref": "previous",
                           "color": col},
            })
    return data


def _surface_3d(surface: Surface, image, scene: dict) -> tuple[dict, Callable, float]:
    """The 3-D view's surface trace (its z axis's title and fixed range set in ``scene``), the
    transform of f it shows, and how far above it the paths are drawn."""
    _, cmin, cmax = image
    g = landscape_grid(surface, 60)
    show, ztitle = display_transform(surface, g[2])
    zs = show(g[2])
    scene["zaxis"]["title"] = {"text": ztitle}
    zlo, zhi = float(np.nanmin(zs)), float(np.nanmax(zs))
    scene["zaxis"]["range"] = [zlo, zhi + 0.05 * (zhi - zlo)]  # fixed: a runaway path must not flatten it
    return {
        "type": "surface", "x": f32(g[0]), "y": f32(g[1]), "z": f32(zs), "colorscale": COLORMAP.capitalize(),
        "showscale": False, "opacity": 0.85, "cmin": cmin, "cmax": cmax, "scene": "scene",
        "hovertemplate": "(%{x:.3g}, %{y:.3g})<br>" + ztitle + " %{z:.3g}<extra></extra>",
        "contours": {"z": {"show": False}},
    }, show, 0.02 * (zhi - zlo)


def _run_traces_3d(run: RunView, i: int) -> list[dict]:
    """Run ``i``'s path and current point in the 3-D view (updated by the frames)."""
    return [{
        "type": "scatter3d", "mode": "lines", "line": {"color": run.color, "width": 4},
        "showlegend": False, "scene": "scene", "hoverinfo": "skip", "legendgroup": f"run{i}",
    }, {
        "type": "scatter3d", "mode": "markers", "scene": "scene", "showlegend": False,
        "marker": {"size": 6, "color": run.color, "line": {"color": "white", "width": 2}},
        "hoverinfo": "skip",
    }]


def _frame_updates(tr: Trajectory, label, trail, arrows, arrow_len, domain):
    path, loss, grad = tr.path, tr.loss, tr.grad
    steps, div = tr.steps, int(tr.diverged_at)
    (x0, x1), (y0, y1) = domain
    end = path[-1]
    note = [np.clip(end[0], x0, x1)], [np.clip(end[1], y0, y1)]  # inside the axes, or it is hidden

    def updates(t: int) -> list[dict]:
        lo = max(0, t - trail)
        p = path[t]
        g = grad[t] if grad is not None and t < steps else None
        gn = float(np.hypot(*g)) if g is not None else float("nan")
        text = f"step {t}<br>({p[0]:.4g}, {p[1]:.4g})<br>J = {loss[t]:.4g}<br>|g| = {gn:.3g}"
        at_end = t >= steps
        out = [
            {"x": f32(path[:t + 1, 0]), "y": f32(path[:t + 1, 1])},
            {"x": [path[0, 0], end[0] if at_end else None], "y": [path[0, 1], end[1] if at_end else None]},
            {"x": note[0], "y": note[1]} if at_end and div >= 0 else {"x": [None], "y": [None]},
            {"x": f32(path[lo:t + 1, 0]), "y": f32(path[lo:t + 1, 1])},
            {"x": [p[0]], "y": [p[1]], "text": [text]},
        ]
        if arrows:
            move = path[t + 1] - p if t < steps else None
            out.append(_arrow(p, -g if g is not None else None, arrow_len))
            out.append(_arrow(p, move, arrow_len))
        return out

    return updates


def _frame_3d(path, z):
    def updates(t: int) -> list[dict]:
        so_far = {"x": f32(path[:t + 1, 0]), "y": f32(path[:t + 1, 1]), "z": f32(z[:t + 1])}
        return [{"type": "scatter3d", **so_far},
                {"type": "scatter3d", "x": [path[t, 0]], "y": [path[t, 1]], "z": [z[t]]}]

    return updates


def _click_targets(surface: Surface, n: int = 25) -> dict:
    """An invisible grid over the map: hovering shows J, clicking picks a start point."""
    (x0, x1), (y0, y1) = surface.domain
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    f = surface.f(np.stack([gx, gy], -1))
    return {
        "type": "scatter", "x": f32(gx.ravel()), "y": f32(gy.ravel()), "customdata": f32(f.ravel()),
        "mode": "markers",
        "marker": {"size": 9, "color": "rgba(0,0,0,0)"}, "showlegend": False, "name": "map",
        "hovertemplate": "(%{x:.3g}, %{y:.3g})<br>J = %{customdata:.4g}<extra>click: start here</extra>",
    }


def _scene_layout(surface: Surface, left: float) -> dict:
    (x0, x1), (y0, y1) = surface.domain
    return {
        "domain": {"x": [left, 1.0], "y": [0.0, 1.0]},
        "xaxis": {"title": {"text": "x"}, "range": [x0, x1], "nticks": 5},
        "yaxis": {"title": {"text": "y"}, "range": [y0, y1], "nticks": 5},
        "zaxis": {"nticks": 4},
        "aspectmode": "manual",
        "aspectratio": {"x": 1, "y": (y1 - y0) / (x1 - x0), "z": 0.6},
        "camera": {"eye": {"x": -1.4, "y": -1.5, "z": 1.0}},
    }


def animation_controls(ticks: np.ndarray, frame_ms: int, redraw: bool):
    def go(names, duration, **extra):
        return [names, {"mode": "immediate", "frame": {"duration": duration, "redraw": redraw},
                        "transition": {"duration": 0}, **extra}]

    slider = {
        "active": 0,
        "x": 0.0, "len": 1.0, "y": -0.13, "yanchor": "top", "pad": {"t": 16},
        "currentvalue": {"prefix": "step ", "font": FONT},
        "steps": [{"method": "animate", "label": str(t), "args": go([str(t)], 0)} for t in ticks],
    }
    buttons = {
        "type": "buttons", "direction": "left", "x": 0.0, "y": -0.075, "xanchor": "left", "yanchor": "top",
        "pad": {"t": 4}, "showactive": False,
        "buttons": [
            {"label": "Play", "method": "animate", "args": go(None, frame_ms, fromcurrent=False)},
            {"label": "Pause", "method": "animate", "args": go([None], 0)},
            {"label": "Resume", "method": "animate", "args": go(None, frame_ms, fromcurrent=True)},
        ],
    }
    return [slider], [buttons]




def rate_figure(runs: list[RunView], height: int = 320) -> dict:
    """The effective per-parameter step size of each run (x solid, y dashed), log scale."""
    data = []
    for run in runs:
        eff = run.trajectory.effective_lr
        if eff is None:
            continue
        steps = np.arange(1, len(eff) + 1)
        for k, dash in ((0, "solid"), (1, "dash")):
            data.append({"type": "scatter", "x": steps, "y": eff[:, k], "mode": "lines",
                         "name": f"{run.label} ({'xy'[k]})", "line": {"color": run.color, "dash": dash}})
    layout = {
        "height": height, "margin": {"l": 60, "r": 10, "t": 30, "b": 40}, "font": FONT,
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"type": "log", "title": {"text": "step size per parameter"}, "exponentformat": "power"},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},

    }
    return {"data": data, "layout": layout}
