"""Learn 5: Nesterov's look-ahead, drawn step by step, against plain momentum."""

from __future__ import annotations

import numpy as np
import streamlit as st

import optimizers
import viz
from app_pages.learn_path import footer
from app_pages.widgets import cached_run, image_for, playground_link, side_by_side, surface_key
from descent_lab.presets import PRESETS
from descent_lab.setup import run_spec
from optimizers import moments
from viz import learn_adaptive as la

PRESET = PRESETS["nesterov"]
SETUP = PRESET.setup()
SURFACE = SETUP.make_surface()
START = SETUP.start_point()
STEPS = SETUP.steps
LR = SETUP.runs[1].hyper["lr"]
BETAS = [0.5, 0.8, 0.9, 0.95, 0.98]


def run(name: str, beta: float) -> optimizers.Trajectory:
    spec = run_spec(name, lr=LR, beta=beta)
    return cached_run(surface_key(SURFACE), spec.key(), START, STEPS, 0.0, 0, None)


st.title("Nesterov: look before you step")
st.markdown(
    "Momentum measures the slope where it stands, then lets its velocity carry it on. In a narrow "
    "valley the velocity carries it past the floor, and it swings from wall to wall.\n\n"
    "Nesterov's idea: the velocity is going to move us anyway, so first **jump ahead by it** and "
    "measure the slope *there*. If the look-ahead point is already past the floor, the slope there "
    "points back, and the step is braked before the overshoot happens."
)
side_by_side(
    ("**Momentum**: slope at $w_t$", [r"v_t = \beta v_{t-1} + \eta\,\nabla J(w_t)", r"w_{t+1} = w_t - v_t"]),
    ("**Nesterov (NAG)**: slope at the look-ahead point",
     [r"w_{\text{look}} = w_t - \beta v_{t-1}", r"v_t = \beta v_{t-1} + \eta\,\nabla J(w_{\text{look}})",
      r"w_{t+1} = w_t - v_t"]),
)
st.caption(f"Same learning rate η = {LR:g}, same β for both; one extra line for Nesterov, "
           "no extra cost: still one gradient per step.")

st.subheader("See the look-ahead")
st.markdown(
    f"The ravine of page 4, f = (x² + {SURFACE.params['condition']:g} y²) / 2: curvature L = "
    f"{SURFACE.params['condition']:g} across the valley (y), 1 along it (x). The black crosses are "
    "where Nesterov measured the slope; the dotted lines join each "
    "point $w_t$ to its look-ahead point. Move the step slider to walk through the run."
)
left, right = st.columns([1, 2])
beta = left.select_slider("Momentum β (both runs)", BETAS, value=0.95, key="nag.beta")
step = left.slider("Step t", 0, STEPS - 1, value=1, key="nag.step")
mom, nag = run("momentum", beta), run("nesterov_lookahead", beta)
w, look = nag.path[step], nag.grad_point[step]
left.markdown(
    f"At step **{step}**: $w_t$ = ({w[0]:.3f}, {w[1]:.3f}); the look-ahead point is "
    f"({look[0]:.3f}, {look[1]:.3f}). The green arrow is the downhill direction measured there."
)
if step == 1:
    left.markdown("Step 1 is the telling one: the look-ahead point lies far *past* the valley floor, "
                  "so the slope measured there pushes back and cancels the velocity across the valley.")
flips = [moments.sign_flips(t.path[:, 1]) for t in (mom, nag)]
left.markdown(f"**Crossings of the valley floor** (y changes sign) in {STEPS} steps; each is an overshoot:")
m1, m2 = left.columns(2)
m1.metric("Momentum", flips[0])
m2.metric("Nesterov", flips[1])
fig = la.lookahead_figure(SURFACE, image_for(SURFACE), mom.path, nag.path, nag.grad_point, nag.grad, step,
                          labels=(f"Momentum (β = {beta:g})", f"Nesterov (β = {beta:g})"))
right.plotly_chart(viz.fast_figure(fig), key="nag.map")

st.markdown("The same two runs as y over time. At the larger β momentum swings across the valley for "
            "many steps; Nesterov's braking stops the swing at once.")
ys = la.series_figure([
    {"label": "Momentum", "color": optimizers.rule("momentum").color, "y": mom.path[:, 1],
     "x": np.arange(STEPS + 1)},
    {"label": "Nesterov", "color": optimizers.rule("nesterov").color, "y": nag.path[:, 1],
     "x": np.arange(STEPS + 1)},
], ytitle="y (across the valley)", height=320)
st.plotly_chart(viz.fast_figure(ys), key="nag.y")
playground_link(PRESET.setup(), "Open this comparison in the Playground")

st.subheader("Which points does PyTorch report?")
torch_form = run("nesterov", beta)
gap = float(np.nanmax(np.abs(torch_form.path[:-1] - nag.grad_point)))
st.markdown(
    "`torch.optim.SGD(..., momentum=β, nesterov=True)` rewrites the same method so that it never "
    "stores $w_t$: the weights it holds are the **look-ahead points**. Same learning rate, same β, "
    "same method; only the points you get to see differ."
)
st.latex(r"\begin{gathered} \text{PyTorch: } v_t = \beta v_{t-1} + g_t \\"
         r" w_{t+1} = w_t - \eta\,(g_t + \beta v_t) \end{gathered}")
st.caption(f"Shown on this run: PyTorch-form iterates minus the look-ahead points above, largest "
           f"difference over {STEPS} steps = {gap:.1e}.")
st.markdown("**Good to know**: Nesterov lets you use a large β with less overshoot. The same braking "
            "makes it slightly less able to coast through small bumps into a deeper valley.")

footer("app_pages/learn_5_nesterov.py")
