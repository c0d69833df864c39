"""Playground: compare optimizers side by side on one surface, animated."""

from __future__ import annotations

import streamlit as st

import optimizers
import viz
from optimizers import schedules
from pages.widgets import cached_run, image_for, param_widget, snap, surface_picker

MAX_RUNS = 6
DEFAULT_RUNS = (("gd", {"lr": 0.001}), ("momentum", {"lr": 0.001}), ("adam", {"lr": 0.05}))
SPEEDS = {"0.25x": 320, "0.5x": 160, "1x": 80, "2x": 40, "4x": 20}

st.markdown(
    "<style>.block-container{padding-top:2.2rem;padding-bottom:1rem}"
    "[data-testid='stSidebarContent']{padding-top:0.5rem}</style>",
    unsafe_allow_html=True,
)


def init_runs() -> None:
    if "run_ids" in st.session_state:
        return
    st.session_state.run_ids = list(range(len(DEFAULT_RUNS)))
    st.session_state.next_run = len(DEFAULT_RUNS)
    for i, (name, hyper) in enumerate(DEFAULT_RUNS):
        st.session_state[f"r{i}.opt"] = name
        r = optimizers.rule(name)
        for p in r.params:
            st.session_state[f"r{i}.{p.name}"] = snap(p, hyper.get(p.name, p.default))


def add_run() -> None:
    ids = st.session_state.run_ids
    if len(ids) < MAX_RUNS:
        new = st.session_state.next_run
        st.session_state.next_run += 1
        st.session_state[f"r{new}.opt"] = "nesterov"
        ids.append(new)


def remove_run(i: int) -> None:
    ids = st.session_state.run_ids
    if len(ids) > 1:
        ids.remove(i)


def set_start_from_click() -> None:
    event = st.session_state.get("map")
    points = (event or {}).get("selection", {}).get("points", [])
    if points and "x" in points[0] and "y" in points[0]:
        sname = st.session_state.surface
        st.session_state[f"start.{sname}.x"] = round(float(points[0]["x"]), 3)
        st.session_state[f"start.{sname}.y"] = round(float(points[0]["y"]), 3)


def run_card(i: int, color: str, container) -> dict:
    """One run's controls: optimizer, learning rate; the rest in a popover."""
    with container:
        name = st.selectbox(f":material/circle: Run {i + 1}", optimizers.names(), key=f"r{i}.opt",
                            format_func=lambda n: optimizers.rule(n).label)
        st.markdown(f"<div style='height:4px;background:{color};margin:-0.6rem 0 0.4rem'></div>",
                    unsafe_allow_html=True)
        r = optimizers.rule(name)
        hyper = {"lr": param_widget(r.params[0], f"r{i}.lr")}
        with st.popover("Settings", width="stretch"):
            st.caption(r.note)
            for p in r.params[1:]:
                if p.name == "eps":
                    continue
                hyper[p.name] = param_widget(p, f"r{i}.{p.name}")
            kind = st.selectbox("Learning-rate schedule", schedules.KINDS, key=f"r{i}.sched")
            sched = {"kind": kind}
            for k in (*schedules.USES[kind], "warmup"):
                sched[k] = param_widget(schedules.PARAMS[k], f"r{i}.sched.{k}")
            if sched["warmup"]:
                sched["warmup_start"] = param_widget(schedules.PARAMS["warmup_start"], f"r{i}.sched.ws")
            with st.expander("Advanced"):
                for p in r.params:
                    if p.name == "eps":
                        hyper["eps"] = param_widget(p, f"r{i}.eps")
            st.button("Remove this run", key=f"r{i}.remove", on_click=remove_run, args=(i,),
                      disabled=len(st.session_state.run_ids) == 1)
    return {"name": name, "hyper": hyper, "schedule": sched}


init_runs()

