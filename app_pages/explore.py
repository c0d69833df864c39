"""Explore: every setting at once. Sweep maps, fair comparisons, basins of attraction, noise.

Each picture is one vectorized call of optimizers.run over a whole batch (a grid of
settings, of learning rates, of start points or of noise seeds). The functions
above ``main`` are plain (no widgets), so the tests import them and check them
against single runs; ``main`` only wires widgets to them and to viz.explore.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import streamlit as st

import landscapes
import optimizers
import viz
from app_pages.widgets import image_for, open_in_playground, options_for, param_widget, surface_picker
from descent_lab.setup import MAX_RUNS, RunSpec, Setup, run_spec
from landscapes import Param
from optimizers.analysis import nearest_minimum
from viz import explore as vx

NOISE = Param("noise", 0.0, 0.0, 10.0, "Gradient noise σ")
SWEEP_NOISES = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]
TOLS = [1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.5]
FAIR_LRS = np.logspace(-5, 1, 40)  # 1e-5 .. 10, the learning rates the fair comparison tries
FAIR_DEFAULT = ["gd", "momentum", "adam", "rmsprop"]
BASIN_DEFAULT = ["gd", "momentum", "adam"]
#: the learning rates basin maps start from (tuned per surface by basin_lr): the lr slider's 1-2-5 grid
BASIN_LRS = [v for v in options_for(optimizers.rule("gd").params[0]) if 1e-4 <= v <= 1]
NOISES = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
BATCHES = [1, 2, 4, 8, 16, 32, 64]
SECTIONS = ["Sweep map", "Fair comparison", "Basins of attraction", "Many runs under noise"]
K = "explore."  # prefix of this page's session keys
CONFIG = {"displaylogo": False, "scrollZoom": False}


# --- the batches (no Streamlit) ------------------------------------------------------------------


def scale_of(p: Param) -> str:
    """How a sweep lays out setting ``p``: log for rates, log(1 - beta) for betas, else linear."""
    if p.name.startswith("beta"):
        return "log1m"
    return "log" if p.log or p.name == "noise" else "linear"


def sweep_values(p: Param, lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` values from ``lo`` to ``hi``, evenly spaced on ``p``'s sweep scale, inside p's bounds."""
    scale = scale_of(p)
    u = np.linspace(*vx.to_axis([lo, hi], scale), n)
    v = vx.from_axis(u, scale)
    v[0], v[-1] = lo, hi  # exact ends (no round trip through logs)
    return np.clip(v, p.lo, p.hi)


def sweep_param(name: str, setting: str) -> Param:
    """The Param of a sweepable setting of optimizer ``name``: a hyperparameter, or "noise"."""
    if setting == "noise":
        return NOISE
    return {p.name: p for p in optimizers.rule(name).params}[setting]


def cell_hyper(name: str, xname: str, x: float, yname: str, y: float) -> tuple[dict, float]:
    """One cell's settings: (hyperparameters with defaults elsewhere, noise)."""
    hyper = optimizers.rule(name).defaults()
    noise = 0.0
    for k, v in ((xname, x), (yname, y)):
        if k == "noise":
            noise = float(v)
        else:
            hyper[k] = float(v)
    return hyper, noise


@dataclass(frozen=True)
class Sweep:
    """A two-setting sweep; arrays are (ny, nx), cell (j, i) has x = xs[i], y = ys[j]."""

    xs: np.ndarray
    ys: np.ndarray
    final: np.ndarray  # (ny, nx, 2) end points
    loss: np.ndarray  # final f
    gap: np.ndarray  # final f - f*
    reached_at: np.ndarray | None  # None unless asked for (costly on surfaces with many minima)
    diverged_at: np.ndarray


