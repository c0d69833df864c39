"""Learn 5: Nesterov's look-ahead, drawn step by step, against plain momentum."""

from __future__ import annotations

import streamlit as st

import optimizers
import viz
from app_pages.learn_path import footer
from app_pages.widgets import cached_run, image_for, playground_link, side_by_side, surface_key
from descent_lab import learn
from descent_lab.presets import PRESETS
from descent_lab.setup import run_spec
from viz import learn_adaptive as la
from viz import learn_basics as lb

PRESET = PRESETS["nesterov"]
SETUP = PRESET.setup()
SURFACE = SETUP.make_surface()
START = SETUP.start_point()
STEPS = SETUP.steps
MOMENTUM, NESTEROV = (r.name for r in SETUP.runs)  # PyTorch-form momentum, look-ahead-form Nesterov
LR, BETA = SETUP.runs[1].hyper["lr"], SETUP.runs[1].hyper["beta"]
BETAS = [0.5, 0.8, 0.9, 0.95, 0.98]
TOL = learn.CROSSING_TOL


def run(name: str, beta: float) -> optimizers.Trajectory:
    spec = run_spec(name, lr=LR, beta=beta)
    return cached_run(surface_key(SURFACE), spec.key(), START, STEPS, 0.0, 0, None)


def readout(beta: float) -> learn.Nesterov:
    return learn.nesterov(run(MOMENTUM, beta), run(NESTEROV, beta), SURFACE)


st.title("Nesterov: look before you step")
st.markdown(
    "Momentum measures the slope where it stands, then lets its velocity carry it on. In a narrow "
    "valley the velocity carries it past the floor, and it swings from wall to wall.\n\n"
    "Nesterov's idea: the velocity is going to move us anyway, so first **jump ahead by it** and "
    "measure the slope *there*. If the look-ahead point is already past the floor, the slope there "
    "points back, and the step is braked before the overshoot happens."
)
side_by_side(
    ("**Momentum**: slope at $w_t$",
     [lb.stacked(r"v_t = \beta v_{t-1} + \eta\,\nabla J(w_t) \quad \text{(}\eta\text{-inside form)}",
                 r"w_{t+1} = w_t - v_t")]),
    ("**Nesterov (NAG)**: slope at the look-ahead point", [lb.stacked(optimizers.rule(NESTEROV).formula)]),
)
st.caption(
    f"Same learning rate η = {LR:g}, same β for both; one gradient per step for both. The course writes "
    "both rules with η inside v. That v is η times PyTorch's v (page 4 shows momentum's forms side by "
    "side), so while η is constant this momentum takes the same steps as torch.optim.SGD(lr=η, momentum=β)."
)

st.subheader("See the look-ahead")
st.markdown(
    f"The ravine of page 4, J = (x² + {SURFACE.params['condition']:g} y²) / 2: curvature L = "
    f"{SURFACE.params['condition']:g} across the valley (y), 1 along it (x). The black crosses are "
    "where Nesterov measured the slope; the dotted lines join each "
    "point $w_t$ to its look-ahead point. Move the step slider to walk through the run."
)
left, right = st.columns([1, 2])
beta = left.select_slider("Momentum β (both runs)", BETAS, value=BETA, key="nag.beta")
step = left.slider("Step t", 0, STEPS - 1, value=max(readout(BETA).brake, 0), key="nag.step")
mom, nag = run(MOMENTUM, beta), run(NESTEROV, beta)
out = readout(beta)
w, look = nag.path[step], nag.grad_point[step]
left.markdown(
    f"At step **{step}**: $w_t$ = ({w[0]:.3f}, {w[1]:.3f}); the look-ahead point is "
    f"({look[0]:.3f}, {look[1]:.3f}). The green arrow is the downhill direction measured there."
)
if out.brake >= 0:
    left.markdown(
        f"Step {out.brake} is the telling one: $w_t$ has not reached the valley floor yet, but its "
        "look-ahead point already lies *past* it, so the slope measured there points back and brakes "
        "the velocity across the valley before the overshoot.")
left.markdown(f"**Crossings of the valley floor** in {STEPS} steps (y goes from more than {TOL:g} on one "
              f"side to more than {TOL:g} on the other; each is an overshoot):")
m1, m2 = left.columns(2)
m1.metric("Momentum", out.crossings[0])
m2.metric("Nesterov", out.crossings[1])
fig = la.lookahead_figure(SURFACE, image_for(SURFACE), mom.path, nag.path, nag.grad_point, nag.grad, step,
                          labels=(f"Momentum (β = {beta:g})", f"Nesterov (β = {beta:g})"))
right.plotly_chart(viz.fast_figure(fig), key="nag.map")

reached = [lb.step_text(r) for r in out.reached]
st.markdown(
    f"The same two runs as y over time. Both swing past the floor: at β = {beta:g} momentum swings down "
    f"to y = {lb.signed(out.deepest[0])}, Nesterov only to y = {lb.signed(out.deepest[1])}, and its swings "
    f"die out sooner. Within {learn.NEAR:g} of the minimum from step: momentum {reached[0]}, Nesterov "
    f"{reached[1]}. Raise β and both swing more; Nesterov still less."
)
ys = lb.series_figure([
    {"label": "Momentum", "color": optimizers.rule("momentum").color, "y": mom.path[:, 1]},
    {"label": "Nesterov", "color": optimizers.rule("nesterov").color, "y": nag.path[:, 1]},
], ytitle="y (across the valley)", height=340,
    hlines=[{"y": TOL, "label": f"±{TOL:g}: a crossing counts beyond these"}, {"y": -TOL, "label": ""}])
ys["data"][-1]["showlegend"] = False
st.plotly_chart(viz.fast_figure(ys), key="nag.y")
playground_link(PRESET.setup(), "Open this comparison in the Playground")

st.subheader("Which points does PyTorch report?")
torch_form = run("nesterov", beta)
st.markdown(
    "`torch.optim.SGD(..., momentum=β, nesterov=True)` rewrites the same method so that it never "
    "stores $w_t$: the weights it holds are the **look-ahead points**, and its v is the look-ahead "
    "form's v divided by η. Same learning rate, same β, same method; only the points you get to see differ."
)
st.latex(lb.stacked(optimizers.rule("nesterov").formula))
st.caption(f"Shown on this run: PyTorch-form points minus the look-ahead points above, largest "
           f"difference over {STEPS} steps = {learn.largest_gap(torch_form, nag, lookahead=True):.1e}.")
st.markdown("**Good to know**: Nesterov lets you use a large β with less overshoot. The same braking "
            "makes it slightly less able to coast through small bumps into a deeper valley.")

footer("app_pages/learn_5_nesterov.py")
