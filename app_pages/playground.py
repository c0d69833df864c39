"""Playground: compare optimizers side by side on one surface, animated.

The whole view lives in a Setup (descent_lab.setup): it is read from the URL
when a session starts and written back to the URL on every change, so the
address bar is always a link that reproduces the view.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

import optimizers
import viz
from app_pages.stage import stage
from app_pages.widgets import (
    PENDING_SETUP,
    family_for,
    family_run,
    image_for,
    param_widget,
    plain,
    schedule_widgets,
    surface_picker,
)
from descent_lab import compute, export, results
from descent_lab.setup import CUSTOM, MAX_RUNS, PANELS, SPEEDS, RunSpec, Setup, from_query, to_query
from optimizers import BATCH, NOISE, SEED, STEPS
from viz.stage import stage_data

BATCH_KINDS = ["all samples", "one sample (SGD)", "a mini-batch"]
CARDS_PER_ROW = 3
#: presenter mode: no sidebar, no run controls or panels; the stage fills the screen (stage.css)
PRESENT_CSS = ("[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],[data-testid='stHeader'],"
               "[data-testid='stExpandSidebarButton'],.st-key-controls{display:none!important}"
               ".block-container{padding-top:0.5rem!important;max-width:100%!important}")



def load(setup: Setup) -> None:
    """Put ``setup`` into the widgets' session state."""
    ss = st.session_state
    ss.surface = setup.surface
    if setup.surface == CUSTOM:
        (x0, x1), (y0, y1) = setup.surface_params["domain"]
        ss["surface.custom.f"] = setup.surface_params["expression"]
        ss["surface.custom.x0"], ss["surface.custom.x1"] = x0, x1
        ss["surface.custom.y0"], ss["surface.custom.y1"] = y0, y1
    else:
        for k, v in setup.surface_params.items():
            ss[f"surface.{setup.surface}.{k}"] = v
    x, y = setup.start_point()
    ss[f"start.{setup.surface}.x"], ss[f"start.{setup.surface}.y"] = x, y
    ss.steps, ss.noise, ss.seed = setup.steps, setup.noise, setup.seed
    ss.batch_kind = BATCH_KINDS[0 if setup.batch == 0 else 1 if setup.batch == 1 else 2]
    ss.batch_size = setup.batch if setup.batch > 1 else 16
    for flag in ("multiples", "show3d", "arrows", "speed"):
        ss[flag] = getattr(setup, flag)
    ss.panel = PANELS.get(setup.panel)
    ss.run_ids = list(range(len(setup.runs)))
    ss.next_run = len(setup.runs)
    for i, r in enumerate(setup.runs):
        ss[f"r{i}.opt"] = r.name
        for k, v in r.hyper.items():
            ss[f"r{i}.{k}"] = v
        ss[f"r{i}.sched"] = r.schedule.get("kind", "constant")
        for k, v in r.schedule.items():
            if k != "kind":
                ss[f"r{i}.sched.{k}"] = v


def set_present(on: bool) -> None:
    st.session_state.present = on


def add_run() -> None:
    ss = st.session_state
    if len(ss.run_ids) < MAX_RUNS:
        ss[f"r{ss.next_run}.opt"] = "nesterov"
        ss.run_ids.append(ss.next_run)
        ss.next_run += 1


def remove_run(i: int) -> None:
    if len(st.session_state.run_ids) > 1:
        st.session_state.run_ids.remove(i)


def export_panel(setup: Setup, surface, views) -> None:
    """Share link and downloads: animated GIF, PNG, CSV and JSON of the runs."""
    from viz import animation  # Matplotlib: loaded on the first visit to this panel, not on every page load
    link = "?" + urlencode(to_query(setup))
    st.caption("The address bar always holds the whole setup: copy it to share this view. "
               "The same link, relative to the app's address:")
    st.code(link, language=None, wrap_lines=True)
    stem = f"descent-lab-{setup.surface}"
    made = st.session_state.get("gif")  # (link, bytes): one GIF per session, for the current setup
    if (made is None or made[0] != link) and st.button("Make an animated GIF", icon=":material/movie:"):
        bar = st.progress(0.0, text="Drawing frames...")
        made = link, animation.gif_bytes(surface, views, progress=lambda f: bar.progress(min(1.0, f)))
        st.session_state.gif = made
        bar.empty()
    if made is not None and made[0] == link:
        gif = made[1]
        st.download_button(f"Download GIF ({len(gif) / 1e3:.0f} kB)", gif, f"{stem}.gif", "image/gif",
                           icon=":material/download:")
    c1, c2, c3 = st.columns(3)
    c1.download_button("PNG of the map", lambda: animation.png_bytes(surface, views), f"{stem}.png",
                       "image/png", icon=":material/image:", on_click="ignore")
    c2.download_button("Trajectories CSV", lambda: export.trajectories_csv(views), f"{stem}.csv", "text/csv",
                       icon=":material/table:", on_click="ignore")
    c3.download_button("Trajectories JSON", lambda: export.trajectories_json(setup, views), f"{stem}.json",
                       "application/json", icon=":material/data_object:", on_click="ignore")


