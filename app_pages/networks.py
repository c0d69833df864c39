"""Networks: optimizers training a small neural network, and the loss landscape they cross.

The view lives in a NetSetup (descent_lab.networks): read from the URL when a session starts,
written back on every change. The computations are descent_lab.networks' (cached here), the
figures viz.networks'.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

import numpy as np
import streamlit as st

import viz
from app_pages.net_stage import net_stage
from app_pages.widgets import PENDING_NET, param_widget, plain, run_cards
from descent_lab import networks as dn
from descent_lab.runlist import RunList
from landscapes import datasets
from landscapes.mlp import ACTIVATIONS, BLANK, FEATURES
from optimizers import BATCH
from viz import networks as vn
from viz.net_stage import net_stage_data
from viz.stage import pack

K = "net."  # prefix of this page's session keys
LOADED = K + "loaded"
DATA_SET = K + "dataset"  # the last data set chosen: the stage's "over the data set" brings it back
RUNS = RunList(K)  # the page's runs: net.run_ids, net.r<id>.opt, ...
BATCH_KINDS = ["all samples", "one sample (SGD)", "a mini-batch"]
CONFIG = {"displaylogo": False, "scrollZoom": False}


@st.cache_resource(max_entries=4, show_spinner=False)
def cached_runs(training_key: tuple) -> dn.Runs:
    """The trained runs, once per network and runs (shared, never copied: they hold every weight)."""
    return dn.train(dn.from_key(training_key))


def runs_of(setup: dn.NetSetup) -> dn.Runs:
    return cached_runs(dn.training_key(setup))


@st.cache_data(max_entries=16, show_spinner=False)
def cached_stage(key: tuple, colors: tuple, problem: str,
                 lr_problem: str) -> tuple[bytes, list[str], list[str]]:
    """What the stage draws, packed (the plane, the runs' weights and curves in ``colors``, the
    projection's numbers, the drawn points, ``problem`` with the last points sent, ``lr_problem`` with
    the last η step), the plane's problems and a sentence per diverged run (all of it from this cache: a
    view seen before needs no runs, and a rerun does not pack it again)."""
    setup = dn.from_key(key)
    runs = runs_of(setup)
    land, problems = dn.landscape(setup, runs)
    data = net_stage_data(runs, land, list(colors), dn.projection(runs, land), plane_title=land.title,
                          notes=[dn.plane_note(land, runs)], drawn=setup.drawn(), over=setup.data != BLANK,
                          problem=problem, lr_problem=lr_problem, show3d=setup.show3d)
    return pack(data), problems, dn.diverged(runs)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_interpolation(training_key: tuple, colors: tuple) -> dict:
    runs = runs_of(dn.from_key(training_key))
    return vn.interpolation_figure(*dn.interpolation(runs), runs.labels, list(colors))


@st.cache_data(max_entries=16, show_spinner=False)
def cached_sharpness(training_key: tuple, colors: tuple) -> tuple[dict, list]:
    runs = runs_of(dn.from_key(training_key))
    steps, lam, edge = dn.sharpness(runs)
    rows = dn.sharpness_rows(runs, steps, lam, edge)
    return vn.sharpness_figure(steps, lam, edge, runs.labels, list(colors)), rows


@st.cache_data(max_entries=4, show_spinner=False)
def cached_gif(key: tuple, colors: tuple) -> bytes:
    from viz import animation  # Matplotlib: loaded on the first export, not on every page load

    setup = dn.from_key(key)
    runs = runs_of(setup)
    land, _ = dn.landscape(setup, runs)
    return animation.network_gif_bytes(land, runs.labels, list(colors), runs.diverged_at)


def on_points(value) -> None:
    """The stage's drawn points, kept (as the link's text) when they are a list of at most
    datasets.MAX_POINTS [x, y, class] that datasets.drawn accepts, and its "over the data set" box
    as the Data set choice (unchecked: a blank plane; checked: the last data set); otherwise the page
    says what was wrong and keeps the points and the data it had."""
    ss = st.session_state
    try:
        points, over = read_points(value)
    except ValueError as e:
        ss[K + "points_problem"] = f"Your points were not used: {e}."
        return
    ss[K + "points"] = datasets.encode_points(points) if points.n else ""
    if not over:
        ss[K + "data"] = BLANK
    elif ss.get(K + "data") == BLANK:
        ss[K + "data"] = ss.get(DATA_SET, dn.NetSetup.data)


def on_lr(value) -> None:
    """The stage's − / + on the shown run's η, {run, value}: that run's η (its card's slider key, so the
    card, the link and the training follow) when the value is one of its slider's; otherwise the page
    says what was wrong and every η stays."""
    problem = RUNS.set_lr(st.session_state, value)
    if problem:
        st.session_state[K + "lr_problem"] = f"That learning rate was not used: {problem}."


def read_points(value) -> tuple[datasets.Samples, bool]:
    """The stage's report {points: [[x, y, class], ...], over: bool} as drawn points (ValueError in words)."""
    if not isinstance(value, dict) or not isinstance(value.get("points"), list):
        raise ValueError("the stage sent no list of points")
    raw = value["points"]
    if len(raw) > datasets.MAX_POINTS:
        raise ValueError(f"{len(raw):,} points; at most {datasets.MAX_POINTS} can be drawn")
    if not all(isinstance(p, list) and len(p) == 3 and all(map(_number, p)) for p in raw):
        raise ValueError("each point must be three numbers [x, y, class]")
    xy = np.array([p[:2] for p in raw], dtype=float).reshape(-1, 2)
    return datasets.drawn(xy, np.array([p[2] for p in raw], dtype=float)), value.get("over") is not False


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def load(setup: dn.NetSetup) -> None:
    """Put ``setup`` into the page's widgets."""
    ss = st.session_state
    for k in ("n", "noise", "seed", "steps", "l2", "test", "points"):
        ss[K + k] = getattr(setup, k)
    ss[K + "data"] = setup.data
    ss[DATA_SET] = setup.data if setup.data != BLANK else dn.NetSetup.data
    ss[K + "features"] = list(setup.features)
    ss[K + "layers"] = len(setup.hidden)
    for i, w in enumerate(setup.hidden):
        ss[K + f"width{i}"] = w
    ss[K + "act"] = setup.activation
    ss[K + "batch_kind"] = BATCH_KINDS[0 if setup.batch == 0 else 1 if setup.batch == 1 else 2]
    ss[K + "batch_size"] = setup.batch if setup.batch > 1 else 16
    RUNS.load(ss, setup.runs)
    ss[K + "plane"] = setup.plane
    ss[K + "around"], ss[K + "ends"] = setup.around, list(setup.ends)
    ss[K + "show3d"] = setup.show3d
    ss[K + "panel"] = dn.PANELS.get(setup.panel)


