"""Downloads for slides: the map with its trajectories and the loss chart beside it, headed by the
lesson's question, as an animated GIF or a static PNG.

Matplotlib (Agg) and Pillow only. The landscape, axes, colour bar, legend and
start markers are drawn once; each frame restores that background and draws
only the moving artists (path so far, current point, end marker, step
counter). Frames are quantized to one shared palette (the run colours kept
exact), so Pillow stores each frame as the small rectangle that changed.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from PIL import Image

from descent_lab.compute import RunView, gif_steps
from descent_lab.export import GIF_FPS, GIF_FRAMES, SLIDE_SIZES
from landscapes import Surface

from .landscape import ALPHA, COLORMAP, color_range, display_transform, landscape_grid
from .networks import log_loss
from .stage import GAP_FLOOR, gap, loss_reference

WIDTH_IN = 6.4  # the map alone is laid out in inches at this width and scaled to width_px by the dpi
FONT_PT = 11
SLIDE_IN = 12.8  # a slide (map, loss chart, header) is laid out at this width
SLIDE_PT = 14
HOLD_MS = 3000  # the last frame stays this long before the GIF loops
PALETTE_COLORS = 128


def draw_landscape(ax, surface: Surface, levels: int = 30):
    """Filled contours of ``surface`` on the Matplotlib axes ``ax``, limited to its domain, in
    the Playground map's bands, colour range and toning.

    Returns (the filled-contour artist, colour min, colour max, the colour scale's title).
    """
    x, y, z = landscape_grid(surface)
    show, title = display_transform(surface, z)
    c = show(z)
    lo, hi = color_range(c)
    if 0 < lo < 0.01 * (hi - lo):
        lo = 0.0  # a loss whose minimum is 0 but falls between grid points: its colour bar starts at 0
    lv = np.linspace(lo, hi, levels)
    # values are clipped to [lo, hi]: no arrows beyond the colour bar's ends
    filled = ax.contourf(x, y, np.clip(c, lo, hi), levels=lv, cmap=COLORMAP, alpha=ALPHA)
    ax.contour(x, y, c, levels=lv[::2], colors="white", linewidths=0.5, alpha=0.6)
    (x0, x1), (y0, y1) = surface.domain
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return filled, lo, hi, title


def gif_bytes(
    surface: Surface,
    runs: Sequence[RunView],
    *,
    frames: int = GIF_FRAMES.default,
    fps: float = GIF_FPS.default,
    width_px: int = SLIDE_SIZES[0][0],
    height_px: int | None = None,
    loss: bool = True,
    question: str = "",
    progress: Callable[[float], object] | None = None,
) -> bytes:
    """An animated GIF (loops forever) of the runs moving over the map, for a slide.

    ``loss``: the loss chart (f - f*, log scale) grows beside the map; ``question`` (a lesson's
    title and question, or "") heads the picture, else the surface's name does. The picture is
    ``width_px`` wide and ``height_px`` high (default: 16:9 with the loss chart, else as the map
    needs). At most ``frames`` frames, evenly spread from step 0 to the last step (fewer for short
    runs), ``fps`` a second; the last one is held for 3 s. ``progress(fraction)`` is called as
    frames are made, ending with 1.0.
    """
    return _gif(_surface_view(surface, runs, width_px, height_px, loss, question), frames, fps, progress)


def network_gif_bytes(
    land,
    labels: Sequence[str],
    colors: Sequence[str],
    diverged_at,
    *,
    frames: int = 60,
    fps: float = 15,
    width_px: int = 640,
    progress: Callable[[float], object] | None = None,
) -> bytes:
    """The Networks page's landscape animation as a GIF: the loss on a plane through weight space
    (``land``, a descent_lab.networks.Landscape: a, b, loss, coords, title) with the runs' projected
    paths moving over it. Frames, timing and ``progress`` as gif_bytes."""
    tracks = [Track(label, color, land.coords[:, i], int(d))
              for i, (label, color, d) in enumerate(zip(labels, colors, np.asarray(diverged_at).tolist(),
                                                        strict=True))]
    domain = ((float(land.a[0]), float(land.a[-1])), (float(land.b[0]), float(land.b[-1])))

    def draw(ax, levels: int = 30):
        c = log_loss(land.loss)
        lo, hi = color_range(c)
        lv = np.linspace(lo, hi, levels)
        filled = ax.contourf(land.a, land.b, np.clip(c, lo, hi), levels=lv, cmap=COLORMAP, alpha=ALPHA)
        ax.contour(land.a, land.b, c, levels=lv[::2], colors="white", linewidths=0.5, alpha=0.6,
                   linestyles="solid")
        ax.set_xlim(*domain[0])
        ax.set_ylim(*domain[1])
        return filled, lo, hi, "log10 loss"

    layout = _map_layout(width_px, len(tracks), aspect=0.8)
    return _gif(_View(tracks, layout, domain, textwrap.fill(land.title, 60), draw, axis_labels=("a", "b")),
                frames, fps, progress)


def _gif(view: _View, frames: int, fps: float, progress) -> bytes:
    ticks = gif_steps(view.steps, frames)
    rgb = []
    for i, t in enumerate(ticks):
        rgb.append(view.frame(int(t), final=i == len(ticks) - 1))
        if progress is not None:
            progress(0.9 * (i + 1) / len(ticks))
    pal = _palette(rgb[-1], [r.color for r in view.runs])
    pics = [Image.fromarray(a).quantize(palette=pal, dither=Image.Dither.NONE) for a in rgb]
    frame_ms = 10 * max(2, round(100 / fps))  # GIF times are whole hundredths of a second
    durations = [frame_ms] * (len(pics) - 1) + [max(frame_ms, HOLD_MS)]
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=durations,
                 loop=0, optimize=True, disposal=1)
    if progress is not None:
        progress(1.0)
    return buf.getvalue()


def png_bytes(surface: Surface, runs: Sequence[RunView], *, width_px: int = SLIDE_SIZES[0][0],
              height_px: int | None = None, loss: bool = True, question: str = "") -> bytes:
    """The final view (the GIF's last frame, full colour) as a PNG; sizes and contents as gif_bytes."""
    view = _surface_view(surface, runs, width_px, height_px, loss, question)
    buf = io.BytesIO()
    Image.fromarray(view.frame(view.steps, final=True)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def run_label(run: RunView) -> str:
    """The legend label: the run's label, with where it diverged if it did."""
    return _track(run).legend


@dataclass(frozen=True, eq=False)
class Track:
    """What a frame draws of one run: its label, colour, 2-D path (steps + 1, 2) and divergence, and
    for the loss chart its f - f* per step (steps + 1,) or None."""

    label: str
    color: str
    path: np.ndarray
    diverged_at: int
    gap: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return len(self.path) - 1

    @property
    def legend(self) -> str:
        d = self.diverged_at
        return self.label if d < 0 else f"{self.label}, diverged at step {d}"


def _track(run: RunView, fstar: float | None = None) -> Track:
    if np.ndim(run.trajectory.diverged_at) != 0:
        raise ValueError("gif_bytes / png_bytes draw single runs, not batches")
    tr = run.trajectory
    gaps = None if fstar is None else gap(tr.loss, fstar)
    return Track(run.label, run.color, tr.path, int(tr.diverged_at), gaps)


def _surface_view(surface: Surface, runs: Sequence[RunView], width_px: int, height_px: int | None,
                  loss: bool, question: str) -> _View:
    losses = [landscape_grid(surface)[2], *(r.trajectory.loss for r in runs)]
    fstar, loss_title = loss_reference(surface, losses)
    tracks = [_track(r, fstar if loss else None) for r in runs]
    (x0, x1), (y0, y1) = surface.domain
    aspect = (y1 - y0) / (x1 - x0)
    n_legend = len(tracks) + 1  # and the minima's star
    layout = _slide_layout(width_px, height_px, aspect, n_legend, loss, question or surface.title)
    return _View(tracks, layout, surface.domain, "",
                 lambda ax: draw_landscape(ax, surface), minima=surface.minima,
                 loss_title=loss_title.replace(" (log scale", "\n(log scale"))


@dataclass(frozen=True)
class _Layout:
    """Where things go, in inches (x from the left, y from the bottom of a ``size`` figure, as
    (left, bottom, width, height) boxes); ``dpi`` makes it ``width_px`` wide."""

    size: tuple[float, float]
    dpi: float
    font: float  # points
    map: tuple[float, float, float, float]
    loss: tuple[float, float, float, float] | None
    legend_h: float
    legend_cols: int
    header: str = ""  # the wrapped header text ("" : none; the map's title names the surface)


def _legend_shape(n: int, max_cols: int) -> tuple[int, int]:
    cols = min(n, max_cols)
    return cols, -(-n // cols)


def _map_layout(width_px: int, n_legend: int, aspect: float) -> _Layout:
    """The map alone, WIDTH_IN wide at FONT_PT: the map as the domain's shape (at most 4.8 in high),
    tick labels and the colour bar beside it, the legend below."""
    left, right, top, bottom = 0.75, 1.05, 0.45, 0.55
    map_w = WIDTH_IN - left - right
    map_h = map_w * aspect
    if map_h > 4.8:  # tall domains: keep the picture slide-shaped
        map_h = 4.8
        map_w = map_h / aspect
    cols, rows = _legend_shape(n_legend, 1 if n_legend <= 4 else 2)
    legend_h = 0.12 + 0.24 * rows
    height = top + map_h + bottom + legend_h
    ax_left = left + (WIDTH_IN - left - right - map_w) / 2
    return _Layout((WIDTH_IN, height), width_px / WIDTH_IN, FONT_PT,
                   (ax_left, bottom + legend_h, map_w, map_h), None, legend_h, cols)


def _slide_layout(width_px: int, height_px: int | None, aspect: float, n_legend: int, loss: bool,
                  header: str) -> _Layout:
    """A slide, SLIDE_IN wide at SLIDE_PT: the header across the top, the map (with its colour bar)
    and, with ``loss``, the loss chart beside it, the legend across the bottom. ``height_px`` None:
    16:9 with the loss chart, else as high as the map needs."""
    width, font = SLIDE_IN, SLIDE_PT
    line = font * 1.35 / 72
    lines = textwrap.wrap(header, max(20, int((width - 0.4) * 72 / (font * 0.68))))  # bold DejaVu Sans
    header_h = 0.2 + line * len(lines) + 0.1
    cols, rows = _legend_shape(n_legend, 4 if n_legend <= 4 else 3)
    legend_h = 0.15 + 0.32 * rows
    bottom = legend_h + 0.6  # tick labels and axis titles under the plots
    bar_w = 1.25  # colour bar and its labels, right of the map
    if height_px is not None:
        height = width * height_px / width_px
    elif loss:
        height = width * 9 / 16
    else:
        height = header_h + min(4.9, (width - 1.0 - bar_w) * aspect) + bottom
    body = height - header_h - bottom
    map_h = max(1.0, body)
    map_w = map_h / aspect
    room = width * (0.58 if loss else 1.0) - 0.95 - bar_w  # left: y tick labels and title
    if map_w > room:
        map_w, map_h = room, room * aspect
    left = 0.95 if loss else (width - map_w - bar_w + 0.2) / 2
    chart = None
    if loss:
        x0 = left + map_w + bar_w + 1.1  # the chart's tick labels and title
        chart = (x0, bottom, width - x0 - 0.35, body)
    return _Layout((width, height), width_px / width, font, (left, bottom + (body - map_h) / 2, map_w, map_h),
                   chart, legend_h, cols, "\n".join(lines))


class _View:
    """The figure: a static background, rendered once, and the artists each frame moves."""

    def __init__(self, runs: Sequence[Track], layout: _Layout, domain, title: str, draw: Callable, *,
                 minima: np.ndarray | None = None, axis_labels: tuple[str, str] = ("x", "y"),
                 loss_title: str = ""):
        """``draw(ax)`` draws the landscape and returns (filled-contour artist, colour min, colour
        max, the colour scale's title), as draw_landscape; ``minima`` (k, 2) are starred; ``title``
        heads the map ("" : none); with ``layout.loss`` the runs' gaps grow on a log chart titled
        ``loss_title``."""
        self.runs = list(runs)
        self.steps = max((r.steps for r in runs), default=0)
        self.domain = domain
        self.layout = lay = layout
        self.fig = fig = Figure(figsize=lay.size, dpi=lay.dpi)
        self.canvas = FigureCanvasAgg(fig)
        fig.patch.set_facecolor("white")
        self.ax = ax = fig.add_axes(_fraction(lay.map, lay.size))
        self._draw_map(draw, title, axis_labels, minima)
        self.loss_ax = self._loss_axes(loss_title) if lay.loss is not None else None
        if lay.header:
            fig.text(0.5, 1 - 0.2 / lay.size[1], lay.header, ha="center", va="top", fontsize=lay.font + 1,
                     fontweight="bold", linespacing=1.35)
        self._legend(minima is not None)
        self.counter = ax.text(0.02, 0.97, "", transform=ax.transAxes, ha="left", va="top",
                               fontsize=lay.font + 1, fontweight="bold", animated=True,
                               bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none",
                                     "alpha": 0.85})
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def _draw_map(self, draw: Callable, title: str, axis_labels: tuple[str, str], minima) -> None:
        ax, lay, font = self.ax, self.layout, self.layout.font
        left, bottom, w, h = lay.map
        cax = self.fig.add_axes(_fraction((left + w + 0.15, bottom, 0.14, h), lay.size))
        filled, lo, hi, bar_title = draw(ax)  # as on the page's map
        bar = self.fig.colorbar(filled, cax=cax)
        bar.set_label(bar_title, fontsize=font - 1)
        bar.ax.tick_params(labelsize=font - 2)
        ticks = MaxNLocator(5).tick_values(lo, hi)
        bar.set_ticks(ticks[(ticks >= lo) & (ticks <= hi)])
        ax.set_xlabel(axis_labels[0], fontsize=font, labelpad=1)
        ax.set_ylabel(axis_labels[1], fontsize=font, labelpad=1)
        ax.tick_params(labelsize=font - 2)
        if title:
            ax.set_title(title, fontsize=font + 2 if "\n" not in title else font - 1, pad=6)
        if minima is not None:
            ax.plot(minima[:, 0], minima[:, 1], ls="none", marker="*", ms=15, mfc="white", mec="black",
                    mew=1.0, zorder=4)
        self.moving = []
        # earlier runs' trails are wider, so a run another one retraces still shows along its edges
        n = len(self.runs)
        self.widths = [2.0 + min(1.2, 2.4 / max(n - 1, 1)) * (n - 1 - i) for i in range(n)]
        for r, lw in zip(self.runs, self.widths, strict=True):
            ax.plot(*r.path[0], marker="o", ms=9, mfc="none", mec=r.color, mew=2, zorder=5)
            self.moving.append(self._artists(r, lw))

    def _loss_axes(self, title: str):
        """The loss chart: steps across, each run's gap on a log scale up to 10x the largest start."""
        lay = self.layout
        ax = self.fig.add_axes(_fraction(lay.loss, lay.size))
        gaps = [r.gap for r in self.runs if r.gap is not None]
        shown = np.concatenate([g[np.isfinite(g)] for g in gaps]) if gaps else np.ones(1)
        top = max((float(g[0]) for g in gaps if np.isfinite(g[0])), default=float(shown.max(initial=1.0)))
        ax.set_yscale("log")
        ax.set_ylim(max(float(shown.min(initial=top)), GAP_FLOOR) / 3, top * 10)
        ax.set_xlim(0, max(self.steps, 1))
        ax.set_xlabel("step", fontsize=lay.font, labelpad=1)
        ax.set_ylabel(title, fontsize=lay.font - 1, labelpad=2)
        ax.tick_params(labelsize=lay.font - 2)
        ax.grid(True, color="#e6e6e6", lw=0.8)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        self.curves = [(ax.plot([], [], color=r.color, lw=lw, animated=True, solid_capstyle="round")[0],
                        ax.plot([], [], ls="none", marker="o", ms=8, mfc=r.color, mec="white", mew=1.5,
                                animated=True)[0])
                       for r, lw in zip(self.runs, self.widths, strict=True)]
        return ax

    def _legend(self, minima: bool) -> None:
        lay = self.layout
        handles = [Line2D([], [], color=r.color, lw=lw, marker="o", ms=7, mec="white", label=r.legend)
                   for r, lw in zip(self.runs, self.widths, strict=True)]
        if minima:
            handles.append(Line2D([], [], ls="none", marker="*", ms=13, mfc="white", mec="black",
                                  label="known minima"))
        self.fig.legend(handles=handles, loc="upper center", ncols=lay.legend_cols, frameon=False,
                        fontsize=lay.font - 1, bbox_to_anchor=(0.5, lay.legend_h / lay.size[1]),
                        borderaxespad=0.1, handlelength=1.8, columnspacing=1.2)

    def _artists(self, r: Track, lw: float) -> tuple:
        ax = self.ax
        halo = [patheffects.Stroke(linewidth=lw + 1.6, foreground="white", alpha=0.7), patheffects.Normal()]
        trail, = ax.plot([], [], color=r.color, lw=lw, path_effects=halo, zorder=6, animated=True,
                         solid_capstyle="round")
        point, = ax.plot([], [], ls="none", marker="o", ms=10, mfc=r.color, mec="white", mew=1.8,
                         zorder=8, animated=True)
        diverged = r.diverged_at >= 0
        end, = ax.plot([], [], ls="none", marker="X" if diverged else "s", ms=15 if diverged else 9,
                       mfc=r.color, mec="white", mew=1.5, zorder=8, animated=True, clip_on=not diverged)
        return trail, point, end

    def frame(self, t: int, final: bool = False) -> np.ndarray:
        """The picture at step ``t`` as RGB (height, width, 3); ``final`` shows the end markers."""
        self.canvas.restore_region(self.background)
        markers = []  # drawn after every trail, so no trail hides a run's position
        for r, (trail, point, end) in zip(self.runs, self.moving, strict=True):
            d = r.diverged_at
            k = min(t, r.steps)
            path = r.path  # finite throughout: a diverged path stays at its last point
            trail.set_data(path[:k + 1, 0], path[:k + 1, 1])
            stopped = final or (d >= 0 and k >= d - 1)
            if stopped:
                p = path[k] if d < 0 else _on_map(path[:k + 1], self.domain)
                end.set_data([p[0]], [p[1]])
            else:
                point.set_data([path[k, 0]], [path[k, 1]])
            self.ax.draw_artist(trail)
            markers.append(end if stopped else point)
        for a in markers:
            self.ax.draw_artist(a)
        self.counter.set_text(f"step {min(t, self.steps)}")
        self.ax.draw_artist(self.counter)
        if self.loss_ax is not None:
            self._loss_frame(t)
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()

    def _loss_frame(self, t: int) -> None:
        for r, (line, dot) in zip(self.runs, self.curves, strict=True):
            k = min(t, r.steps)
            line.set_data(np.arange(k + 1), r.gap[:k + 1])
            dot.set_data([k], [r.gap[k]])
            self.loss_ax.draw_artist(line)
        for _, dot in self.curves:
            self.loss_ax.draw_artist(dot)


def _fraction(box, size) -> tuple[float, float, float, float]:
    """A (left, bottom, width, height) box in inches as fractions of a figure ``size`` (inches)."""
    left, bottom, w, h = box
    return left / size[0], bottom / size[1], w / size[0], h / size[1]


def _on_map(path: np.ndarray, domain) -> np.ndarray:
    """Where a diverged path was last seen: its end if on the map, else where it last left the map."""
    lo, hi = np.array(domain, dtype=float).T
    inside = np.all((path >= lo) & (path <= hi), axis=1)
    if inside[-1]:
        return path[-1]
    if not inside.any():
        return np.clip(path[-1], lo, hi)
    i = int(np.flatnonzero(inside)[-1])
    a, b = path[i], path[i + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(b > hi, (hi - a) / (b - a), np.where(b < lo, (lo - a) / (b - a), 1.0))
    return np.clip(a + float(np.min(s)) * (b - a), lo, hi)


def _palette(rgb: np.ndarray, exact: Sequence[str]) -> Image.Image:
    """A palette image: the run colours, white and black exactly, the rest from the picture."""
    keep = [tuple(int(h[i:i + 2], 16) for i in (1, 3, 5)) for h in dict.fromkeys(exact)]
    keep += [c for c in ((255, 255, 255), (0, 0, 0)) if c not in keep]
    rest = Image.fromarray(rgb).quantize(colors=PALETTE_COLORS - len(keep), method=Image.Quantize.MEDIANCUT)
    colors = keep + [tuple(c) for c in np.reshape(rest.getpalette()[:3 * (PALETTE_COLORS - len(keep))],
                                                   (-1, 3))]
    pal = Image.new("P", (1, 1))
    pal.putpalette([v for c in colors for v in c])
    return pal