def run_card(i: int, number: int, color: str) -> RunSpec:
    """One run's controls: optimizer and learning rate; the rest in a popover."""
    pick, more = st.columns([4, 1], vertical_alignment="bottom", gap="small")
    name = pick.selectbox(f"Run {number}", optimizers.names(), key=f"r{i}.opt",
                          format_func=lambda n: optimizers.rule(n).label)
    st.markdown(f"<div style='height:4px;background:{color};margin:-0.6rem 0 0.2rem'></div>",
                unsafe_allow_html=True)
    rule = optimizers.rule(name)
    lr = rule.lr  # its slider is on the stage, beside the map: dragging it needs no server
    st.session_state.setdefault(f"r{i}.lr", lr.snap(lr.default))
    hyper = {"lr": lr.clamp(st.session_state[f"r{i}.lr"])}
    with more.popover("", icon=":material/tune:", help="More settings: betas, schedule, epsilon"):
        st.caption(rule.note)
        for p in rule.params:
            if p.name not in ("lr", "eps"):
                hyper[p.name] = param_widget(p, f"r{i}.{p.name}")
        sched = schedule_widgets(f"r{i}.sched")
        with st.expander("Advanced"):
            for p in rule.params:
                if p.name == "eps":
                    hyper["eps"] = param_widget(p, f"r{i}.eps")
        st.button("Remove this run", key=f"r{i}.remove", on_click=remove_run, args=(i,),
                  disabled=len(st.session_state.run_ids) == 1)
    return RunSpec(name, hyper, sched)


pending = st.session_state.pop(PENDING_SETUP, None)  # sent by another page
if pending is not None:
    load(pending)
elif "run_ids" not in st.session_state:
    query = st.query_params.to_dict()
    st.session_state.present = query.pop("present", "0") == "1"
    first, problems = from_query(query)
    load(first)
    if problems:
        st.warning("Some of this link could not be used: " + plain("; ".join(problems)) + ".", icon="🔗")
st.session_state.setdefault("present", False)

st.markdown(
    "<style>.block-container{padding-top:4.3rem;padding-bottom:1rem}"  # the top bar is 3.75rem
    "[data-testid='stSidebarContent']{padding-top:0.5rem}"
    + (PRESENT_CSS if st.session_state.present else "") + "</style>",
    unsafe_allow_html=True,
)

with st.sidebar:
    st.title(":material/landscape: Descent Lab")
    surface = surface_picker(st.sidebar, allow_custom=True)
    (x0, x1), (y0, y1) = surface.domain
    kx, ky = f"start.{surface.name}.x", f"start.{surface.name}.y"
    inside = x0 <= st.session_state.get(kx, x0 - 1) <= x1 and y0 <= st.session_state.get(ky, y0 - 1) <= y1
    if not inside:  # first visit, or a new domain for a formula
        st.session_state[kx], st.session_state[ky] = float(surface.start[0]), float(surface.start[1])
    c1, c2 = st.columns(2)
    sx = c1.number_input("Start x", min_value=x0, max_value=x1, key=kx, step=0.1, format="%.3f")
    sy = c2.number_input("Start y", min_value=y0, max_value=y1, key=ky, step=0.1, format="%.3f")
    st.caption("Or drag the ring on the map, or click the map to start there.")
    steps = param_widget(STEPS, "steps")
    batch = 0
    if surface.data is not None:
        kind = st.radio("Gradient from", BATCH_KINDS, horizontal=True, key="batch_kind")
        if kind == BATCH_KINDS[1]:
            batch = 1
        elif kind == BATCH_KINDS[2]:
            sizes = [b for b in BATCH.options(st.session_state.batch_size) if b > 1]
            batch = st.select_slider(BATCH.label, sizes, key="batch_size", help=BATCH.help)
    noise = st.select_slider(NOISE.label, NOISE.options(st.session_state.noise), key="noise", help=NOISE.help)
    seed = st.number_input(SEED.label, SEED.lo, SEED.hi, key="seed", help=SEED.help) if noise or batch else 0
    st.divider()
    multiples = st.toggle("One panel per run", key="multiples")
    show_3d = st.toggle("3-D view", key="show3d", disabled=multiples)
    arrows = st.toggle("Gradient and step arrows", key="arrows")
    st.button(":material/slideshow: Presenter mode", key="present_on", on_click=set_present, args=(True,),
              help="Big map and loss chart, no sidebar; keys: Space, Left / Right, Home / End; Esc leaves")