def data_kept() -> str:
    """A blank plane chosen (in the sidebar or by the stage's box) on drawn points it cannot train on:
    the last data set put back in the Data set box and the reason in words; "" when the choice stands."""
    ss = st.session_state
    if ss.get(K + "data") != BLANK:
        ss[DATA_SET] = ss.get(K + "data", dn.NetSetup.data)
        return ""
    why = dn.blank_problem(ss.get(K + "points", ""), ss.get(K + "test", dn.TEST.default))
    if not why:
        return ""
    ss[K + "data"] = ss.get(DATA_SET, dn.NetSetup.data)
    return (f"Not a blank plane: {why}. The data set stays {dn.data_title(ss[K + 'data'])}: draw your "
            "points over it first.")


def sidebar() -> dict:
    """The data set (or a blank plane) and the drawn points, the network, its inputs and weight decay,
    the test fraction, the gradient's batch and the steps, from the sidebar's widgets and the stage."""
    kept = data_kept()  # (before the Data set box: its value may change)
    with st.sidebar:
        st.title(":material/hub: Networks")
        data = st.selectbox("Data set", dn.DATA_CHOICES, key=K + "data", format_func=dn.data_title,
                            help="A generated data set, with your points over it if you draw some on the "
                                 "stage; or None: a blank plane, trained on your points alone")
        if kept:
            st.warning(plain(kept), icon=":material/block:")
        blank = data == BLANK
        noise = param_widget(dn.NOISE, K + "noise", disabled=blank)
        n = param_widget(dn.N, K + "n", disabled=blank)
        if blank:
            st.caption("Noise and training points apply to the data sets: a blank plane trains on your "
                       f"{datasets.decode_points(st.session_state.get(K + 'points', '')).n} points alone.")
        st.session_state.setdefault(K + "layers", 2)
        layers = st.radio("Hidden layers", list(range(1, dn.MAX_LAYERS + 1)), key=K + "layers",
                          horizontal=True)
        cols = st.columns(dn.MAX_LAYERS)
        hidden = []
        for i in range(layers):
            st.session_state.setdefault(K + f"width{i}", dn.WIDTH.default)
            with cols[i]:
                hidden.append(int(param_widget(replace(dn.WIDTH, label=f"Layer {i + 1}"), K + f"width{i}")))
        act = st.radio("Activation", ACTIVATIONS, key=K + "act", horizontal=True)
        st.session_state.setdefault(K + "features", list(dn.NetSetup.features))
        picked = st.pills("Input features", list(FEATURES), selection_mode="multi", key=K + "features",
                          format_func=FEATURES.get, help="What the first layer sees of a point (x, y), as "
                          "in TensorFlow Playground")
        features = tuple(f for f in FEATURES if f in picked) or dn.NetSetup.features
        if not picked:
            st.caption("No input chosen: the network sees x and y.")
        st.caption(f"{len(features)}-{'-'.join(map(str, hidden))}-1: {dn.weights(hidden, len(features)):,} "
                   f"weights (at most {dn.MAX_WEIGHTS:,} here)")
        l2 = param_widget(dn.L2, K + "l2")
        test = param_widget(dn.TEST, K + "test")
        kind = st.radio("Gradient from", BATCH_KINDS, horizontal=True, key=K + "batch_kind")
        batch = 0
        if kind == BATCH_KINDS[1]:
            batch = 1
        elif kind == BATCH_KINDS[2]:
            sizes = [b for b in BATCH.options(st.session_state.get(K + "batch_size", 16)) if b > 1]
            st.session_state.setdefault(K + "batch_size", 16)
            batch = st.select_slider(BATCH.label, sizes, key=K + "batch_size", help=BATCH.help)
        steps = param_widget(dn.STEPS, K + "steps")
        seed = param_widget(dn.SEED, K + "seed")
    ss = st.session_state
    return {"data": data, "noise": float(noise), "n": int(n),
            "hidden": tuple(hidden), "activation": act, "features": features, "l2": float(l2),
            "test": float(test), "points": ss.get(K + "points", ""), "batch": int(batch), "steps": int(steps),
            "seed": int(seed)}


