"""Learn 4: momentum, the rolling ball: over a rim into a deeper well, through a ravine, beta's
overshoot, and the EWMA form against PyTorch's form (the same steps up to the learning rate)."""

from __future__ import annotations

import streamlit as st

import optimizers
import viz
from app_pages.learn_path import footer
from app_pages.widgets import cached_run, image_for, open_in_playground, side_by_side, surface_key
from descent_lab import compute
from descent_lab.presets import PRESETS
from descent_lab.setup import Setup, run_spec
from optimizers import moments
from viz import learn_basics as lb

WELLS = PRESETS["local-minima"]
RAVINE = PRESETS["ravine"]
RAVINE_SETUP = RAVINE.setup()
BOWL = RAVINE_SETUP.make_surface()
START = RAVINE_SETUP.start_point()
STEPS = RAVINE_SETUP.steps
LR = RAVINE_SETUP.runs[1].hyper["lr"]  # PyTorch-form momentum's rate in the ravine
BETAS = [0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99]
GD_COLOR, MOM_COLOR, EWMA_COLOR = viz.PALETTE[0], viz.PALETTE[1], viz.PALETTE[3]


def run_setup(setup: Setup, spec) -> optimizers.Trajectory:
    return cached_run(surface_key(setup.make_surface()), spec.key(), setup.start_point(), setup.steps,
                      setup.noise, setup.seed, setup.batch or None)


def bowl_run(name: str, **hyper) -> optimizers.Trajectory:
    return cached_run(surface_key(BOWL), run_spec(name, **hyper).key(), START, STEPS, 0.0, 0, None)


def views(setup: Setup, names: tuple[str, ...]) -> list[viz.RunView]:
    out = compute.runs(setup, run=run_setup)
    return [viz.RunView(n, v.color, v.trajectory) for n, v in zip(names, out, strict=True)]


st.title("Momentum")
st.markdown(
    "Gradient descent has no memory: each step looks only at the slope under its feet. A ball "
    "rolling downhill is different: it builds up **speed** in a direction that keeps going "
    "downhill, and that speed carries it over small bumps. Momentum gives gradient descent that "
    "speed: a velocity v, the exponentially weighted average of the gradients (page 3), and it steps "
    "along v instead of along the gradient."
)
st.latex(r"v_t = \beta\, v_{t-1} + (1-\beta)\, \nabla J(w_t) \qquad w_{t+1} = w_t - \eta\, v_t")
st.caption("v₀ = 0. β = 0 is plain gradient descent; β = 0.9 (a memory of about 10 steps) is the "
           "usual choice.")

st.subheader("Over a rim into a deeper well")
setup = WELLS.setup()
wells = setup.make_surface()
gd_h, mom_h = (r.hyper for r in setup.runs)
wv = views(setup, (f"Gradient descent (η = {gd_h['lr']:g})",
                   f"Momentum (η = {mom_h['lr']:g}, β = {mom_h['beta']:g})"))
st.markdown(
    "Four wells; the deepest is at the top right. Both runs start at the same point, at the same "
    f"learning rate. Press *Play* and watch them for {setup.steps} steps."
)
left, right = st.columns([3, 2])
fig = viz.trajectory_figure(wells, wv, image_for(wells), show_3d=False, arrows=False, height=560,
                            frames=100, frame_ms=60)
fig["layout"]["font"] = {"size": 16}
fig["layout"]["legend"]["font"] = {"size": 16}
left.plotly_chart(viz.fast_figure(fig), key="mom.wells", config={"displaylogo": False})
outs = [optimizers.outcome(v.trajectory, wells, 0.05) for v in wv]
with right:
    st.markdown(
        "**Gradient descent** rolls into the nearest well and stops at its bottom: there the slope "
        "is zero, so its steps are zero.\n\n"
        "**Momentum** arrives in that well with speed. It rolls up the far side, over the rim, and "
        "on into the deepest well, where it swings back and forth and settles."
    )
    for v, o in zip(wv, outs, strict=True):
        deepest = int(o.nearest) == 0
        st.metric(v.label, f"f = {float(o.final_loss):.2f}",
                  "the deepest well" if deepest else "a shallow well",
                  delta_color="normal" if deepest else "inverse", delta_arrow="off")
    st.caption(f"The deepest well's bottom is f = {wells.global_min:.2f}.")
    if st.button("Open in the Playground", icon=":material/sports_esports:", key="mom.open.wells"):
        open_in_playground(WELLS.setup())

st.subheader("Through a ravine")
gd_r, mom_r = (r.hyper for r in RAVINE_SETUP.runs)
rv = views(RAVINE_SETUP, (f"Gradient descent (η = {gd_r['lr']:g})",
                          f"Momentum (η = {mom_r['lr']:g}, β = {mom_r['beta']:g})"))
st.markdown(
    "A long narrow valley, 50× steeper across than along. Gradient descent must keep η below "
    "2 / 50 = 0.04 or the steep walls throw it out (page 1), and with so small a step it bounces "
    "from wall to wall and moves slowly along the gentle floor. Momentum's average cancels the "
    "back-and-forth (the gradients across the valley flip sign) and adds up the along-the-valley "
    "part (always the same sign): with a 3.5× smaller η it still ends closer to the minimum."
)
ends = [float(optimizers.outcome(v.trajectory, BOWL, 0.01).distance) for v in rv]
st.caption(f"Distance from the minimum after {STEPS} steps: gradient descent {ends[0]:.2g}, "
           f"momentum {ends[1]:.2g}.")