with st.sidebar:
    st.title(":material/landscape: Descent Lab")
    surface = surface_picker(st.sidebar)
    sname = surface.name
    kx, ky = f"start.{sname}.x", f"start.{sname}.y"
    st.session_state.setdefault(kx, float(surface.start[0]))
    st.session_state.setdefault(ky, float(surface.start[1]))
    (x0, x1), (y0, y1) = surface.domain
    c1, c2 = st.columns(2)
    sx = c1.number_input("Start x", min_value=x0, max_value=x1, key=kx, step=0.1, format="%.3f")
    sy = c2.number_input("Start y", min_value=y0, max_value=y1, key=ky, step=0.1, format="%.3f")
    st.caption("Or click on the map to start there.")
    steps = st.slider("Steps", 10, 2000, 300, step=10, key="steps")
    noise, seed, batch = 0.0, 0, None
    if surface.data is not None:
        kind = st.radio("Gradient from", ["all samples", "one sample (SGD)", "a mini-batch"],
                        horizontal=True, key="batch_kind")
        if kind == "one sample (SGD)":
            batch = 1
        elif kind == "a mini-batch":
            batch = st.select_slider("Batch size", [2, 4, 8, 16, 32, 64], value=16, key="batch_size")
    noise = st.select_slider("Gradient noise σ", [0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0], value=0.0,
                             key="noise", help="Gaussian noise added to every gradient component.")
    if noise or batch:
        seed = st.number_input("Random seed", 0, 2**31 - 1, 0, key="seed")
    st.divider()
    multiples = st.toggle("One panel per run", key="multiples")
    show_3d = st.toggle("3-D view", value=True, key="show3d", disabled=multiples)
    arrows = st.toggle("Gradient and step arrows", value=True, key="arrows")
    speed = st.select_slider("Animation speed", list(SPEEDS), value="1x", key="speed")

ids = st.session_state.run_ids
cols = st.columns(len(ids) + 1)
specs = []
for slot, i in enumerate(ids):
    specs.append(run_card(i, viz.PALETTE[slot % len(viz.PALETTE)], cols[slot]))
cols[-1].button(":material/add: Add run", key="add_run", on_click=add_run,
                disabled=len(ids) >= MAX_RUNS, width="stretch")

surface_key = (sname, tuple(sorted(surface.params.items())))
views = []
for slot, spec in enumerate(specs):
    tr = cached_run(surface_key, spec["name"], tuple(sorted(spec["hyper"].items())),
                    tuple(sorted(spec["schedule"].items())), (float(sx), float(sy)), int(steps),
                    float(noise), int(seed), batch)
    views.append(viz.RunView(f"{slot + 1}. {tr.optimizer.describe(short=True)}",
                             viz.PALETTE[slot % len(viz.PALETTE)], tr))

fig = viz.trajectory_figure(surface, views, image_for(surface), multiples=multiples, show_3d=show_3d,
                            arrows=arrows, frame_ms=SPEEDS[speed])
st.plotly_chart(viz.fast_figure(fig), key="map", on_select=set_start_from_click, selection_mode="points",
                config={"displaylogo": False, "scrollZoom": False})

for v in views:
    d = int(v.trajectory.diverged_at)
    if d >= 0:
        st.error(f"**{v.label}** diverged at step {d}: its steps grew without bound. "
                 "Try a smaller learning rate.", icon="💥")

loss_tab, rate_tab, table_tab, code_tab = st.tabs(["Loss", "Step sizes", "Results", "PyTorch code"])
with loss_tab:
    st.plotly_chart(viz.fast_figure(viz.loss_figure(surface, views)), key="loss")
with rate_tab:
    st.caption("The step size each parameter actually gets. Adaptive methods give x and y different "
               "rates; AdaGrad's only ever shrink.")
    st.plotly_chart(viz.fast_figure(viz.rate_figure(views)), key="rates")
with table_tab:
    tol = st.select_slider("Tolerance (distance to a minimum)", [1e-4, 1e-3, 1e-2, 1e-1], value=1e-2,
                           key="tol", format_func=lambda v: f"{v:g}")
    rows = []
    for v in views:
        o = optimizers.outcome(v.trajectory, surface, tol)
        mins = surface.minima[int(o.nearest)]
        rows.append({
            "run": v.label,
            "final f": float(o.final_loss),
            "f - f*": float(o.gap),
            "nearest minimum": f"({mins[0]:.3g}, {mins[1]:.3g})",
            "distance": float(o.distance),
            "within tolerance from step": int(o.reached_at) if o.reached_at >= 0 else None,
            "diverged at step": int(o.diverged_at) if o.diverged_at >= 0 else None,
        })
    st.dataframe(rows, hide_index=True, width="stretch")
with code_tab:
    st.caption("Each run takes exactly the steps of this PyTorch code, fed the same gradients "
               "(the test suite checks 300 steps against recorded PyTorch trajectories to 1e-7).")
    for v in views:
        st.code(v.trajectory.optimizer.torch_code(), language="python")
