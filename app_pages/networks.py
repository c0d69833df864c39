"""Networks: optimizers training a small neural network, and the loss landscape they cross.

The view lives in a NetSetup (descent_lab.networks): read from the URL when a session starts,
written back on every change. The computations are descent_lab.networks' (cached here), the
figures viz.networks'.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

import streamlit as st

import viz
from app_pages.widgets import PENDING_NET, param_widget, plain, run_cards
from descent_lab import networks as dn
from descent_lab.runlist import RunList
from landscapes import datasets
from landscapes.mlp import ACTIVATIONS
from optimizers import BATCH
from viz import networks as vn

K = "net."  # prefix of this page's session keys
LOADED = K + "loaded"
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
def cached_figure(key: tuple, tall: bool, whole: bool, colors: tuple) -> tuple[dict, str, str, list[str]]:
    """The animated figure (the runs in ``colors``), the plane's title, a note on the paths'
    distance from it, problems."""
    setup = dn.from_key(key)
    runs = runs_of(setup)
    land, problems = dn.landscape(setup, runs)
    ticks = dn.frame_ticks(runs.steps)
    fig = vn.network_figure(runs, land, list(colors), ticks, dn.boundaries(runs, ticks),
                            show3d=setup.show3d, tall=tall, whole=whole)
    return fig, land.title, dn.plane_note(land, runs), problems


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


def load(setup: dn.NetSetup) -> None:
    """Put ``setup`` into the page's widgets."""
    ss = st.session_state
    for k in ("data", "n", "noise", "seed", "steps"):
        ss[K + k] = getattr(setup, k)
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


def sidebar() -> dict:
    """The data set, the network, the gradient's batch and the steps, from the sidebar's widgets."""
    with st.sidebar:
        st.title(":material/hub: Networks")
        data = st.selectbox("Data set", dn.DATA, key=K + "data", format_func=lambda n: datasets.kind(n).title)
        noise = param_widget(dn.NOISE, K + "noise")
        n = param_widget(dn.N, K + "n")
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
        st.caption(f"2-{'-'.join(map(str, hidden))}-1: {dn.weights(hidden):,} weights "
                   f"(at most {dn.MAX_WEIGHTS:,} here)")
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
    return {"data": data, "noise": float(noise), "n": int(n), "hidden": tuple(hidden), "activation": act,
            "batch": int(batch), "steps": int(steps), "seed": int(seed)}


def plane_controls(runs: int) -> dict:
    """The plane's choice and its runs, the 3-D toggle and the layout (wide, or tall on phones)."""
    st.session_state.setdefault(K + "plane", "pca")
    plane = st.segmented_control("Plane", list(dn.PLANES), key=K + "plane", format_func=dn.PLANES.get,
                                 help="(a) the two directions the paths vary most along (PCA); (b) two "
                                      "random filter-normalized directions around a run's end point; (c) the "
                                      "plane through the start and two runs' end points.") or "pca"
    c1, c2, c3, c4 = st.columns([1.3, 1, 1, 1], vertical_alignment="bottom")
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
    # phones get the panels one under another (a browser that says it is mobile, as MDN advises)
    st.session_state.setdefault(K + "tall", "Mobi" in (st.context.headers.get("User-Agent") or ""))
    out["tall"] = c3.toggle("Panels in one column", key=K + "tall", help="For narrow screens")
    st.session_state.setdefault(K + "whole", False)
    out["whole"] = c4.toggle("Whole paths", key=K + "whole",
                             help="Draw every run's whole path and curves from the start (faint), not "
                                  "only as far as the current step")
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
    shown = {k: v for k, v in view.items() if k not in ("tall", "whole")}
    setup = dn.fit(dn.NetSetup(runs=tuple(specs), **chosen, **shown,
                               panel=next((k for k, v in dn.PANELS.items()
                                           if v == st.session_state.get(K + "panel")), "")), fixes)
    for fix in fixes:
        st.error(plain(fix), icon=":material/block:")
    st.query_params.from_dict(dn.to_query(setup))

    with figure_area:
        with st.spinner("Training and slicing the landscape..."):
            fig, title, note, plane_problems = cached_figure(dn.key(setup), view["tall"], view["whole"],
                                                             colors)
        for p in plane_problems:
            st.warning(plain(p), icon=":material/info:")
        st.markdown(f"**{plain(title)}**")
        st.plotly_chart(viz.fast_figure(fig), key=K + "figure", config=CONFIG)
        st.caption(note + " Press Play or drag the slider: the paths, the boundaries and the curves "
                          "move together, drawn as far as the current step.")
        for text in dn.diverged(runs_of(setup)):
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
