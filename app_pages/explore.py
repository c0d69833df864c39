"""Explore: every setting at once. Sweep maps, fair comparisons, basins of attraction, noise,
and a learning-rate x beta map of a real network.

The batches are in descent_lab.explore (each one vectorized call of the optimizers); this page
wires widgets to them, caches them and shows viz.explore's figures.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import streamlit as st

import landscapes
import optimizers
import viz
from app_pages.widgets import (
    image_for,
    open_in_networks,
    open_in_playground,
    param_widget,
    plain,
    surface_picker,
)
from descent_lab import explore as dx
from descent_lab import explore_link as el
from descent_lab import networks as dn
from descent_lab.setup import MAX_RUNS, RunSpec, Setup, run_spec
from landscapes import datasets
from optimizers import NOISE
from viz import explore as vx

TOLS = list(el.TOLS)
FAIR_DEFAULT = list(el.FAIR_DEFAULT)
BASIN_DEFAULT = list(el.BASIN_DEFAULT)
SECTIONS = ["Sweep map", "Fair comparison", "Basins of attraction", "Many runs under noise", "Network sweep"]
SECTION_OF = dict(zip(SECTIONS, el.SECTIONS, strict=True))  # tab label -> link name
K = "explore."  # prefix of this page's session keys
LOADED = K + "loaded"  # set once the session's link has been read
CONFIG = {"displaylogo": False, "scrollZoom": False}
# a sweep map beside its colour bar is ~150 px wide on a phone: there the page shows its phone layout
PHONE_CSS = ("@media (max-width:640px){.st-key-wide_chart{display:none}}"
             "@media (min-width:641px){.st-key-phone_chart{display:none}}")
# every chosen optimizer's chip in sight: they wrap to new lines (Streamlit scrolls them sideways, cut off)
CHIPS_CSS = ("[data-testid='stMultiSelectTagsContainer']{overflow:visible;flex-wrap:wrap;height:auto}"
             "[data-testid='stMultiSelectTagsContainer']>span[role='group']{flex-wrap:wrap}"
             "[role='group']:has(>[data-testid='stMultiSelectTagsContainer']){max-height:none;height:auto}")
BASIN_SWITCH = K + "basin.switched_from"  # the one-minimum surface the basins tab moved away from
SIDEBAR_NOTE = ("Surface, start and steps are for the sweep map, the fair comparison and the noisy runs; "
                "basin maps use the surface and steps and start everywhere. The network sweep trains its "
                "own network and uses none of them.")


def _surface(key: tuple):
    return landscapes.get(key[0], **dict(key[1]))


@st.cache_data(max_entries=32, show_spinner=False)
def cached_sweep(skey, start, name, xname, xs, yname, ys, steps, tol) -> dx.Sweep:
    return dx.sweep(_surface(skey), start, name, xname, xs, yname, ys, steps, tol)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_lr_sweep(skey, start, name, steps) -> dx.LrSweep:
    return dx.lr_sweep(_surface(skey), start, name, steps)


@st.cache_data(max_entries=48, show_spinner=False)
def cached_basins(skey, name, hyper: tuple, n, steps, tol):
    return dx.basin_labels(_surface(skey), name, dict(hyper), n, steps, tol)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_basin_lr(skey, name, steps, tol) -> float:
    return dx.basin_lr(_surface(skey), name, steps, tol)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_cloud(skey, start, name, hyper: tuple, steps, runs, noise, batch) -> dx.Cloud:
    return dx.noise_cloud(_surface(skey), start, name, dict(hyper), steps, runs, noise, batch)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_net_sweep(name: str, data: str) -> dx.NetSweep:
    return dx.net_sweep(dx.net_sweep_setup(data), name)


# --- the page ------------------------------------------------------------------------------------

GOTO = K + "goto"  # a Setup to open in the Playground at the top of the next run
NET_GOTO = K + "net_goto"  # a Networks link to open at the top of the next run


def label(name: str) -> str:
    return optimizers.rule(name).label


def clicked(chart: str, context: str) -> tuple[dict, dict] | None:
    """The point clicked on the chart keyed ``chart`` and what its section saved under ``context``."""
    event = st.session_state.get(K + chart) or {}
    points = (event.get("selection") or {}).get("points") or []
    ctx = st.session_state.get(K + context)
    return (points[0], ctx) if points and ctx is not None else None


def open_cell(chart: str = "sweep_chart") -> None:
    """Click on a sweep cell (of the map keyed ``chart``): remember that cell's exact configuration for
    the Playground."""
    if (hit := clicked(chart, "sweep_ctx")) is None:
        return
    pt, ctx = hit
    if (cell := dx.clicked_cell(pt, ctx["curve"], len(ctx["xs"]), len(ctx["ys"]))) is None:
        return
    j, i = cell
    hyper, noise = dx.cell_hyper(ctx["name"], ctx["xname"], ctx["xs"][i], ctx["yname"], ctx["ys"][j])
    st.session_state[GOTO] = Setup(
        surface=ctx["surface"], surface_params=dict(ctx["surface_params"]), start=ctx["start"],
        steps=ctx["steps"], runs=(RunSpec(ctx["name"], hyper),), noise=noise, seed=0)


def open_net_cell(chart: str = "net_chart") -> None:
    """Click on a network sweep's cell (of the map keyed ``chart``): remember that cell's link for the
    Networks page."""
    if (hit := clicked(chart, "net_ctx")) is None:
        return
    pt, ctx = hit
    res = cached_net_sweep(ctx["name"], ctx["data"])
    if (cell := dx.clicked_cell(pt, ctx["curve"], res.lrs.size, res.betas.size)) is not None:
        st.session_state[NET_GOTO] = dn.link(res.cell(*cell))


def sweep_chart(fig: dict, chart: str, on_select) -> None:
    """A sweep map keyed ``chart``, and for a phone (shown instead by PHONE_CSS) the same map with its
    colour bar under it and no toolbar over its title; a click on either calls ``on_select(key)``."""
    with st.container(key="wide_chart"):
        st.plotly_chart(viz.fast_figure(fig), key=K + chart, on_select=partial(on_select, chart),
                        selection_mode="points", config=CONFIG)
    with st.container(key="phone_chart"):
        st.plotly_chart(viz.fast_figure(vx.for_phone(fig)), key=K + chart + "_phone",
                        on_select=partial(on_select, chart + "_phone"), selection_mode="points",
                        config={**CONFIG, "displayModeBar": False})


def open_race(setup: Setup) -> None:
    st.session_state[GOTO] = setup


def tab_changed() -> None:
    """Opening the basins on a surface with one minimum (a one-colour map): show them on
    el.BASIN_SURFACE instead, and say so."""
    ss = st.session_state
    if ss[K + "tab"] == SECTIONS[2] and len(landscapes.get(ss[K + "surface"]).minima) < 2:
        ss[BASIN_SWITCH] = landscapes.get(ss[K + "surface"]).title
        ss[K + "surface"] = el.BASIN_SURFACE


def load(view: el.ExploreView, surface) -> None:
    """Put a view (from a link, or the defaults) into the page's widgets."""
    ss = st.session_state
    ss[K + "tab"] = SECTIONS[el.SECTIONS.index(view.section)]
    ss[K + "surface"] = view.surface
    for k, v in view.surface_params.items():
        ss[K + f"surface.{view.surface}.{k}"] = v
    if view.start is not None:
        ss[K + f"start.{view.surface}.x"], ss[K + f"start.{view.surface}.y"] = view.start
    ss[K + "steps"] = view.steps
    opt = view.sweep_opt
    ss[K + "sw.opt"], ss[K + f"sw.{opt}.x"], ss[K + f"sw.{opt}.y"] = opt, view.sweep_x, view.sweep_y
    for setting, pair in ((view.sweep_x, view.x_range), (view.sweep_y, view.y_range)):
        if pair is not None:
            ss[K + f"sw.{opt}.{setting}.range"] = pair
    ss[K + "sw.n"], ss[K + "sw.metric"], ss[K + "sw.tol"] = view.cells, view.metric, view.sweep_tol
    ss[K + "fair.opts"] = list(view.fair)
    ss[K + "basin.opts"], ss[K + "basin.n"] = list(view.basins), view.starts
    ss[K + "basin.tol"] = view.basin_tol
    for name, lr in view.basin_lrs.items():
        ss[K + f"basin.{view.surface}.{name}.lr"] = lr
    ss[K + "noise.opt"] = view.noise_opt
    if view.noise_lr is not None:
        ss[K + f"noise.{view.noise_opt}.lr"] = view.noise_lr
    data = surface.data is not None
    ss[K + "noise.sigma"] = view.sigma if view.sigma is not None and not data else 1.0
    ss[K + "noise.data_sigma"] = view.sigma if view.sigma is not None and data else 0.0
    ss[K + "noise.batch"], ss[K + "noise.runs"] = view.batch, view.runs
    ss[K + "net.opt"], ss[K + "net.data"] = view.net_opt, view.net_data