c1, c2 = st.columns(2)
c1.plotly_chart(viz.fast_figure(lb.map_figure(
    BOWL, image_for(BOWL), [{"label": v.label, "color": c, "path": v.trajectory.path}
                            for v, c in zip(rv, (GD_COLOR, MOM_COLOR), strict=True)], height=440)),
    key="mom.ravine")
c2.plotly_chart(viz.fast_figure(lb.series_figure(
    [{"label": v.label, "color": c, "y": v.trajectory.loss - BOWL.global_min}
     for v, c in zip(rv, (GD_COLOR, MOM_COLOR), strict=True)],
    title="Loss", ytitle="f (log scale)", log_y=True, height=440)), key="mom.ravine_loss")
if st.button("Open in the Playground", icon=":material/sports_esports:", key="mom.open.ravine"):
    open_in_playground(RAVINE.setup())

st.subheader("β: more memory, more speed, more overshoot")
st.markdown(
    "A ball with a lot of momentum does not stop at the bottom: it rolls past, comes back, rolls "
    "past again. Move β and watch the run along the valley."
)
beta = st.select_slider("β", BETAS, value=0.9, key="mom.beta", format_func=lambda v: f"{v:g}")
mom = bowl_run("momentum", lr=LR, beta=beta)
o = optimizers.outcome(mom, BOWL, 0.01)
m1, m2, m3 = st.columns(3)
m1.metric("Overshoot past the minimum", f"{lb.overshoot(mom.path, BOWL.minima[0]):.2f}",
          help="How far along the valley the run goes beyond the minimum.")
m2.metric("Times it crossed the minimum", moments.sign_flips(mom.path[:, 0]),
          help="Along the valley (sign changes of x).")
m3.metric("Within 0.01 of the minimum", f"from step {int(o.reached_at)}" if o.reached_at >= 0 else
          f"not after {STEPS} steps")
label = f"Momentum (PyTorch form, η = {LR:g}, β = {beta:g})"
c1, c2 = st.columns(2)
c1.plotly_chart(viz.fast_figure(lb.map_figure(
    BOWL, image_for(BOWL), [{"label": label, "color": MOM_COLOR, "path": mom.path}], height=440,
    step_dots=True)), key="mom.beta_map")
c2.plotly_chart(viz.fast_figure(lb.series_figure(
    [{"label": "x (along the valley)", "color": MOM_COLOR, "y": mom.path[:, 0]}],
    title="Position along the valley", ytitle="x", height=440,
    hlines=[{"y": 0.0, "label": "the minimum"}])), key="mom.beta_x")
st.markdown(
    "β = 0: plain gradient descent, slow. β = 0.5 to 0.8: faster, little overshoot. β = 0.9: fast, "
    "overshoots a little. β = 0.98 or 0.99: a long memory, large swings that take long to die out. "
    "If a run oscillates too much, lower β; if it is too slow, raise it."
)
st.caption(f"This run uses PyTorch's form of momentum at η = {LR:g}; the next section shows how it "
           "relates to the formula above.")

st.subheader("Two ways to write momentum")
ewma_lr = LR / (1 - beta)
ewma = bowl_run("momentum_ewma", lr=ewma_lr, beta=beta)
gap = float(abs(ewma.path - mom.path).max())
side_by_side(
    ("**This course** (an average of gradients)",
     [r"v_t = \beta v_{t-1} + (1-\beta)\, g_t \\ w_{t+1} = w_t - \eta\, v_t"]),
    ("**PyTorch, Keras** (a sum of gradients)",
     [r"u_t = \beta u_{t-1} + g_t \\ w_{t+1} = w_t - \eta'\, u_t"]),
)
st.markdown(
    "Multiply PyTorch's u by (1 − β) and you get the course's v: **v = (1 − β) u**. So both take "
    "exactly the same steps when **η′ = η (1 − β)**. They differ only in what the learning rate "
    "means: with β = 0.9, the course's η = 0.1 is PyTorch's lr = 0.01."
)
c1, c2 = st.columns([3, 2])
c1.plotly_chart(viz.fast_figure(lb.map_figure(BOWL, image_for(BOWL), [
    {"label": f"PyTorch form, η′ = {LR:g}", "color": MOM_COLOR, "path": mom.path, "width": 9,
     "opacity": 0.55},
    {"label": f"Course form, η = {ewma_lr:.3g}", "color": EWMA_COLOR, "path": ewma.path, "dash": "dash"},
], height=440, step_dots=False)), key="mom.forms")
with c2:
    st.markdown(f"Both at β = {beta:g} (the slider above). The dashed line runs exactly inside the "
                "thick one.")
    st.metric("Largest distance between the two paths", f"{gap:.1e}",
              help="Over all steps: rounding error only.")
    st.code(f"torch.optim.SGD(params, lr={LR:g}, momentum={beta:g})", language="python", wrap_lines=True)

footer("app_pages/learn_4_momentum.py")