def sweep(surface, start, name: str, xname: str, xs, yname: str, ys, steps: int, tol: float | None) -> Sweep:
    """Run every cell of the xs x ys grid in one batched call (seed 0 for every cell).

    With ``tol``, reached_at is outcome()'s: the step each run gets within tol of a minimum for good.
    """
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    gx, gy = np.meshgrid(xs, ys)
    hyper, noise = optimizers.rule(name).defaults(), 0.0
    for k, v in ((xname, gx.ravel()), (yname, gy.ravel())):
        if k == "noise":
            noise = v
        else:
            hyper[k] = v
    opt = optimizers.get(name, **hyper)
    tr = optimizers.run(opt, surface, start=start, steps=steps, noise=noise, seed=0, record=False)
    shape = gx.shape
    reached = None if tol is None else optimizers.outcome(tr, surface, tol).reached_at.reshape(shape)
    return Sweep(xs, ys, tr.path[-1].reshape(*shape, 2), tr.loss[-1].reshape(shape),
                 (tr.loss[-1] - surface.global_min).reshape(shape), reached,
                 np.asarray(tr.diverged_at).reshape(shape))


@dataclass(frozen=True)
class LrSweep:
    """One optimizer tried at every learning rate of ``lrs`` (other settings default)."""

    name: str
    lrs: np.ndarray
    gap: np.ndarray  # (n,) final f - f*
    diverged_at: np.ndarray  # (n,)
    loss: np.ndarray  # (steps+1, n)
    best: int | None  # index of the lowest final f - f* among the runs that did not diverge


def best_index(gap, diverged_at) -> int | None:
    """argmin of ``gap`` over the runs that did not diverge and ended finite (None if there are none)."""
    g = np.where((np.asarray(diverged_at) < 0) & np.isfinite(gap), gap, np.inf)
    return int(np.argmin(g)) if np.isfinite(g).any() else None


def lr_sweep(surface, start, name: str, steps: int, lrs=FAIR_LRS) -> LrSweep:
    lrs = np.asarray(lrs, dtype=float)
    tr = optimizers.run(optimizers.get(name, lr=lrs), surface, start=start, steps=steps, record=False)
    gap = tr.loss[-1] - surface.global_min
    div = np.asarray(tr.diverged_at)
    return LrSweep(name, lrs, gap, div, tr.loss, best_index(gap, div))