def sweep_section(surface, skey, start, steps) -> dict:
    st.markdown("Every cell is one run with its own pair of settings, all computed in one batch. "
                "**Click a cell** to open exactly that run in the Playground.")
    c1, c2, c3, c4 = st.columns([1.1, 1, 1, 1])
    names = optimizers.names()
    name = c1.selectbox("Optimizer", names, key=K + "sw.opt", format_func=label)
    rule = optimizers.rule(name)
    params = {p.name: p for p in dx.sweep_settings(name)}
    settings = list(params)
    nice = {k: p.label for k, p in params.items()}
    xname = c2.selectbox("Across (x)", settings, key=K + f"sw.{name}.x", format_func=nice.get)
    y_opts = [s for s in settings if s != xname]
    yname = c3.selectbox("Up (y)", y_opts, key=K + f"sw.{name}.y", format_func=nice.get)
    metric = c4.radio("Colour shows", list(el.METRICS), key=K + "sw.metric", horizontal=False,
                      format_func={"gap": "final J − J*", "steps": "steps to reach a minimum"}.get,
                      help=vx.GAP_TEXT + ".")
    c1, c2, c3, c4 = st.columns([1.1, 1, 1, 1])
    ranges = {}
    for col, setting in ((c2, xname), (c3, yname)):
        p = params[setting]
        opts = p.sweep_options()
        key = K + f"sw.{name}.{setting}.range"
        cur = st.session_state.get(key)
        if not (isinstance(cur, list | tuple) and len(cur) == 2 and set(cur) <= set(opts)):
            st.session_state[key] = dx.sweep_range(p)
        lo, hi = col.select_slider(f"{nice[setting]} from … to", opts, key=key,
                                   format_func=lambda v: f"{v:g}")
        if lo == hi:
            k = opts.index(lo)
            lo, hi = (opts[k], opts[k + 1]) if k + 1 < len(opts) else (opts[k - 1], opts[k])
        ranges[setting] = (p, float(lo), float(hi))
    n = c1.slider(el.CELLS.label, int(el.CELLS.lo), int(el.CELLS.hi), step=5, key=K + "sw.n")
    tol = c4.select_slider(el.TOL.label, TOLS, key=K + "sw.tol",
                           format_func=lambda v: f"{v:g}", disabled=metric != "steps")
    xs = dx.sweep_values(*ranges[xname], n)
    ys = dx.sweep_values(*ranges[yname], n)
    with st.spinner(f"Running {n * n:,} × {steps} steps …"):
        res = cached_sweep(skey, start, name, xname, tuple(xs.tolist()), yname, tuple(ys.tolist()), steps,
                           float(tol) if metric == "steps" else None)
        values = res.gap if metric == "gap" else res.reached_at.astype(float)
        best = res.best() if metric == "gap" else res.fastest()
        fig = vx.sweep_figure(values, res.diverged_at, xs, ys, x_label=nice[xname], y_label=nice[yname],
                              x_scale=ranges[xname][0].scale, y_scale=ranges[yname][0].scale,
                              metric=metric, steps=steps, tol=tol, best=best,
                              title=f"{rule.label} on {surface.title}")
    st.session_state[K + "sweep_ctx"] = {
        "name": name, "xname": xname, "yname": yname, "xs": xs.tolist(), "ys": ys.tolist(),
        "surface": surface.name, "surface_params": dict(surface.params), "start": start, "steps": steps,
        "curve": len(fig["data"]) - 1,
    }
    sweep_chart(fig, "sweep_chart", open_cell)
    n_div = int((res.diverged_at >= 0).sum())
    msg = f"{n}×{n} runs of {steps} steps. "
    msg += f"{n_div} of {n * n} runs diverged (grey, crossed)." if n_div else "No run diverged."
    if (low := res.best()) is not None:
        msg += (f" Lowest final J − J* = {max(res.gap[low], 0.0):.3g} at {nice[xname]} = {xs[low[1]]:g}, "
                f"{nice[yname]} = {ys[low[0]]:g} (outlined).")
    if metric == "steps" and best is not None:
        msg += (f" Fewest steps to within {tol:g}: {res.reached_at[best]} at {nice[xname]} = "
                f"{xs[best[1]]:g}, {nice[yname]} = {ys[best[0]]:g} (outlined).")
    st.caption(msg + " " + vx.GAP_TEXT + ".")
    return {"sweep_opt": name, "sweep_x": xname, "sweep_y": yname, "x_range": ranges[xname][1:],
            "y_range": ranges[yname][1:], "cells": int(n), "metric": metric, "sweep_tol": float(tol)}


