"""The landscape as a picture: grids, the colour transform, a static PNG layer.

The 2-D map's landscape is a Matplotlib image placed under the Plotly axes
(a layout image), never a contour trace: Plotly drops contour and heatmap
traces from figures with animation frames (plotly.js #4491), and a static
PNG is also a far smaller payload than a contour grid.
"""

from __future__ import annotations

import base64
import io

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from landscapes import Surface

#: Okabe-Ito colours (colour-blind safe), yellow left out: it vanishes on light maps.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
COLORMAP = "viridis"
#: opacity of the filled contours over white: toned down so that trajectories stand out on them
ALPHA = 0.56


def toned_colorscale(opacity: float = ALPHA, n: int = 11) -> list[list]:
    """COLORMAP as a Plotly colorscale, as it looks drawn at ``opacity`` over white (the colour
    bar of a landscape picture)."""
    cmap = matplotlib.colormaps[COLORMAP]
    out = []
    for t in np.linspace(0, 1, n):
        r, g, b = (round(255 * (opacity * c + 1 - opacity)) for c in cmap(t)[:3])
        out.append([float(t), f"rgb({r},{g},{b})"])
    return out


def landscape_grid(surface: Surface, n: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (n,), y (n,) and f on the grid, shape (n, n) indexed [y, x]; NaN where f is not finite
    (an overflow to inf, like a formula's exp(x*y) on a wide domain, would make the colour range NaN)."""
    (x0, x1), (y0, y1) = surface.domain
    x, y = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    z = surface.f(np.stack(np.meshgrid(x, y), -1))
    return x, y, np.where(np.isfinite(z), z, np.nan)


def display_transform(surface: Surface, z_grid: np.ndarray):
    """The map from f to what colour and height show, and its axis title.

    Log surfaces show log10(f - f_min + delta), delta 1e-4 of the grid's
    range, so the valley floor keeps its detail; others show f itself.
    """
    if not surface.log_scale:
        return (lambda f: np.asarray(f, dtype=float)), "f(x, y)"
    fmin = min(surface.global_min, float(np.nanmin(z_grid)))
    delta = 1e-4 * max(float(np.nanpercentile(z_grid, 99)) - fmin, 1e-12)
    return (lambda f: np.log10(np.maximum(np.asarray(f, dtype=float) - fmin, 0) + delta)), (
        "log10(f - f*)"
    )


def draw_landscape(ax, surface: Surface, levels: int = 30, alpha: float = ALPHA):
    """Filled contours of ``surface`` on the Matplotlib axes ``ax``, limited to its domain.

    Returns (the filled-contour artist, colour min, colour max, the colour scale's title).
    """
    x, y, z = landscape_grid(surface)
    show, title = display_transform(surface, z)
    c = show(z)
    lo, hi = float(np.nanmin(c)), float(np.nanpercentile(c, 99.5))
    if not hi > lo:  # flat where finite (exp(x*y) on a wide domain: 0 or overflow): one colour
        hi = lo + 1.0
    lv = np.linspace(lo, hi, levels)
    filled = ax.contourf(x, y, np.clip(c, lo, hi), levels=lv, cmap=COLORMAP, alpha=alpha,
                         extend="both")
    ax.contour(x, y, c, levels=lv[::2], colors="white", linewidths=0.5, alpha=0.6)
    (x0, x1), (y0, y1) = surface.domain
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return filled, lo, hi, title


def landscape_png(surface: Surface, width_px: int = 700, levels: int = 30) -> tuple[str, float, float]:
    """The filled-contour picture of the domain as a data URI, with its colour range.

    The image has no margins: it is stretched exactly over the domain.
    """
    (x0, x1), (y0, y1) = surface.domain
    aspect = (y1 - y0) / (x1 - x0)
    # Matplotlib's object API, not pyplot: pyplot's global state is not safe across the
    # server's session threads
    fig = Figure(figsize=(width_px / 100, width_px * aspect / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    _, lo, hi, _ = draw_landscape(ax, surface, levels, alpha=1.0)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3].astype(float)
    # toned to ALPHA over white after drawing: semi-transparent polygons would leave dark seams
    rgb = np.round(ALPHA * rgb + (1 - ALPHA) * 255).astype(np.uint8)
    # a filled contour has few colours: a 96-colour palette PNG is a third of the size
    pic = Image.fromarray(rgb).quantize(colors=96, method=Image.Quantize.MEDIANCUT)
    buf = io.BytesIO()
    pic.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(), lo, hi
