"""Learn 1: gradient descent, the learning rate (too small, too large, just under the limit 2/L; the
fastest), and the three problems that the rest of the path solves."""

from __future__ import annotations

import streamlit as st

import optimizers
import viz
from app_pages.learn_path import footer
from app_pages.widgets import cached_run, image_for, playground_link, surface_key
from descent_lab import compute, learn
from descent_lab.presets import PRESETS
from descent_lab.setup import Setup, run_spec
from viz import learn_basics as lb

PRESET = PRESETS["learning-rate"]
SETUP = PRESET.setup()
SURFACE = SETUP.make_surface()
START = SETUP.start_point()
STEPS = SETUP.steps
L = SURFACE.params["condition"]  # J = (x² + L y²) / 2: curvature 1 along x, L along y
FASTEST = 2 / (1 + L)  # 1 − η along x and 1 − ηL along y equally small: 1/3 here
RATES = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, FASTEST, 0.38, 0.4, 0.41, 0.45, 0.5]
NAMES = PRESET.names  # the lesson names its runs; the Playground shows the same names
# three maps side by side are ~65 px high on a phone: there the page shows them one under another
PHONE_CSS = (".st-key-three_tall{display:none}"
             "@media (max-width:640px){.st-key-three_wide{display:none}.st-key-three_tall{display:block}}")
CHALLENGES = (
    ("one-rate", "One rate for all weights",
     "A long, narrow bowl: the steep direction caps η, so the flat direction crawls. After the same "
     "80 steps GD is still short of the minimum; RMSProp and Adam give each weight its own rate and "
     "are there."),
    ("local-minima", "Local minima",
     "Several wells. GD rolls into the nearest shallow one and stays; momentum rolls on into the "
     "deepest (the star at the top right)."),
    ("saddle", "Saddle points",
     "At a saddle the slope is almost zero, though lower ground lies to both sides. GD lingers there "
     "much longer than momentum or Adam."),
)


def run(setup: Setup, spec) -> optimizers.Trajectory:
    return cached_run(surface_key(setup.make_surface()), spec.key(), setup.start_point(), setup.steps,
                      setup.noise, setup.seed, setup.batch or None)


def gd(lr: float) -> optimizers.Trajectory:
    return cached_run(surface_key(SURFACE), run_spec("gd", lr=lr).key(), START, STEPS, 0.0, 0, None)


st.title("Gradient descent and the learning rate")
st.markdown(
    "Training a model means finding the weights that make the **loss** (how wrong its predictions "
    "are) as small as possible. Picture the loss as a landscape over the weights: we want its "
    "lowest point. We call the loss **J** and the weights **w**.\n\n"
    "The **gradient** g = ∇J(w) points uphill, the steepest way up. Gradient descent takes a small "
    "step the other way, again and again. The **learning rate** η sets the size of the step."
)
st.latex(r"w_{t+1} = w_t - \eta\, \nabla J(w_t)")
st.caption("New weight = old weight − learning rate × gradient. Here w = (x, y): two weights, "
           "so the landscape is a map.")

st.subheader("Too small, too large, just under the limit")
st.markdown(
    f"A long bowl, J(x, y) = (x² + {L:g} y²) / 2. It curves {L:g}× more steeply along y (up the map) "
    "than along x (across). "
    f"That steepest curvature is called **L** (here L = {L:g}). Gradient descent converges only if "
    f"**η < 2 / L = {2 / L:g}**. Press *Play*: {STEPS} steps at three learning rates."
)
# two short title lines per panel; three side by side, and on a phone (CSS below) one under another
colors = viz.run_colors([r.name for r in SETUP.runs])
views = [viz.RunView(f"{name}<br>η = {r.hyper['lr']:g}", color, run(SETUP, r))
         for color, name, r in zip(colors, NAMES, SETUP.runs, strict=True)]


def three_panels(columns: int, height: int) -> dict:
    fig = viz.trajectory_figure(SURFACE, views, image_for(SURFACE), multiples=True, show_3d=False,
                                arrows=False, height=height, frames=STEPS + 1, frame_ms=120, columns=columns)
    fig["layout"]["font"] = {"size": 16}
    fig["layout"]["margin"]["t"] = 60  # room for the two-line panel titles
    for note in fig["layout"]["annotations"]:
        note.setdefault("font", {})["size"] = 17
    for k in range(2, len(views) + 1):  # one y title, and ticks on each stacked panel only
        fig["layout"][f"yaxis{k}"]["title"] = {"text": ""}
        fig["layout"][f"yaxis{k}"]["showticklabels"] = columns == 1
    for k in ("", *map(str, range(2, len(views) + 1))):  # an x title would sit under the Play button
        fig["layout"][f"xaxis{k}"]["title"] = {"text": ""}
    return viz.fast_figure(fig)