def fair_section(surface, skey, start, steps) -> dict:
    st.markdown("Each optimizer gets its own best learning rate (the lowest final J − J* among "
                f"{len(dx.FAIR_LRS)} rates from {dx.FAIR_LRS[0]:g} to {dx.FAIR_LRS[-1]:g}, other settings at "
                "their defaults); then they race. A robust optimizer has a wide valley in the "
                "sensitivity plot.")
    chosen = st.multiselect("Optimizers", optimizers.names(), key=K + "fair.opts",
                            format_func=label, max_selections=MAX_RUNS)
    if not chosen:
        st.info("Choose at least one optimizer.")
        return {"fair": ()}
    with st.spinner(f"Trying {len(dx.FAIR_LRS)} learning rates for each optimizer …"):
        results = [cached_lr_sweep(skey, start, n, steps) for n in chosen]
    colors = dict(zip(chosen, viz.run_colors(chosen), strict=True))
    race = [(label(r.name) + f" (η {r.lrs[r.best]:.3g})", colors[r.name], r.loss[:, r.best])
            for r in results if r.best is not None]
    c1, c2 = st.columns(2)
    with c1:
        if race:
            st.plotly_chart(viz.fast_figure(vx.race_figure(surface.global_min, race)), key=K + "race")
        else:
            st.warning("Every learning rate diverged for every optimizer chosen.")
    with c2:
        curves = [(label(r.name), colors[r.name], r.gap, r.diverged_at, r.best) for r in results]
        st.plotly_chart(viz.fast_figure(vx.sensitivity_figure(dx.FAIR_LRS, curves)), key=K + "sensitivity")
    rows = []
    for r in results:
        ok = r.diverged_at < 0
        rows.append({
            "optimizer": label(r.name),
            "best η": float(r.lrs[r.best]) if r.best is not None else None,
            "final J − J*": float(r.gap[r.best]) if r.best is not None else None,
            "rates not diverging": f"{r.not_diverged()} of {len(ok)}",
            "rates ending near a minimum": f"{r.near_a_minimum()} of {len(ok)}",
            "diverges from η": float(r.lrs[~ok].min()) if (~ok).any() else None,
        })
    near = f"within {dx.FAIR_TOL:g} (distance) of a known minimum at the end"
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"best η": st.column_config.NumberColumn(format="%.3g"),
                                "final J − J*": st.column_config.NumberColumn(format="%.3g",
                                                                              help=vx.GAP_TEXT),
                                "rates ending near a minimum": st.column_config.TextColumn(help=near),
                                "diverges from η": st.column_config.NumberColumn(format="%.3g")})
    c1, c2 = st.columns([3, 1])
    tuned = tuple(run_spec(r.name, lr=float(r.lrs[r.best])) for r in results if r.best is not None)
    if tuned:
        setup = Setup(surface=surface.name, surface_params=dict(surface.params), start=start, steps=steps,
                      runs=tuned)
        c2.button(":material/open_in_new: Race them in the Playground", key=K + "fair.open",
                  on_click=open_race, args=(setup,), width="stretch")
    c1.caption(f"{vx.GAP_TEXT}. A low J − J* can still be far from the minimum in a flat valley: the last "
               f"column counts the rates whose run ends within {dx.FAIR_TOL:g} (distance) of a known "
               "minimum.")
    return {"fair": tuple(chosen)}


