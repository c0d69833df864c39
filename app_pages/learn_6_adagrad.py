"""Learn 6: AdaGrad, a learning rate per parameter, and how that rate fades."""

from __future__ import annotations

import streamlit as st

import landscapes
import optimizers
import viz
from app_pages.learn_path import footer
from app_pages.widgets import cached_run, image_for, playground_link, surface_key
from descent_lab import learn
from descent_lab.presets import PRESETS
from descent_lab.setup import run_spec
from viz import learn_adaptive as la

CONDITIONS = [10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]
BOWL_START = (-2.8, 1.5)
BOWL_STEPS = 100
GD_COLOR, ADAGRAD_COLOR = optimizers.rule("gd").color, optimizers.rule("adagrad").color
ADAGRAD_LR = 0.5
FADES = PRESETS["adagrad-fades"]
FADES_SETUP = FADES.setup()


def run(surface, name: str, start, steps: int, **hyper) -> optimizers.Trajectory:
    return cached_run(surface_key(surface), run_spec(name, **hyper).key(), tuple(start), steps, 0.0, 0, None)


st.title("AdaGrad: a learning rate for every parameter")
st.markdown(
    "Gradient descent uses **one** learning rate for all weights. When features have very "
    "different scales (a CGPA from 0 to 10 next to a salary up to 200 000), the loss becomes a "
    "long, narrow bowl: steep along one weight, flat along the other. The steep direction forces "
    "a small rate; with that rate the flat direction barely moves.\n\n"
    "AdaGrad (*adaptive gradient*) keeps, for each weight, the sum of its squared gradients so "
    "far, and divides that weight's step by the square root of the sum. Weights with big "
    "gradients get small rates, weights with small gradients get large ones."
)
st.latex(r"\begin{gathered}" + optimizers.rule("adagrad").formula + r"\end{gathered}")
st.caption("gₜ = ∇J(wₜ). Everything is per weight: each one has its own v and so its own rate "
           "η / (√v + ε). ε (1e-10 here) only prevents a division by zero. The course writes the sum "
           "as V and puts ε inside the root, √(V + ε) (as Keras does); PyTorch and this app add it outside.")

st.subheader("Different scales: one rate against per-weight rates")
st.markdown("The bowl J = (x² + L y²) / 2 curves L times more steeply in y than in x (L is its "
            "curvature across, as on pages 1 and 4; the ratio of the two curvatures, L / 1, is called "
            "the condition number). Gradient descent can use at most η = 2 / L before it blows up; it "
            f"gets η = 1 / L, a safe choice. AdaGrad gets η = {ADAGRAD_LR:g}. Both take {BOWL_STEPS} steps.")
left, right = st.columns([1, 2])
k = left.select_slider("Curvature L across the bowl (how stretched it is)", CONDITIONS, value=100.0,
                       key="ada.k", format_func=lambda v: f"{v:g}")
bowl = landscapes.get("elongated_bowl", condition=k)
gd = run(bowl, "gd", BOWL_START, BOWL_STEPS, lr=1 / k)
ada = run(bowl, "adagrad", BOWL_START, BOWL_STEPS, lr=ADAGRAD_LR)
bowl_out = learn.adagrad_bowl(gd, ada)
m1, m2 = left.columns(2)
m1.metric("GD: distance left", f"{bowl_out.distance[0]:.2g}")
m2.metric("AdaGrad: distance left", f"{bowl_out.distance[1]:.2g}")
left.markdown(
    f"After {BOWL_STEPS} steps AdaGrad's rate for x is **{bowl_out.rate_ratio:.0f} times** its rate "
    "for y: it found the scales by itself. Make the bowl more stretched: gradient descent crawls, "
    "AdaGrad's path does not change at all (dividing by √v cancels the scale)."
)
paths = [(f"Gradient descent (η = 1/L = {1 / k:.3g})", GD_COLOR, gd.path),
         (f"AdaGrad (η = {ADAGRAD_LR:g})", ADAGRAD_COLOR, ada.path)]
fig = la.map_figure(bowl, image_for(bowl), paths, height=480)
right.plotly_chart(viz.fast_figure(fig), key="ada.map")
rates = la.series_figure(
    la.rate_series("AdaGrad", ADAGRAD_COLOR, ada.effective_lr)
    + la.rate_series("Gradient descent", GD_COLOR, gd.effective_lr),
    title="The rate each weight gets", ytitle="η / (√v + ε)", log_y=True, height=380)
st.plotly_chart(viz.fast_figure(rates), key="ada.rates")

st.subheader("The catch: the rate only ever shrinks")
st.markdown(
    "v is a sum of squares: it can only grow. So every weight's rate η / (√v + ε) can only "
    "shrink, step after step, whether or not the weight is anywhere near its best value. On a "
    "long curved valley that is fatal: the rate is spent on the way down, and little is left "
    "for the long walk along the valley floor."
)
steps = st.select_slider("Steps", [200, 400, 800, 1600], value=FADES_SETUP.steps, key="ada.steps")
rosen = FADES_SETUP.make_surface()
lr = FADES_SETUP.runs[0].hyper["lr"]
tr = run(rosen, "adagrad", FADES_SETUP.start_point(), steps, lr=lr)
fd = learn.fade(tr, rosen)
c1, c2 = st.columns(2)
c1.plotly_chart(viz.fast_figure(la.map_figure(rosen, image_for(rosen),
                                              [(f"AdaGrad (η = {lr:g})", ADAGRAD_COLOR, tr.path)],
                                              height=430, show_steps=False)), key="ada.fade_map")
c2.plotly_chart(viz.fast_figure(la.series_figure(
    la.rate_series("AdaGrad", ADAGRAD_COLOR, tr.effective_lr), title="AdaGrad's rates on Rosenbrock",
    ytitle="η / (√v + ε)", log_y=True, log_x=True, height=430)), key="ada.fade_rates")
st.markdown(
    f"Rosenbrock's minimum is the star at (1, 1). After **{steps}** steps the rates have fallen "
    f"from {fd.first[0]:.2g} and {fd.first[1]:.2g} to **{fd.last[0]:.2g}** and **{fd.last[1]:.2g}**, and the "
    f"run is still {fd.distance:.2f} away from the minimum "
    f"(its loss is still {fd.gap:.2g} above the minimum's, J − J*). The rate chart has a log step axis: "
    "most of the fall happens in "
    f"the first steps, where the gradients are huge. The next lesson keeps the idea and removes the catch."
)
playground_link(FADES.setup(), "Open AdaGrad vs RMSProp on Rosenbrock in the Playground")
st.markdown("**Good at**: sparse features and features on very different scales, convex problems. "
            "**Bad at**: long training runs and deep networks, where the rate fades before the end.")

footer("app_pages/learn_6_adagrad.py")
