"""Downloads for slides: the map with its trajectories as an animated GIF or a static PNG.

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

from descent_lab.compute import RunView, frame_steps
from landscapes import Surface

from .landscape import ALPHA, COLORMAP, color_range, display_transform, landscape_grid
from .networks import log_loss

WIDTH_IN = 6.4  # the layout is made in inches at this width and scaled to width_px by the dpi
FONT_PT = 11
HOLD_MS = 2000  # the last frame stays this long before the GIF loops
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
    lv = np.linspace(lo, hi, levels)
    filled = ax.contourf(x, y, np.clip(c, lo, hi), levels=lv, cmap=COLORMAP, alpha=ALPHA, extend="both")
    ax.contour(x, y, c, levels=lv[::2], colors="white", linewidths=0.5, alpha=0.6)
    (x0, x1), (y0, y1) = surface.domain
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return filled, lo, hi, title


def gif_bytes(
    surface: Surface,
    runs: Sequence[RunView],
    *,
    frames: int = 60,
    fps: float = 15,
    width_px: int = 640,
    progress: Callable[[float], object] | None = None,
) -> bytes:
    """An animated GIF (loops forever) of the runs moving over the map, ``width_px`` wide.

    At most ``frames`` frames, evenly spread from step 0 to the last step (fewer for
    short runs); the last one is held for 2 s. ``progress(fraction)`` is called as
    frames are made, ending with 1.0.
    """
    return _gif(_surface_view(surface, runs, width_px), frames, fps, progress)


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
        filled = ax.contourf(land.a, land.b, np.clip(c, lo, hi), levels=lv, cmap=COLORMAP, alpha=ALPHA,
                             extend="both")
        ax.contour(land.a, land.b, c, levels=lv[::2], colors="white", linewidths=0.5, alpha=0.6,
                   linestyles="solid")
        ax.set_xlim(*domain[0])
        ax.set_ylim(*domain[1])
        return filled, lo, hi, "log10 loss"

    title = textwrap.fill(land.title, 60)
    return _gif(_View(tracks, width_px, domain, title, draw, axis_labels=("a", "b"), aspect=0.8),
                frames, fps, progress)


def _gif(view: _View, frames: int, fps: float, progress) -> bytes:
    ticks = frame_steps(view.steps, frames)
    rgb = []
    for i, t in enumerate(ticks):
        rgb.append(view.frame(int(t), final=i == len(ticks) - 1))
        if progress is not None:
            progress(0.9 * (i + 1) / len(ticks))
    pal = _palette(rgb[-1], [r.color for r in view.runs])
    pics = [Image.fromarray(a).quantize(palette=pal, dither=Image.Dither.NONE) for a in rgb]
    frame_ms = max(20, round(1000 / fps))
    durations = [frame_ms] * (len(pics) - 1) + [max(frame_ms, HOLD_MS)]
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=durations,
                 loop=0, optimize=True, disposal=1)
    if progress is not None:
        progress(1.0)
    return buf.getvalue()


def png_bytes(surface: Surface, runs: Sequence[RunView], *, width_px: int = 1280) -> bytes:
    """The final view (the GIF's last frame, full colour) as a PNG, ``width_px`` wide."""
    view = _surface_view(surface, runs, width_px)
    buf = io.BytesIO()
    Image.fromarray(view.frame(view.steps, final=True)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def run_label(run: RunView) -> str:
    """The legend label: the run's label, with where it diverged if it did."""
    return _track(run).legend


@dataclass(frozen=True, eq=False)
class Track:
    """What a frame draws of one run: its label, colour, 2-D path (steps + 1, 2) and divergence."""

    label: str
    color: str
    path: np.ndarray
    diverged_at: int

    @property
    def steps(self) -> int:
        return len(self.path) - 1

    @property
    def legend(self) -> str:
        d = self.diverged_at
        return self.label if d < 0 else f"{self.label}, diverged at step {d}"


def _track(run: RunView) -> Track:
    if np.ndim(run.trajectory.diverged_at) != 0:
        raise ValueError("gif_bytes / png_bytes draw single runs, not batches")
    return Track(run.label, run.color, run.trajectory.path, int(run.trajectory.diverged_at))


def _surface_view(surface: Surface, runs: Sequence[RunView], width_px: int) -> _View:
    return _View([_track(r) for r in runs], width_px, surface.domain, surface.title,
                 lambda ax: draw_landscape(ax, surface), minima=surface.minima)


class _View:
    """The figure: a static background, rendered once, and the artists each frame moves."""

    def __init__(self, runs: Sequence[Track], width_px: int, domain, title: str, draw: Callable, *,
                 minima: np.ndarray | None = None, axis_labels: tuple[str, str] = ("x", "y"),
                 aspect: float | None = None):
        """``draw(ax)`` draws the landscape and returns (filled-contour artist, colour min, colour
        max, the colour scale's title), as draw_landscape; ``minima`` (k, 2) are starred; the map
        is ``aspect`` times as high as wide (default: as the domain)."""
        self.runs = list(runs)
        self.steps = max((r.steps for r in runs), default=0)
        (x0, x1), (y0, y1) = self.domain = domain
        aspect = (y1 - y0) / (x1 - x0) if aspect is None else aspect
        # inches: axes left/right margins leave room for tick labels and the colour bar
        left, right, top, bottom = 0.75, 1.05, 0.45, 0.55
        map_w = WIDTH_IN - left - right
        map_h = map_w * aspect
        if map_h > 4.8:  # tall domains: keep the picture slide-shaped
            map_h = 4.8
            map_w = map_h / aspect
        legend_cols = 1 if len(runs) <= 3 else 2
        legend_rows = -(-(len(runs) + 1) // legend_cols)
        legend_h = 0.12 + 0.24 * legend_rows
        height = top + map_h + bottom + legend_h
        dpi = width_px / WIDTH_IN
        self.fig = fig = Figure(figsize=(WIDTH_IN, height), dpi=dpi)
        self.canvas = FigureCanvasAgg(fig)
        fig.patch.set_facecolor("white")
        ax_left = left + (WIDTH_IN - left - right - map_w) / 2
        self.ax = ax = fig.add_axes((ax_left / WIDTH_IN, (bottom + legend_h) / height,
                                     map_w / WIDTH_IN, map_h / height))
        cax = fig.add_axes(((ax_left + map_w + 0.15) / WIDTH_IN, (bottom + legend_h) / height,
                            0.14 / WIDTH_IN, map_h / height))

        filled, lo, hi, bar_title = draw(ax)  # as on the page's map
        bar = fig.colorbar(filled, cax=cax)
        bar.set_label(bar_title, fontsize=FONT_PT - 1)
        bar.ax.tick_params(labelsize=FONT_PT - 2)
        ticks = MaxNLocator(5).tick_values(lo, hi)
        bar.set_ticks(ticks[(ticks >= lo) & (ticks <= hi)])
        ax.set_xlabel(axis_labels[0], fontsize=FONT_PT, labelpad=1)
        ax.set_ylabel(axis_labels[1], fontsize=FONT_PT, labelpad=1)
        ax.tick_params(labelsize=FONT_PT - 2)
        ax.set_title(title, fontsize=FONT_PT + 2 if "\n" not in title else FONT_PT - 1, pad=6)

        if minima is not None:
            ax.plot(minima[:, 0], minima[:, 1], ls="none", marker="*", ms=15, mfc="white", mec="black",
                    mew=1.0, zorder=4)
        handles = []
        self.moving = []
        # earlier runs' trails are wider, so a run another one retraces still shows along its edges
        widen = min(1.2, 2.4 / max(len(runs) - 1, 1))
        for i, r in enumerate(self.runs):
            ax.plot(*r.path[0], marker="o", ms=9, mfc="none", mec=r.color, mew=2, zorder=5)
            lw = 2.0 + widen * (len(runs) - 1 - i)
            handles.append(Line2D([], [], color=r.color, lw=lw, marker="o", ms=7, mec="white",
                                  label=r.legend))
            self.moving.append(self._artists(r, lw))
        if minima is not None:
            handles.append(Line2D([], [], ls="none", marker="*", ms=13, mfc="white", mec="black",
                                  label="known minima"))
        fig.legend(handles=handles, loc="upper center", ncols=legend_cols, frameon=False,
                   fontsize=FONT_PT - 1, bbox_to_anchor=(0.5, legend_h / height), borderaxespad=0.1,
                   handlelength=1.8, columnspacing=1.2)
        self.counter = ax.text(0.02, 0.97, "", transform=ax.transAxes, ha="left", va="top",
                               fontsize=FONT_PT + 1, fontweight="bold", animated=True,
                               bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none",
                                     "alpha": 0.85})
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

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
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()


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