ids = st.session_state.run_ids
speed = st.session_state.setdefault("speed", Setup.speed)
stage_area = st.container()  # first on the page (on a phone, the map comes before the run controls)
controls = st.container(key="controls")
with controls:  # run cards three to a row, so a name like "Gradient descent" is never cut
    runs = []
    colors = viz.run_colors([st.session_state[f"r{i}.opt"] for i in ids])  # as compute.runs gives them
    rows = [list(enumerate(ids))[k:k + CARDS_PER_ROW] for k in range(0, len(ids), CARDS_PER_ROW)]
    for r, row in enumerate(rows):
        cols = st.columns(CARDS_PER_ROW + 1)
        for col, (slot, i) in zip(cols, row, strict=False):
            with col:
                runs.append(run_card(i, slot + 1, colors[slot]))
        if r == len(rows) - 1:
            cols[-1].button(":material/add: Add run", key="add_run", on_click=add_run,
                            disabled=len(ids) >= MAX_RUNS, width="stretch")

sparams = ({"expression": surface.params["expression"], "domain": surface.domain}
           if surface.name == CUSTOM else dict(surface.params))
setup = Setup(
    surface=surface.name, surface_params=sparams, start=(float(sx), float(sy)),
    steps=int(steps), runs=tuple(runs), noise=float(noise), seed=int(seed), batch=int(batch),
    multiples=multiples, show3d=show_3d, arrows=arrows, speed=speed,
    panel=next((k for k, v in PANELS.items() if v == st.session_state.get("panel")), ""),
)
query = to_query(setup)
if st.session_state.present:
    query["present"] = "1"
st.query_params.from_dict(query)

families = [family_for(setup, spec, surface) for spec in setup.runs]
views = compute.runs(setup, run=lambda s, spec: family_run(s, spec, surface))
with stage_area:
    stage(stage_data(surface, views, families, image_for(surface), arrows=arrows, show3d=show_3d,
                     multiples=multiples, speed=speed), ids, SPEEDS, st.session_state.present)
    for v in views:
        d = int(v.trajectory.diverged_at)
        if d >= 0:
            st.error(f"**{v.label}** diverged at step {d}: its steps grew without bound. "
                     "Try a smaller learning rate.", icon="💥")

# only the chosen panel is rendered: the table and code widgets cost seconds of first load
with controls:
    panel = st.segmented_control("Panel", list(PANELS.values()), key="panel", label_visibility="collapsed")
    if panel == "Step sizes":
        st.caption("The step size each parameter actually gets. Adaptive methods give x and y different "
                   "rates; AdaGrad's only ever shrink.")
        st.plotly_chart(viz.fast_figure(viz.rate_figure(views)), key="rates",
                        config={"displayModeBar": False})  # no toolbar over the legend
    elif panel == "Results":
        tol = st.select_slider("Tolerance (distance to a minimum)", [1e-4, 1e-3, 1e-2, 1e-1], value=1e-2,
                               key="tol", format_func=lambda v: f"{v:g}")
        if not surface.has_global_min:
            st.caption("f has no minimum in this domain (it keeps falling past an edge), so there is "
                       "no f* and no f - f* column: compare the final f.")
        rows = results.result_rows(views, surface, tol)
        sci = st.column_config.NumberColumn(format="%.3e")
        st.dataframe(rows, hide_index=True, width="stretch",
                     column_config={"run": st.column_config.TextColumn(width="medium"),
                                    "final f": sci, "f - f*": sci, "distance": sci})
    elif panel == "Code":
        st.caption("Each run takes exactly the steps of this PyTorch code fed the same gradients: the "
                   "test suite checks 300 steps against trajectories recorded from PyTorch, to 1e-7.")
        for v in views:
            st.code(v.trajectory.optimizer.torch_code(), language="python")
    elif panel == "Export":
        export_panel(setup, surface, views)