def grid_starts(surface, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xs (n,), ys (n,) over the domain and the n*n starts, row j = ys[j]."""
    (x0, x1), (y0, y1) = surface.domain
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], -1)


def run_ends(tr, surface, tol: float) -> np.ndarray:
    """Where each run of a batch ends: index of the known minimum it is within ``tol`` of,
    -2 if none (not converged), -1 if it diverged. (R,)."""
    index, dist = nearest_minimum(tr.path[-1], surface)
    with np.errstate(invalid="ignore"):
        labels = np.where(dist <= tol, index, -2)
    return np.where(np.asarray(tr.diverged_at) >= 0, -1, labels)


def basin_labels(surface, name: str, hyper: dict, n: int, steps: int, tol: float):
    """run_ends of the runs from each of n x n grid starts: xs, ys and labels (n, n)."""
    xs, ys, starts = grid_starts(surface, n)
    tr = optimizers.run(optimizers.get(name, **hyper), surface, start=starts, steps=steps, record=False)
    return xs, ys, run_ends(tr, surface, tol).reshape(n, n)


def basin_lr(surface, name: str, steps: int, tol: float, lrs=BASIN_LRS, n: int = 12) -> float:
    """The learning rate of ``lrs`` whose runs from an n x n grid of starts most often end
    within ``tol`` of a known minimum; of equally good ones, the middle one (the most robust).
    All len(lrs) * n * n runs are one batch."""
    lrs = np.asarray(lrs, dtype=float)
    _, _, starts = grid_starts(surface, n)
    tr = optimizers.run(optimizers.get(name, lr=np.repeat(lrs, len(starts))), surface,
                        start=np.tile(starts, (len(lrs), 1)), steps=steps, record=False)
    converged = (run_ends(tr, surface, tol) >= 0).reshape(len(lrs), len(starts)).sum(1)
    best = np.flatnonzero(converged == converged.max())
    return float(lrs[best[len(best) // 2]])


def noise_cloud(surface, start, name: str, hyper: dict, steps: int, runs: int, noise: float,
                batch: int | None):
    """``runs`` noisy runs (seeds 0..runs-1) and the noise-free one: (path, loss) each."""
    opt = optimizers.get(name, **hyper)
    seeds = np.arange(runs)
    tr = optimizers.run(opt, surface, start=start, steps=steps, noise=noise, seed=seeds, batch_size=batch,
                        record=False)
    clean = optimizers.run(opt, surface, start=start, steps=steps, record=False)
    return tr.path, tr.loss, clean.path, clean.loss


# --- cached wrappers (hashable keys, bounded) ----------------------------------------------------


def _surface(key: tuple):
    return landscapes.get(key[0], **dict(key[1]))


# cache_data pickles what it stores, and a page's classes live in a module Streamlit names
# __main__: the cached functions return plain dicts, the wrappers rebuild the dataclasses.
@st.cache_data(max_entries=32, show_spinner=False)
def _cached_sweep(skey, start, name, xname, xs, yname, ys, steps, tol) -> dict:
    return vars(sweep(_surface(skey), start, name, xname, xs, yname, ys, steps, tol))


def cached_sweep(*args) -> Sweep:
    return Sweep(**_cached_sweep(*args))


@st.cache_data(max_entries=64, show_spinner=False)
def _cached_lr_sweep(skey, start, name, steps) -> dict:
    return vars(lr_sweep(_surface(skey), start, name, steps))


def cached_lr_sweep(*args) -> LrSweep:
    return LrSweep(**_cached_lr_sweep(*args))


@st.cache_data(max_entries=48, show_spinner=False)
def cached_basins(skey, name, hyper: tuple, n, steps, tol):
    return basin_labels(_surface(skey), name, dict(hyper), n, steps, tol)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_basin_lr(skey, name, steps, tol) -> float:
    return basin_lr(_surface(skey), name, steps, tol)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_cloud(skey, start, name, hyper: tuple, steps, runs, noise, batch):
    return noise_cloud(_surface(skey), start, name, dict(hyper), steps, runs, noise, batch)


# --- the page ------------------------------------------------------------------------------------

GOTO = K + "goto"  # a Setup to open in the Playground at the top of the next run


def label(name: str) -> str:
    return optimizers.rule(name).label


def _options(p: Param) -> list[float]:
    if p.name == "noise":
        return SWEEP_NOISES
    opts = options_for(p)
    if opts is None:
        opts = sorted({p.lo, *np.linspace(p.lo, p.hi, 11).round(6).tolist(), p.hi})
    return [float(v) for v in opts if scale_of(p) != "log" or v > 0]


def _default_range(p: Param, opts: list[float]) -> tuple[float, float]:
    if p.name == "lr":
        lo, hi = p.default / 100, min(p.default * 100, p.hi)
    elif p.name.startswith("beta"):
        lo, hi = 0.0, 0.999
    elif p.name == "noise":
        lo, hi = 0.01, 10.0
    else:
        lo, hi = opts[0], opts[-1]
    arr = np.array(opts)
    return float(arr[np.argmin(np.abs(arr - lo))]), float(arr[np.argmin(np.abs(arr - hi))])


def clicked(chart: str, context: str) -> tuple[dict, dict] | None:
    """The point clicked on the chart keyed ``chart`` and what its section saved under ``context``."""
    event = st.session_state.get(K + chart) or {}
    points = (event.get("selection") or {}).get("points") or []
    ctx = st.session_state.get(K + context)
    return (points[0], ctx) if points and ctx is not None else None


def open_cell() -> None:
    """Click on a sweep cell: remember that cell's exact configuration for the Playground."""
    if (hit := clicked("sweep_chart", "sweep_ctx")) is None:
        return
    pt, ctx = hit
    n_cells = len(ctx["xs"]) * len(ctx["ys"])
    idx = pt.get("point_index", pt.get("pointIndex"))
    if idx is None or pt.get("curve_number") not in (None, ctx["curve"]) or not 0 <= int(idx) < n_cells:
        return
    j, i = divmod(int(idx), len(ctx["xs"]))
    hyper, noise = cell_hyper(ctx["name"], ctx["xname"], ctx["xs"][i], ctx["yname"], ctx["ys"][j])
    st.session_state[GOTO] = Setup(
        surface=ctx["surface"], surface_params=dict(ctx["surface_params"]), start=ctx["start"],
        steps=ctx["steps"], runs=(RunSpec(ctx["name"], hyper),), noise=noise, seed=0)


def open_race(setup: Setup) -> None:
    st.session_state[GOTO] = setup


def sweep_section(surface, skey, start, steps) -> None:
    st.markdown("Every cell is one run with its own pair of settings, all computed in one batch. "
                "**Click a cell** to open exactly that run in the Playground.")
    c1, c2, c3, c4 = st.columns([1.1, 1, 1, 1])
    names = optimizers.names()
    name = c1.selectbox("Optimizer", names, index=names.index("adam"), key=K + "sw.opt", format_func=label)
    rule = optimizers.rule(name)
    settings = [p.name for p in rule.params] + ["noise"]
    nice = {p.name: p.label for p in rule.params} | {"noise": "Gradient noise σ"}
    xname = c2.selectbox("Across (x)", settings, key=K + f"sw.{name}.x", format_func=nice.get)
    y_opts = [s for s in settings if s != xname]
    yname = c3.selectbox("Up (y)", y_opts, key=K + f"sw.{name}.y", format_func=nice.get)
    metric = c4.radio("Colour shows", ["gap", "steps"], key=K + "sw.metric", horizontal=False,
                      format_func={"gap": "final f − f*", "steps": "steps to reach a minimum"}.get)
    c1, c2, c3, c4 = st.columns([1.1, 1, 1, 1])
    ranges = {}
    for col, setting in ((c2, xname), (c3, yname)):
        p = sweep_param(name, setting)
        opts = _options(p)
        key = K + f"sw.{name}.{setting}.range"
        cur = st.session_state.get(key)
        if not (isinstance(cur, list | tuple) and len(cur) == 2 and set(cur) <= set(opts)):
            st.session_state[key] = _default_range(p, opts)
        lo, hi = col.select_slider(f"{nice[setting]} from … to", opts, key=key,
                                   format_func=lambda v: f"{v:g}")
        if lo == hi:
            k = opts.index(lo)
            lo, hi = (opts[k], opts[k + 1]) if k + 1 < len(opts) else (opts[k - 1], opts[k])
        ranges[setting] = (p, lo, hi)
    n = c1.slider("Cells per axis", 10, 60, 40, step=5, key=K + "sw.n")
    tol = c4.select_slider("Tolerance (distance)", TOLS, value=1e-2, key=K + "sw.tol",
                           format_func=lambda v: f"{v:g}", disabled=metric != "steps")
    xs = sweep_values(*ranges[xname], n)
    ys = sweep_values(*ranges[yname], n)
    with st.spinner(f"Running {n * n:,} × {steps} steps …"):
        res = cached_sweep(skey, start, name, xname, tuple(xs.tolist()), yname, tuple(ys.tolist()), steps,
                           float(tol) if metric == "steps" else None)
        values = res.gap if metric == "gap" else res.reached_at.astype(float)
        fig = vx.sweep_figure(values, res.diverged_at, xs, ys, x_label=nice[xname], y_label=nice[yname],
                              x_scale=scale_of(ranges[xname][0]), y_scale=scale_of(ranges[yname][0]),
                              metric=metric, steps=steps, tol=tol,
                              title=f"{rule.label} on {surface.title}: {n}×{n} runs of {steps} steps")
    st.session_state[K + "sweep_ctx"] = {
        "name": name, "xname": xname, "yname": yname, "xs": xs.tolist(), "ys": ys.tolist(),
        "surface": surface.name, "surface_params": dict(surface.params), "start": start, "steps": steps,
        "curve": len(fig["data"]) - 1,
    }
    st.plotly_chart(viz.fast_figure(fig), key=K + "sweep_chart", on_select=open_cell,
                    selection_mode="points", config=CONFIG)
    n_div = int((res.diverged_at >= 0).sum())
    ok = res.diverged_at < 0
    msg = f"{n_div} of {n * n} runs diverged (grey, crossed)." if n_div else "No run diverged."
    if ok.any():
        best = np.unravel_index(np.argmin(np.where(ok, res.gap, np.inf)), res.gap.shape)
        msg += (f" Lowest final f − f* = {max(res.gap[best], 0.0):.3g} at {nice[xname]} = {xs[best[1]]:.3g}, "
                f"{nice[yname]} = {ys[best[0]]:.3g}.")
    st.caption(msg)


def fair_section(surface, skey, start, steps) -> None:
    st.markdown("Each optimizer gets its own best learning rate (the lowest final f − f* among "
                f"{len(FAIR_LRS)} rates from {FAIR_LRS[0]:g} to {FAIR_LRS[-1]:g}, other settings at "
                "their defaults); then they race. A robust optimizer has a wide valley in the "
                "sensitivity plot.")
    chosen = st.multiselect("Optimizers", optimizers.names(), default=FAIR_DEFAULT, key=K + "fair.opts",
                            format_func=label, max_selections=MAX_RUNS)
    if not chosen:
        st.info("Choose at least one optimizer.")
        return
    with st.spinner(f"Trying {len(FAIR_LRS)} learning rates for each optimizer …"):
        results = [cached_lr_sweep(skey, start, n, steps) for n in chosen]
    colors = {n: viz.PALETTE[i % len(viz.PALETTE)] for i, n in enumerate(chosen)}
    race = [(label(r.name) + f" (lr {r.lrs[r.best]:.3g})", colors[r.name], r.loss[:, r.best])
            for r in results if r.best is not None]
    c1, c2 = st.columns(2)
    with c1:
        if race:
            st.plotly_chart(viz.fast_figure(vx.race_figure(surface.global_min, race)), key=K + "race")
        else:
            st.warning("Every learning rate diverged for every optimizer chosen.")
    with c2:
        curves = [(label(r.name), colors[r.name], r.gap, r.diverged_at, r.best) for r in results]
        st.plotly_chart(viz.fast_figure(vx.sensitivity_figure(FAIR_LRS, curves)), key=K + "sensitivity")
    rows = []
    for r in results:
        ok = r.diverged_at < 0
        rows.append({
            "optimizer": label(r.name),
            "best lr": float(r.lrs[r.best]) if r.best is not None else None,
            "final f − f*": float(r.gap[r.best]) if r.best is not None else None,
            "lrs that converge": f"{int(ok.sum())} of {len(ok)}",
            "diverges from lr": float(r.lrs[~ok].min()) if (~ok).any() else None,
        })
    c1, c2 = st.columns([3, 1])
    c1.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"best lr": st.column_config.NumberColumn(format="%.3g"),
                                "final f − f*": st.column_config.NumberColumn(format="%.3g"),
                                "diverges from lr": st.column_config.NumberColumn(format="%.3g")})
    tuned = tuple(run_spec(r.name, lr=float(r.lrs[r.best])) for r in results if r.best is not None)
    if tuned:
        setup = Setup(surface=surface.name, surface_params=dict(surface.params), start=start, steps=steps,
                      runs=tuned)
        c2.button(":material/open_in_new: Race them in the Playground", key=K + "fair.open",
                  on_click=open_race, args=(setup,), width="stretch")