def open_start(k: int) -> None:
    """Click on basin map ``k``: remember a Playground setup with every mapped optimizer from that start."""
    if (hit := clicked(f"basins{k}", "basin_ctx")) is None:
        return
    pt, ctx = hit
    if (start := dx.clicked_start(pt, ctx["clicks"][k], ctx["xs"], ctx["ys"], ctx["stride"])) is None:
        return
    st.session_state[GOTO] = Setup(
        surface=ctx["surface"], surface_params=dict(ctx["surface_params"]), start=start, steps=ctx["steps"],
        runs=tuple(RunSpec(name, optimizers.rule(name).defaults() | hyper) for name, hyper in ctx["runs"]))


def basin_section(surface, skey, steps) -> dict:
    if (was := st.session_state.pop(BASIN_SWITCH, None)) is not None:
        st.info(f"{was} has one minimum, so its basin map would be one colour: showing "
                f"{surface.title} instead. Choose any surface in the sidebar.", icon=":material/swap_horiz:")
    st.markdown("Every pixel is a start point; its colour is the minimum the run from there ends in. "
                "Same colour, same minimum, in every map. **Click a start** to race these optimizers "
                "from there in the Playground.")
    c1, c2, c3 = st.columns([2, 1, 1])
    chosen = c1.multiselect("Optimizers", optimizers.names(), key=K + "basin.opts",
                            format_func=label, max_selections=MAX_RUNS)
    n = c2.select_slider(el.STARTS.label, list(el.STARTS.grid), key=K + "basin.n")
    tol = float(c3.select_slider("Tolerance (distance)", TOLS, key=K + "basin.tol",
                                 format_func=lambda v: f"{v:g}"))
    view = {"basins": tuple(chosen), "starts": int(n), "basin_tol": tol}
    if not chosen:
        st.info("Choose at least one optimizer.")
        return view
    cols = st.columns(min(len(chosen), 3))
    hypers = {}
    for k, name in enumerate(chosen):
        p = optimizers.rule(name).lr
        key = K + f"basin.{surface.name}.{name}.lr"
        if key not in st.session_state:
            with st.spinner(f"Tuning {label(name)}'s learning rate for this surface …"):
                st.session_state[key] = cached_basin_lr(skey, name, steps, tol)
        with cols[k % len(cols)]:
            hypers[name] = {"lr": param_widget(replace(p, label=f"{label(name)}: {p.label.lower()}"), key)}
    st.caption(f"Each learning rate starts at the one of {dx.BASIN_LRS[0]:g} … {dx.BASIN_LRS[-1]:g} that "
               "converges from the most starts of a coarse grid (the middle of the best range); move it to "
               "see the basins change.")
    xs, ys, _ = dx.grid_starts(surface, n)
    clicks = []
    slots = []
    for k in range(len(chosen)):
        with cols[k % len(cols)]:
            slots.append(st.empty())
    for k, name in enumerate(chosen):
        with slots[k], st.spinner(f"{label(name)}: {n * n:,} starts × {steps} steps …"):
            _, _, labels = cached_basins(skey, name, tuple(hypers[name].items()), n, steps, tol)
        fig = vx.basin_figure(surface, xs, ys, [(f"{label(name)}, η {hypers[name]['lr']:g}", labels)],
                              tol=tol, width=300)  # about one column of three at 1366 px
        clicks.append(next(i for i, t in enumerate(fig["data"]) if t.get("name") == vx.BASIN_CLICKS))
        st.session_state[K + "basin_ctx"] = {
            "surface": surface.name, "surface_params": dict(surface.params), "steps": steps,
            "xs": xs.tolist(), "ys": ys.tolist(), "stride": vx.click_stride(n), "clicks": clicks,
            "runs": [(name, hypers[name]) for name in chosen],
        }
        slots[k].plotly_chart(viz.fast_figure(fig), key=K + f"basins{k}", config=CONFIG,
                              on_select=partial(open_start, k), selection_mode="points")
    if len(surface.minima) > 6:
        st.caption("This surface has many minima: minima of equal value share a colour.")
    elif len(surface.minima) == 1:
        st.caption("One known minimum here: the map shows where each optimizer gets there at all. "
                   "Try Gaussian wells, Himmelblau, Six-hump camel or Styblinski-Tang for several basins.")
    view["basin_lrs"] = {name: float(h["lr"]) for name, h in hypers.items()}
    return view


