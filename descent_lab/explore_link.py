"""The Explore page's view: every setting of its open section, to and from URL query parameters.

Like descent_lab.setup (whose QueryReader and Param specs it uses), parsing never raises:
what cannot be used is left at its default and reported in plain words.

Query form: ``section`` (sweep, fair, basins, noise, network), ``surface`` and its parameters by
name, ``start=x,y``, ``steps``; then only the open section's settings:
    sweep:  opt, x, y (setting names), xrange=lo,hi, yrange=lo,hi, cells, metric (gap|steps), tol
    fair:   optimizers (a comma list)
    basins: optimizers, starts (per axis), tol, <optimizer>.lr
    noise:  opt, lr, sigma, batch (dataset surfaces), runs
    network: opt (an optimizer with a beta), data (the network's data set)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import landscapes
import optimizers
from descent_lab import explore as dx
from descent_lab.networks import DATA
from descent_lab.setup import MAX_RUNS, QueryReader, link_number, parse_start, two_numbers
from optimizers import NOISE, STEPS
from specs import Param

SECTIONS = ("sweep", "fair", "basins", "noise", "network")
METRICS = ("gap", "steps")
TOLS = (1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.5)
TOL = Param("tol", 0.01, TOLS[0], TOLS[-1], "Tolerance (distance)", scale="log", grid=TOLS)
CELLS = Param("cells", 40, 10, 60, "Cells per axis", scale="integer", grid=tuple(range(10, 61, 5)))
STARTS = Param("starts", 100, 25, 150, "Starts per axis", scale="integer", grid=(25, 50, 75, 100, 150))
RUNS = Param("runs", 50, 5, 200, "Runs", scale="integer", grid=tuple(range(5, 201, 5)))
CLOUD_NOISES = tuple(v for v in NOISE.grid if v >= 0.01)
SIGMA = Param("sigma", 1.0, 0.0, CLOUD_NOISES[-1], NOISE.label, scale="log", grid=(0.0, *CLOUD_NOISES))
CLOUD_BATCHES = tuple(v for v in optimizers.BATCH.grid if 1 <= v <= 64)
BATCH = Param("batch", 8, CLOUD_BATCHES[0], CLOUD_BATCHES[-1], "Mini-batch size", scale="integer",
              grid=CLOUD_BATCHES)
FAIR_DEFAULT = ("gd", "momentum", "adam", "rmsprop")
BASIN_DEFAULT = ("gd", "momentum", "adam")
BASIN_SURFACE = "himmelblau"  # basins without a surface: four minima, four colours (Rosenbrock has one)


@dataclass(frozen=True)
class ExploreView:
    """What the Explore page shows. None means "the page's default for this surface/optimizer"."""

    section: str = "sweep"
    surface: str = "rosenbrock"
    surface_params: dict = field(default_factory=dict)
    start: tuple[float, float] | None = None  # None: the surface's default start
    steps: int = STEPS.default
    # sweep
    sweep_opt: str = "adam"
    sweep_x: str = "lr"
    sweep_y: str = "beta1"
    x_range: tuple[float, float] | None = None  # None: dx.sweep_range
    y_range: tuple[float, float] | None = None
    cells: int = CELLS.default
    metric: str = "gap"
    sweep_tol: float = TOL.default
    # fair comparison
    fair: tuple[str, ...] = FAIR_DEFAULT
    # basins
    basins: tuple[str, ...] = BASIN_DEFAULT
    starts: int = STARTS.default
    basin_tol: float = 0.1
    basin_lrs: dict = field(default_factory=dict)  # optimizer -> lr; a missing one is tuned
    # noise
    noise_opt: str = "momentum"
    noise_lr: float | None = None  # None: the optimizer's default
    sigma: float | None = None  # None: 1 (analytic surfaces) or 0 (datasets: mini-batches are the noise)
    batch: int = BATCH.default
    runs: int = RUNS.default
    # a network's learning-rate x beta sweep
    net_opt: str = "momentum"
    net_data: str = "moons"


def _pair(v) -> str:
    return f"{link_number(v[0])},{link_number(v[1])}"


def to_query(view: ExploreView) -> dict[str, str]:
    """The view's open section as query parameters."""
    q = {"section": view.section, "surface": view.surface}
    q.update({k: link_number(v) for k, v in sorted(view.surface_params.items())})
    if view.start is not None:
        q["start"] = _pair(view.start)
    q["steps"] = str(view.steps)
    if view.section == "sweep":
        q.update(opt=view.sweep_opt, x=view.sweep_x, y=view.sweep_y, cells=str(view.cells),
                 metric=view.metric, tol=link_number(view.sweep_tol))
        if view.x_range is not None:
            q["xrange"] = _pair(view.x_range)
        if view.y_range is not None:
            q["yrange"] = _pair(view.y_range)
    elif view.section == "fair":
        q["optimizers"] = ",".join(view.fair)
    elif view.section == "basins":
        q.update(optimizers=",".join(view.basins), starts=str(view.starts), tol=link_number(view.basin_tol))
        q.update({f"{name}.lr": link_number(lr) for name, lr in view.basin_lrs.items()})
    elif view.section == "network":
        q.update(opt=view.net_opt, data=view.net_data)
    else:
        q["opt"] = view.noise_opt
        if view.noise_lr is not None:
            q["lr"] = link_number(view.noise_lr)
        if view.sigma is not None:
            q["sigma"] = link_number(view.sigma)
        if view.batch != ExploreView.batch:
            q["batch"] = str(view.batch)
        q["runs"] = str(view.runs)
    return q