SHOW_PARTIAL_AFTER = 0.3  # s: a basin map that took longer is shown before the next one is computed


def open_start() -> None:
    """Click on a basin map: remember a Playground setup with every mapped optimizer from that start."""
    if (hit := clicked("basins", "basin_ctx")) is None:
        return
    pt, ctx = hit
    idx = pt.get("point_index", pt.get("pointIndex"))
    if idx is None or pt.get("curve_number") not in ctx["clicks"]:
        return
    k = ctx["stride"]
    columns = len(ctx["xs"][::k])
    jj, ii = divmod(int(idx), columns)
    if not (0 <= ii * k < len(ctx["xs"]) and 0 <= jj * k < len(ctx["ys"])):
        return
    st.session_state[GOTO] = Setup(
        surface=ctx["surface"], surface_params=dict(ctx["surface_params"]),
        start=(ctx["xs"][ii * k], ctx["ys"][jj * k]), steps=ctx["steps"],
        runs=tuple(RunSpec(name, optimizers.rule(name).defaults() | hyper) for name, hyper in ctx["runs"]))


def basin_section(surface, skey, steps) -> None:
    st.markdown("Every pixel is a start point; its colour is the minimum the run from there ends in. "
                "Same colour, same minimum, in every map. **Click a start** to race these optimizers "
                "from there in the Playground.")
    c1, c2, c3 = st.columns([2, 1, 1])
    chosen = c1.multiselect("Optimizers", optimizers.names(), default=BASIN_DEFAULT, key=K + "basin.opts",
                            format_func=label, max_selections=MAX_RUNS)
    n = c2.select_slider("Starts per axis", [25, 50, 75, 100, 150], value=100, key=K + "basin.n")
    tol = float(c3.select_slider("Tolerance (distance)", TOLS, value=0.1, key=K + "basin.tol",
                                 format_func=lambda v: f"{v:g}"))
    if not chosen:
        st.info("Choose at least one optimizer.")
        return
    cols = st.columns(min(len(chosen), 3))
    hypers = {}
    for k, name in enumerate(chosen):
        p = optimizers.rule(name).params[0]
        key = K + f"basin.{surface.name}.{name}.lr"
        if key not in st.session_state:
            with st.spinner(f"Tuning {label(name)}'s learning rate for this surface …"):
                st.session_state[key] = cached_basin_lr(skey, name, steps, tol)
        with cols[k % len(cols)]:
            hypers[name] = {"lr": param_widget(p, key)}
    st.caption(f"Each learning rate starts at the one of {BASIN_LRS[0]:g} … {BASIN_LRS[-1]:g} that converges "
               "from the most starts of a coarse grid (the middle of the best range); move it to see the "
               "basins change.")
    xs, ys, _ = grid_starts(surface, n)
    maps = [(f"{label(name)}, lr {hypers[name]['lr']:g}", None) for name in chosen]
    slot = st.empty()
    for k, name in enumerate(chosen):
        t0 = time.perf_counter()
        with st.spinner(f"Map {k + 1} of {len(chosen)}: {label(name)}, {n * n:,} starts × {steps} steps …"):
            _, _, labels = cached_basins(skey, name, tuple(hypers[name].items()), n, steps, tol)
        maps[k] = (maps[k][0], labels)
        if k + 1 < len(chosen) and time.perf_counter() - t0 > SHOW_PARTIAL_AFTER:
            slot.plotly_chart(viz.fast_figure(vx.basin_figure(surface, xs, ys, maps, tol=tol)), config=CONFIG)
    fig = vx.basin_figure(surface, xs, ys, maps, tol=tol)
    st.session_state[K + "basin_ctx"] = {
        "surface": surface.name, "surface_params": dict(surface.params), "steps": steps,
        "xs": xs.tolist(), "ys": ys.tolist(), "stride": vx.click_stride(n),
        "clicks": [i for i, t in enumerate(fig["data"]) if t.get("name") == vx.BASIN_CLICKS],
        "runs": [(name, hypers[name]) for name in chosen],
    }
    slot.plotly_chart(viz.fast_figure(fig), key=K + "basins", config=CONFIG, on_select=open_start,
                      selection_mode="points")
    if len(surface.minima) > 6:
        st.caption("This surface has many minima: minima of equal value share a colour.")
    elif len(surface.minima) == 1:
        st.caption("One known minimum here: the map shows where each optimizer gets there at all. "
                   "Try Gaussian wells, Himmelblau, Six-hump camel or Styblinski-Tang for several basins.")