def noise_section(surface, skey, start, steps) -> dict:
    data = surface.data is not None
    st.markdown("The same run many times, each with its own random "
                + ("mini-batches" if data else "gradient noise")
                + " (seeds 0, 1, 2, …): the cloud shows how far noise carries it, the band how its loss "
                  "spreads.")
    c1, c2, c3, c4 = st.columns(4)
    names = optimizers.names()
    name = c1.selectbox("Optimizer", names, key=K + "noise.opt", format_func=label)
    p = optimizers.rule(name).lr
    with c2:
        lr = param_widget(p, K + f"noise.{name}.lr")
    batch = None
    if data:
        batch = int(c3.select_slider(el.BATCH.label, list(el.BATCH.grid), key=K + "noise.batch"))
        noise = float(c4.select_slider("Extra gradient noise σ", list(el.SIGMA.grid),
                                       key=K + "noise.data_sigma", format_func=lambda v: f"{v:g}"))
    else:
        noise = float(c3.select_slider(NOISE.label, list(el.CLOUD_NOISES), key=K + "noise.sigma",
                                       format_func=lambda v: f"{v:g}"))
    runs = int((c4 if not data else c1).slider(el.RUNS.label, int(el.RUNS.lo), int(el.RUNS.hi), step=5,
                                               key=K + "noise.runs"))
    with st.spinner(f"Running {runs} noisy runs …"):
        cloud_runs = cached_cloud(skey, start, name, (("lr", float(lr)),), steps, runs, noise, batch)
        color = optimizers.rule(name).color
        what = f"mini-batches of {batch}" if batch else ""
        if noise:
            what += (" + " if what else "") + f"σ = {noise:g}"
        cloud = vx.cloud_figure(surface, image_for(surface), cloud_runs.path, cloud_runs.clean_path,
                                color=color, label=f"{label(name)}, η {lr:g}, {what}")
        band = vx.band_figure(surface.global_min, cloud_runs.loss, cloud_runs.clean_loss, color=color)
    c1, c2 = st.columns([1.1, 1])
    c1.plotly_chart(viz.fast_figure(cloud), key=K + "cloud", config=CONFIG)
    c2.plotly_chart(viz.fast_figure(band), key=K + "band")
    st.caption(vx.GAP_TEXT + ".")
    return {"noise_opt": name, "noise_lr": float(lr), "sigma": noise,
            "batch": batch if batch is not None else el.ExploreView.batch, "runs": runs}