def plane_controls(runs: int) -> dict:
    """The plane's choice and its runs, and the 3-D toggle."""
    st.session_state.setdefault(K + "plane", "pca")
    plane = st.segmented_control("Plane", list(dn.PLANES), key=K + "plane", format_func=dn.PLANES.get,
                                 help="(a) the two directions the paths vary most along (PCA); (b) two "
                                      "random filter-normalized directions around a run's end point; (c) the "
                                      "plane through the start and two runs' end points.") or "pca"
    c1, c2 = st.columns([1.3, 2], vertical_alignment="bottom")
    numbers = list(range(1, runs + 1))
    out = {"plane": plane}
    if plane == "random":
        if st.session_state.get(K + "around") not in numbers:
            st.session_state[K + "around"] = 1
        out["around"] = c1.selectbox("Centred on the end of run", numbers, key=K + "around")
    elif plane == "through" and runs >= 2:
        ends = st.session_state.get(K + "ends")
        if not (isinstance(ends, list) and len(set(ends)) == 2 and set(ends) <= set(numbers)):
            st.session_state[K + "ends"] = [1, 2]
        chosen = c1.multiselect("End points of runs", numbers, key=K + "ends", max_selections=2)
        if len(chosen) == 2:
            out["ends"] = tuple(chosen)
        else:
            c1.caption("Choose two runs.")
            out["plane"] = "pca"
    elif plane == "through":
        c1.caption("Needs two runs: add one.")
        out["plane"] = "pca"
    st.session_state.setdefault(K + "show3d", False)
    out["show3d"] = c2.toggle("3-D surface", key=K + "show3d")
    return out