def noise_section(surface, skey, start, steps) -> None:
    data = surface.data is not None
    st.markdown("The same run many times, each with its own random "
                + ("mini-batches" if data else "gradient noise")
                + " (seeds 0, 1, 2, …): the cloud shows how far noise carries it, the band how its loss "
                  "spreads.")
    c1, c2, c3, c4 = st.columns(4)
    names = optimizers.names()
    name = c1.selectbox("Optimizer", names, index=names.index("momentum"), key=K + "noise.opt",
                        format_func=label)
    p = optimizers.rule(name).params[0]
    with c2:
        lr = param_widget(p, K + f"noise.{name}.lr")
    batch = None
    if data:
        batch = int(c3.select_slider("Mini-batch size", BATCHES, value=8, key=K + "noise.batch"))
        noise = float(c4.select_slider("Extra gradient noise σ", [0.0, *NOISES], value=0.0,
                                       key=K + "noise.sigma", format_func=lambda v: f"{v:g}"))
    else:
        noise = float(c3.select_slider("Gradient noise σ", NOISES, value=1.0, key=K + "noise.sigma",
                                       format_func=lambda v: f"{v:g}"))
    runs = int((c4 if not data else c1).slider("Runs", 5, 200, 50, step=5, key=K + "noise.runs"))
    with st.spinner(f"Running {runs} noisy runs …"):
        paths, loss, clean_path, clean_loss = cached_cloud(skey, start, name, (("lr", float(lr)),), steps,
                                                           runs, noise, batch)
        color = viz.PALETTE[1]
        what = f"mini-batches of {batch}" if batch else ""
        if noise:
            what += (" + " if what else "") + f"σ = {noise:g}"
        cloud = vx.cloud_figure(surface, image_for(surface), paths, clean_path, color=color,
                                label=f"{label(name)}, lr {lr:g}, {what}")
        band = vx.band_figure(surface.global_min, loss, clean_loss, color=color)
    c1, c2 = st.columns([1.1, 1])
    c1.plotly_chart(viz.fast_figure(cloud), key=K + "cloud", config=CONFIG)
    c2.plotly_chart(viz.fast_figure(band), key=K + "band")