def network_section() -> dict:
    setup = dx.net_sweep_setup()
    st.markdown(
        f"A real network instead of a surface: the Networks page's 2-{'-'.join(map(str, setup.hidden))}-1 "
        f"{setup.activation} MLP ({dn.weights(setup.hidden):,} weights) on {setup.n} points, trained with "
        f"full-batch gradients for {setup.steps} steps from one start (seed {setup.seed}). Every cell is one "
        f"run with its own learning rate and β, all {dx.NET_CELLS ** 2} in one batch. "
        "**Click a cell** to open that run on the Networks page (its landscape, path and decision boundary).")
    c1, c2, _ = st.columns([1.1, 1, 2])
    name = c1.selectbox("Optimizer", dx.net_sweep_names(), key=K + "net.opt", format_func=label)
    data = c2.selectbox("Data set", dn.DATA, key=K + "net.data", format_func=lambda n: datasets.kind(n).title)
    with st.spinner(f"Training {dx.NET_CELLS ** 2} networks ..."):
        res = cached_net_sweep(name, data)
    net_rule = optimizers.rule(name)
    beta = net_rule.param(res.beta)
    notes = [[f"training accuracy {a:.1%}" if a == a else "" for a in row] for row in res.accuracy]
    best = res.best()
    fig = vx.sweep_figure(res.loss, res.diverged_at, res.lrs, res.betas, x_label=net_rule.lr.label,
                          y_label=beta.label, x_scale="log", y_scale="log1m", steps=setup.steps, best=best,
                          title=f"{label(name)} on a network ({datasets.kind(data).title})",
                          value_label="final loss", notes=notes, click="open on the Networks page")
    st.session_state[K + "net_ctx"] = {"name": name, "data": data, "curve": len(fig["data"]) - 1}
    sweep_chart(fig, "net_chart", open_net_cell)
    n_div = int((res.diverged_at >= 0).sum())
    msg = f"{n_div} of {res.loss.size} runs diverged (grey, crossed). " if n_div else "No run diverged. "
    if best is not None:
        j, i = best
        msg += (f"Lowest final training loss {res.loss[j, i]:.3g} (accuracy {res.accuracy[j, i]:.1%}) at "
                f"η = {res.lrs[i]:g}, {beta.symbol} = {res.betas[j]:g} (outlined).")
    st.caption(msg)
    if best is not None and st.button("Open the lowest-loss cell on the Networks page", icon=":material/hub:",
                                      key=K + "net.open_best"):
        st.session_state[NET_GOTO] = dn.link(res.cell(*best))
        st.rerun()
    return {"net_opt": name, "net_data": data}