def from_query(query: Mapping) -> tuple[ExploreView, list[str]]:
    """The view a query describes, and what was ignored or changed (never raises)."""
    r = QueryReader(query)
    view = ExploreView()
    ch: dict = {}
    if (section := r.choice("section", SECTIONS)) is not None:
        ch["section"] = section
    default = BASIN_SURFACE if section == "basins" else view.surface
    name = r.text("surface")
    if name is not None and name not in landscapes.names():
        r.problems.append(f"surface={name[:40]!r} (unknown; using {default})")
        name = None
    name = name or default
    sparams = {}
    for p in landscapes.spec(name).params:
        v = r.number(p.name, p)
        if v is not None:
            sparams[p.name] = v
    ch.update(surface=name, surface_params=sparams)
    s = landscapes.get(name, **sparams)
    raw = r.text("start")
    if raw is not None and (start := parse_start(raw, s, r.problems)) is not None:
        ch["start"] = start
    if (v := r.number("steps", STEPS)) is not None:
        ch["steps"] = v
    section = ch.get("section", view.section)
    if section == "sweep":
        _sweep(r, ch)
    elif section == "fair":
        if (names := _names(r, "optimizers")) is not None:
            ch["fair"] = names
    elif section == "basins":
        if (names := _names(r, "optimizers")) is not None:
            ch["basins"] = names
        for key, p, attr in (("starts", STARTS, "starts"), ("tol", TOL, "basin_tol")):
            if (v := _on_grid(r, key, p)) is not None:
                ch[attr] = v
        lrs = {}
        for n in ch.get("basins", view.basins):
            if (v := r.number(f"{n}.lr", optimizers.rule(n).lr)) is not None:
                lrs[n] = v
        ch["basin_lrs"] = lrs
    elif section == "network":
        ch["net_opt"] = r.choice("opt", tuple(dx.net_sweep_names()), view.net_opt)
        ch["net_data"] = r.choice("data", DATA, view.net_data)
    else:
        _noise(r, ch, data=s.data is not None)
    r.leftovers()
    return replace(view, **ch), r.problems


def _on_grid(r: QueryReader, key: str, p: Param):
    """A number from the query moved onto ``p``'s slider values (noting a move), or None."""
    v = r.number(key, p)
    if v is None:
        return None
    snapped = p.snap(v)
    if snapped != v:
        r.problems.append(f"{key}={v:g} (not one of the slider's values; used {snapped:g})")
    return int(snapped) if p.integer else float(snapped)


def _names(r: QueryReader, key: str) -> tuple[str, ...] | None:
    raw = r.text(key)
    if raw is None:
        return None
    wanted = [n.strip() for n in raw.split(",") if n.strip()]
    known = list(dict.fromkeys(n for n in wanted if n in optimizers.names()))  # each once, in order
    unknown = [n[:40] for n in wanted if n not in optimizers.names()]
    if unknown:
        r.problems.append(f"{key}: unknown {', '.join(map(repr, unknown[:8]))}")
    if len(known) > MAX_RUNS:
        r.problems.append(f"{len(known) - MAX_RUNS} optimizers beyond the first {MAX_RUNS}")
        known = known[:MAX_RUNS]
    return tuple(known)


def _range(r: QueryReader, key: str, p: Param, problems: list[str]) -> tuple[float, float] | None:
    """Two of the sweep slider's values for setting ``p``, lower first, or None."""
    raw = r.text(key)
    if raw is None or (pair := two_numbers(key, raw, problems, "0.001,1")) is None:
        return None
    lo, hi = pair
    opts = p.sweep_options()
    pair = sorted(min(opts, key=lambda o, v=v: abs(o - v)) for v in (lo, hi))
    if pair == [lo, hi] or pair == [hi, lo]:
        return pair[0], pair[1]
    problems.append(f"{key}={raw[:40]} (not on the {p.label} slider; used {pair[0]:g},{pair[1]:g})")
    return pair[0], pair[1]


def _sweep(r: QueryReader, ch: dict) -> None:
    view = ExploreView()
    opt = r.choice("opt", optimizers.names(), view.sweep_opt)
    settings = [p.name for p in dx.sweep_settings(opt)]
    x = r.choice("x", settings, view.sweep_x if view.sweep_x in settings else settings[0])
    y_opts = [s for s in settings if s != x]
    y_default = view.sweep_y if view.sweep_y in y_opts else y_opts[0]
    y = r.choice("y", y_opts, y_default)
    ch.update(sweep_opt=opt, sweep_x=x, sweep_y=y)
    for key, name, attr in (("xrange", x, "x_range"), ("yrange", y, "y_range")):
        if (pair := _range(r, key, dx.sweep_param(opt, name), r.problems)) is not None:
            ch[attr] = pair
    if (v := _on_grid(r, "cells", CELLS)) is not None:
        ch["cells"] = v
    ch["metric"] = r.choice("metric", METRICS, view.metric)
    if (v := _on_grid(r, "tol", TOL)) is not None:
        ch["sweep_tol"] = v


def _noise(r: QueryReader, ch: dict, data: bool) -> None:
    opt = r.choice("opt", optimizers.names(), ExploreView.noise_opt)
    ch["noise_opt"] = opt
    if (v := r.number("lr", optimizers.rule(opt).lr)) is not None:
        ch["noise_lr"] = v
    if (v := _on_grid(r, "sigma", SIGMA)) is not None:
        if v == 0 and not data:
            r.problems.append(f"sigma=0 (no noise on an analytic surface; used {CLOUD_NOISES[0]:g})")
            v = CLOUD_NOISES[0]
        ch["sigma"] = v
    if (v := _on_grid(r, "batch", BATCH)) is not None:
        if data:
            ch["batch"] = v
        else:
            r.problems.append("batch (only for dataset surfaces)")
    if (v := _on_grid(r, "runs", RUNS)) is not None:
        ch["runs"] = v