def main() -> None:
    pending = st.session_state.pop(GOTO, None)
    if pending is not None:
        open_in_playground(pending)  # switch_page: not allowed inside a callback, fine here

    with st.sidebar:
        st.title(":material/grid_on: Explore")
        surface = surface_picker(st.sidebar, key=K + "surface")
        (x0, x1), (y0, y1) = surface.domain
        kx, ky = K + f"start.{surface.name}.x", K + f"start.{surface.name}.y"
        st.session_state.setdefault(kx, float(surface.start[0]))
        st.session_state.setdefault(ky, float(surface.start[1]))
        c1, c2 = st.columns(2)
        sx = c1.number_input("Start x", min_value=x0, max_value=x1, key=kx, step=0.1, format="%.3f")
        sy = c2.number_input("Start y", min_value=y0, max_value=y1, key=ky, step=0.1, format="%.3f")
        steps = int(st.slider("Steps", 10, 2000, 500, key=K + "steps"))
        st.caption("Start and steps apply to every section (basin maps start everywhere).")
    skey = (surface.name, tuple(sorted(surface.params.items())))
    start = (float(sx), float(sy))

    st.markdown(
        "<style>.block-container{padding-top:2.2rem;padding-bottom:1rem}"
        "[data-testid='stSidebarContent']{padding-top:0.5rem}"
        "button[data-baseweb='tab'] p{font-size:1.15rem}</style>", unsafe_allow_html=True)
    tabs = st.tabs(SECTIONS, key=K + "tab", on_change="rerun")
    for tab, section in zip(tabs, SECTIONS, strict=True):
        if not tab.open:
            continue
        with tab:
            if section == SECTIONS[0]:
                sweep_section(surface, skey, start, steps)
            elif section == SECTIONS[1]:
                fair_section(surface, skey, start, steps)
            elif section == SECTIONS[2]:
                basin_section(surface, skey, steps)
            else:
                noise_section(surface, skey, start, steps)


if __name__ == "__main__":
    main()