st.markdown(f"<style>{PHONE_CSS}</style>", unsafe_allow_html=True)
with st.container(key="three_wide"):
    st.plotly_chart(three_panels(3, 470), key="gd.three", config={"displaylogo": False})
with st.container(key="three_tall"):  # no toolbar over the first title on a phone
    st.plotly_chart(three_panels(1, 390), key="gd.three_tall", config={"displayModeBar": False})
small, right, large = (v.trajectory.optimizer.hyper["lr"] for v in views)
right_when = learn.gd_verdict(views[1].trajectory, SURFACE, STEPS)[1]
fastest_when = learn.gd_verdict(gd(FASTEST), SURFACE, STEPS)[1]
c1, c2, c3 = st.columns(3)
c1.markdown(f"**Too small** (η = {small:g}): every step is safe but tiny; after {STEPS} steps it "
            "is still far from the minimum.")
c2.markdown(f"**Just under 2/L** (η = {right:g}): it zig-zags across the bowl, but each zig is smaller "
            f"than the last, and it arrives ({right_when}). Arriving is not the same as fast: η = 1/3 "
            f"arrives sooner ({fastest_when}; see below).")
c3.markdown(f"**Too large** (η = {large:g}, just over 2/L): each step overshoots by more than the "
            "last. The zig-zag grows and the run flies off.")
playground_link(PRESET.setup(), "Open these three in the Playground")

st.subheader("Try it: your learning rate")
st.markdown(
    f"Along y every step multiplies the distance to the minimum by **1 − ηL**. Between 0 and "
    f"2/L = {2 / L:g} that factor lies between −1 and 1, so the distance shrinks; beyond 2/L it is "
    "below −1: the run overshoots further each time and **diverges**."
)
lr = st.select_slider("Learning rate η", RATES, value=0.1, key="gd.lr", format_func=lambda v: f"{v:.3g}")
tr = gd(lr)
m1, m2, m3 = st.columns(3)
m1.metric("η × L", f"{lr * L:.3g}", help="Below 2: converges. Above 2: diverges.")
m2.metric("Factor per step along y, 1 − ηL", f"{1 - lr * L:.3g}")
verdict, when = learn.gd_verdict(tr, SURFACE, STEPS)
m3.metric("Outcome", verdict, when, delta_color="off", delta_arrow="off")
color = viz.PALETTE[0] if lr * L < 2 else viz.PALETTE[1]
left, right_col = st.columns(2)
left.plotly_chart(viz.fast_figure(lb.map_figure(
    SURFACE, image_for(SURFACE), [{"label": f"GD, η = {lr:.3g}", "color": color, "path": tr.path,
                                    "diverged": tr.diverged_at >= 0}],
    height=440, step_dots=True, legend=False)), key="gd.map")
right_col.plotly_chart(viz.fast_figure(lb.series_figure(
    [{"label": f"GD, η = {lr:.3g}", "color": color, "y": tr.loss - SURFACE.global_min}],
    ytitle="loss J (log scale; 0 at the minimum)", log_y=True, height=440, yrange=(1e-12, 1e8),
    hlines=[{"y": float(tr.loss[0]), "label": "loss at the start"}])), key="gd.loss")
st.caption("Try η = 1/3 (fastest here: along x each step multiplies the distance by 1 − η = 2/3, along "
           "y by 1 − ηL = −2/3, and no other η makes the worse of the two smaller), η = 0.38 (it zig-zags "
           "in), η = 0.4 = 2/L exactly (it bounces for ever) and η = 0.41.")

st.subheader("Three problems plain gradient descent cannot solve")
st.markdown(
    "Choosing η is the first problem; a **schedule** that lowers η over time helps, but it has to be "
    "set in advance. Three more are built into the landscape itself. Each button opens the case in "
    "the Playground."
)
cols = st.columns(3)
for col, (key, heading, text) in zip(cols, CHALLENGES, strict=True):
    setup = PRESETS[key].setup()
    s = setup.make_surface()
    paths = [{"label": v.label, "color": v.color, "path": v.trajectory.path}
             for v in compute.runs(setup, run=run)]
    with col:
        st.markdown(f"#### {heading}")
        st.markdown(text)
        st.plotly_chart(viz.fast_figure(lb.map_figure(s, image_for(s), paths, height=420)), key=f"gd.{key}")
        playground_link(PRESETS[key].setup())
st.markdown("The next pages build the fixes one idea at a time: first how much data each step uses, "
            "then moving averages, then momentum.")

footer("app_pages/learn_1_gradient_descent.py")