def export_panel(setup: dn.NetSetup, colors: tuple) -> None:
    link = "?" + urlencode(dn.to_query(setup))
    st.caption("The address bar always holds the whole setup: copy it to share this view. "
               "The same link, relative to the app's address:")
    st.code(link, language=None, wrap_lines=True)
    made = st.session_state.get(K + "gif")  # (link, bytes) for the current setup
    if (made is None or made[0] != link) and st.button("Make an animated GIF of the landscape",
                                                       icon=":material/movie:", key=K + "make_gif"):
        with st.spinner("Drawing frames..."):
            made = link, cached_gif(dn.key(setup), colors)
        st.session_state[K + "gif"] = made
    if made is not None and made[0] == link:
        st.download_button(f"Download GIF ({len(made[1]) / 1e3:.0f} kB)", made[1],
                           f"descent-lab-{setup.data}.gif", "image/gif", icon=":material/download:",
                           key=K + "gif_download")


def main() -> None:
    problems: list[str] = []
    pending = st.session_state.pop(PENDING_NET, None)  # a link sent by another page
    if pending is not None or LOADED not in st.session_state:
        first, problems = dn.from_query(st.query_params.to_dict() if pending is None else pending)
        load(first)
        st.session_state[LOADED] = True
    st.markdown("<style>.block-container{padding-top:4.3rem;padding-bottom:1rem}"
                "[data-testid='stSidebarContent']{padding-top:0.5rem}</style>", unsafe_allow_html=True)
    if problems:
        st.warning("Some of this link could not be used: " + plain("; ".join(problems)) + ".",
                   icon=":material/link:")
    chosen = sidebar()

    plane_area, figure_area = st.container(), st.container()  # the figure before the runs (phones)
    with st.container(key=K + "controls"):
        ids, colors, specs = run_cards(RUNS)
    colors = tuple(colors)
    with plane_area:
        view = plane_controls(len(ids))

    fixes: list[str] = []
    setup = dn.fit(dn.NetSetup(runs=tuple(specs), **chosen, **view,
                               panel=next((k for k, v in dn.PANELS.items()
                                           if v == st.session_state.get(K + "panel")), "")), fixes)
    for fix in fixes:
        st.error(plain(fix), icon=":material/block:")
    st.query_params.from_dict(dn.to_query(setup))

    with figure_area:
        with st.spinner("Training and slicing the landscape..."):
            payload, plane_problems, diverged = cached_stage(dn.key(setup), colors,
                                                             st.session_state.pop(K + "points_problem", ""),
                                                             st.session_state.pop(K + "lr_problem", ""))
        for p in plane_problems:
            st.warning(plain(p), icon=":material/info:")
        net_stage(payload, on_points, on_lr)
        for text in diverged:
            st.error(plain(text), icon=":material/error:")

    panel = st.segmented_control("Panel", list(dn.PANELS.values()), key=K + "panel",
                                 label_visibility="collapsed")
    tkey = dn.training_key(setup)
    if panel == dn.PANELS["interpolation"]:
        st.caption("The loss on the straight line from the start (0) through each run's end point (1) "
                   "and beyond (Goodfellow et al. 2015). A line that falls all the way means no barrier "
                   "lies between start and end on that line.")
        st.plotly_chart(viz.fast_figure(cached_interpolation(tkey, colors)), key=K + "interp", config=CONFIG)
    elif panel == dn.PANELS["sharpness"]:
        with st.spinner("Power iteration on Hessian-vector products..."):
            fig, rows = cached_sharpness(tkey, colors)
        st.caption("The largest eigenvalue of the loss's Hessian along each run (power iteration on "
                   "exact Hessian-vector products). Dotted: 2 / η of each GD run, the edge of stability: "
                   "full-batch GD on a quadratic with a larger curvature diverges (Cohen et al. 2021 "
                   "see real networks' sharpness rise to it and hover there).")
        st.plotly_chart(viz.fast_figure(fig), key=K + "sharp", config=CONFIG)
        num = st.column_config.NumberColumn(format="%.3g")
        columns = {k: num for k in rows[0] if k != "run"}
        st.dataframe(rows, hide_index=True, width="stretch",
                     column_config={"run": st.column_config.TextColumn(width="medium"), **columns})
    elif panel == dn.PANELS["export"]:
        export_panel(setup, colors)


main()
