"""The landscape as a picture: grids, the colour transform, a static PNG layer.

The 2-D map's landscape is a picture placed under the Plotly axes (a layout
image), never a contour trace: Plotly drops contour and heatmap traces from
figures with animation frames (plotly.js #4491), and a static PNG is also a far
smaller payload than a contour grid. The picture is drawn with NumPy alone, in
Plotly's own Viridis so the colour bar matches it: importing Matplotlib would cost
the first page load about 0.4 s (it is loaded only for the GIF and PNG exports).
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image
from plotly.colors import hex_to_rgb, sequential

from landscapes import Surface

#: Okabe-Ito colours (colour-blind safe), yellow left out: it vanishes on light maps.
COLORMAP = "viridis"
#: the colour map's stops, as Plotly defines "Viridis" (linear in RGB between them), 0..1
STOPS = np.array([hex_to_rgb(c) for c in sequential.Viridis], dtype=float) / 255
#: opacity of the filled contours over white: toned down so that trajectories stand out on them
ALPHA = 0.56


def colors(t) -> np.ndarray:
    """The colour map at t in [0, 1]: RGB in [0, 1], shape (..., 3)."""
    u = np.clip(np.asarray(t, dtype=float), 0, 1) * (len(STOPS) - 1)
    k = np.minimum(u.astype(int), len(STOPS) - 2)
    w = (u - k)[..., None]
    return (1 - w) * STOPS[k] + w * STOPS[k + 1]


def toned_colorscale() -> list[list]:
    """The colour map as a Plotly colorscale, as it looks drawn at ALPHA over white (the colour
    bar of a landscape picture)."""
    toned = np.round(255 * (ALPHA * STOPS + 1 - ALPHA)).astype(int)
    return [[k / (len(STOPS) - 1), f"rgb({r},{g},{b})"] for k, (r, g, b) in enumerate(toned)]


def landscape_grid(surface: Surface, n: int = 160, ny: int | None = None) -> tuple[np.ndarray, ...]:
    """x (n,), y (ny,) (default n) and f on the grid, shape (ny, n) indexed [y, x]; NaN where f
    is not finite (an overflow to inf, like a formula's exp(x*y) on a wide domain, would make the
    colour range NaN)."""
    (x0, x1), (y0, y1) = surface.domain
    x, y = np.linspace(x0, x1, n), np.linspace(y0, y1, ny or n)
    with np.errstate(all="ignore"):
        z = surface.f(np.stack(np.meshgrid(x, y), -1))
    return x, y, np.where(np.isfinite(z), z, np.nan)


def landscape_floor(surface: Surface, n: int, sub: int = 4) -> np.ndarray:
    """f for a 3-D surface of n x n nodes, indexed [y, x]: at each node the lowest f over its cell (the
    square half a node spacing around it), sampled ``sub`` times finer; NaN where nothing is finite.

    A plain grid samples a narrow valley (Rosenbrock's) at random depths, node by node: its floor becomes
    a saw-tooth, and a path along the true floor runs under the triangles spanned between the walls. The
    cell minima keep the floor's depth along the whole valley and put the surface under the paths."""
    f = landscape_grid(surface, (n - 1) * sub + 1)[2]
    cells = np.lib.stride_tricks.sliding_window_view(
        np.pad(np.where(np.isnan(f), np.inf, f), sub // 2, mode="edge"), (sub + 1, sub + 1))[::sub, ::sub]
    low = cells.min(axis=(-2, -1))
    return np.where(np.isfinite(low), low, np.nan)


def rounded_floor(surface: Surface, n: int, show, *, bend: float, reach: int = 2, sub: int = 4) -> np.ndarray:
    """The 3-D view's heights on n x n nodes, indexed [y, x]: at each node the lowest of
    show(f(p)) + k (d / h)^2 over the points p of a grid ``sub`` times finer within ``reach`` node
    spacings h of it (d: p's distance from the node; k: ``bend`` times the heights' range); NaN where
    nothing is finite. ``show`` maps f to height (display_transform).

    The lowest f over each node's own cell (landscape_floor) keeps a narrow valley's floor under the paths,
    but a valley that crosses the grid obliquely (Rosenbrock's steep right branch) then falls through one
    node in some rows and two in others: a row of beads. With the distance term each node's depth falls
    off smoothly with its distance from the floor, wherever the floor passes between the nodes: one smooth
    groove. The drawn surface (linear between nodes) is nowhere more than k / 2 above show(f): under the
    paths, which the stage lifts by bend times the range."""
    c = show(landscape_grid(surface, (n - 1) * sub + 1)[2])
    c = np.where(np.isfinite(c), c, np.inf)
    finite = c[np.isfinite(c)]
    k = bend * (float(finite.max() - finite.min()) if finite.size else 0.0)
    r = reach * sub
    d = np.arange(-r, r + 1) / sub
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(c, r, mode="edge"), (2 * r + 1, 2 * r + 1))
    low = (windows[::sub, ::sub] + k * (d[:, None] ** 2 + d[None, :] ** 2)).min(axis=(-2, -1))
    return np.where(np.isfinite(low), low, np.nan)


def display_transform(surface: Surface, z_grid: np.ndarray):
    """The map from f to what colour and height show, and its axis title.

    Log surfaces show log10(f - f_min + delta), delta 1e-4 of the grid's
    range, so the valley floor keeps its detail; others show f itself. f_min is f*, or
    the grid's lowest f on a surface without a minimum in its domain.
    """
    if not surface.log_scale:
        return (lambda f: np.asarray(f, dtype=float)), "J(x, y)"
    fmin = float(np.nanmin(z_grid))
    if surface.has_global_min:
        fmin = min(surface.global_min, fmin)
    delta = 1e-4 * max(float(np.nanpercentile(z_grid, 99)) - fmin, 1e-12)
    return (lambda f: np.log10(np.maximum(np.asarray(f, dtype=float) - fmin, 0) + delta)), log_title(surface)


def log_title(surface: Surface) -> str:
    """What a log surface's colours and heights show."""
    return "log10(J − J*)" if surface.has_global_min else "log10(J − lowest J shown)"


def color_range(c: np.ndarray) -> tuple[float, float]:
    """The displayed values' colour range: their minimum to their 99.5th percentile (a few
    walls would otherwise take the whole scale), never empty."""
    lo, hi = float(np.nanmin(c)), float(np.nanpercentile(c, 99.5))
    if not hi > lo:  # flat where finite (exp(x*y) on a wide domain: 0 or overflow): one colour
        hi = lo + 1.0
    return lo, hi


def landscape_png(surface: Surface, width_px: int = 700, levels: int = 30) -> tuple[str, float, float]:
    """The filled-contour picture of the domain as a data URI, with its colour range.

    levels - 1 bands of equal width in the displayed value (log for log surfaces), each in
    the colour of its middle, a light line at every other band edge, toned to ALPHA over
    white; white where f is not finite. No margins: it is stretched exactly over the domain.
    """
    (x0, x1), (y0, y1) = surface.domain
    height = max(1, round(width_px * (y1 - y0) / (x1 - x0)))
    z = landscape_grid(surface, width_px, height)[2][::-1]  # the top row of the picture is y1
    show, _ = display_transform(surface, z)
    c = show(z)
    lo, hi = color_range(c)
    return bands_png(c, lo, hi, levels), lo, hi


def band_colors(bands: int) -> np.ndarray:
    """The colours of a landscape picture's ``bands`` bands, lowest first, as drawn (toned to ALPHA
    over white): RGB in [0, 1], shape (bands, 3). Its colour bar shows these."""
    return ALPHA * colors((np.arange(bands) + 0.5) / bands) + 1 - ALPHA


def bands_png(c: np.ndarray, lo: float, hi: float, levels: int = 30) -> str:
    """Values c (rows top first, columns left to right) as the landscape picture's data URI:
    levels - 1 bands from lo to hi, each in the colour of its middle, a light line at every
    other band edge, toned to ALPHA over white; white where c is not finite."""
    finite = np.isfinite(c)
    bands = levels - 1
    band = np.clip(((np.where(finite, c, lo) - lo) / (hi - lo) * bands).astype(np.uint8), 0, bands - 1)
    # a light line where the band index crosses an even level, to the right or below
    edge = np.zeros(band.shape, dtype=bool)
    for a, b in ((band[:, :-1], band[:, 1:]), (band[:-1], band[1:])):
        edge[: a.shape[0], : a.shape[1]] |= (a != b) & (np.maximum(a, b) % 2 == 0)
    # a palette picture: the bands' colours, the same lightened (lines), white (no value)
    fill = colors((np.arange(bands) + 0.5) / bands)
    palette = np.vstack([band_colors(bands), ALPHA * (0.55 * fill + 0.45) + 1 - ALPHA, [1.0, 1.0, 1.0]])
    index = np.where(finite, band + bands * edge, 2 * bands).astype(np.uint8)
    pic = Image.fromarray(index, mode="P")
    pic.putpalette(np.round(255 * palette).astype(np.uint8).ravel().tolist())
    buf = io.BytesIO()
    pic.save(buf, format="PNG")  # optimize=True: 4 KB smaller (of ~25), 20-30 ms slower per surface
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def global_minima(surface: Surface) -> list[bool]:
    """Which of ``surface.minima`` are global (f within 1e-9 of f*, relative): none on a surface
    without f*."""
    if not surface.has_global_min or not len(surface.minima):
        return [False] * len(surface.minima)
    values, fstar = surface.minima_values, surface.global_min
    return [bool(v - fstar <= 1e-9 * max(1.0, abs(fstar))) for v in values]