def main() -> None:
    pending = st.session_state.pop(GOTO, None)
    if pending is not None:
        open_in_playground(pending)  # switch_page: not allowed inside a callback, fine here
    if (link := st.session_state.pop(NET_GOTO, None)) is not None:
        open_in_networks(link)

    problems = []
    if LOADED not in st.session_state:  # a new session: the link's view (or the defaults)
        first, problems = el.from_query(st.query_params.to_dict())
        load(first, landscapes.get(first.surface, **first.surface_params))
        st.session_state[LOADED] = True

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
        steps = int(param_widget(optimizers.STEPS, K + "steps"))
        st.caption(SIDEBAR_NOTE)
    skey = (surface.name, tuple(sorted(surface.params.items())))
    start = (float(sx), float(sy))
    if problems:
        st.warning("Some of this link could not be used: " + plain("; ".join(problems)) + ".",
                   icon=":material/link:")

    st.markdown(
        "<style>.block-container{padding-top:2.2rem;padding-bottom:1rem}"
        "[data-testid='stSidebarContent']{padding-top:0.5rem}"
        "div[role='tab'] p, button[role='tab'] p{font-size:1.15rem}" + PHONE_CSS + CHIPS_CSS + "</style>",
        unsafe_allow_html=True)
    tabs = st.tabs(SECTIONS, key=K + "tab", on_change=tab_changed)
    shown = {}
    for tab, section in zip(tabs, SECTIONS, strict=True):
        if not tab.open:
            continue
        with tab:
            if section == SECTIONS[0]:
                shown = sweep_section(surface, skey, start, steps)
            elif section == SECTIONS[1]:
                shown = fair_section(surface, skey, start, steps)
            elif section == SECTIONS[2]:
                shown = basin_section(surface, skey, steps)
            elif section == SECTIONS[4]:
                shown = network_section()
            else:
                shown = noise_section(surface, skey, start, steps)
        view = el.ExploreView(section=SECTION_OF[section], surface=surface.name,
                              surface_params=dict(surface.params), start=start, steps=steps, **shown)
        st.query_params.from_dict(el.to_query(view))


if __name__ == "__main__":
    main()
