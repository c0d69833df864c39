"""Learn 4: momentum, the rolling ball: over a rim into a deeper well, through a ravine, beta's
overshoot, and the three ways momentum is written (average, PyTorch, eta inside v) with their exact
correspondence."""

from __future__ import annotations

import streamlit as st

import optimizers
import viz
from app_pages.learn_path import footer
from app_pages.widgets import cached_run, image_for, playground_link, side_by_side, surface_key
from descent_lab import compute, learn
from descent_lab.presets import PRESETS
from descent_lab.setup import Setup, run_spec
from optimizers.analysis import max_stable_lr, quadratic_tuning
from viz import learn_basics as lb

WELLS = PRESETS["local-minima"]
RAVINE = PRESETS["ravine"]
RAVINE_SETUP = RAVINE.setup()
BOWL = RAVINE_SETUP.make_surface()
START = RAVINE_SETUP.start_point()
STEPS = RAVINE_SETUP.steps
LR = RAVINE_SETUP.runs[1].hyper["lr"]  # PyTorch-form momentum's rate in the ravine
MU, L = 1.0, BOWL.params["condition"]  # J = (x² + L y²) / 2: curvature 1 along x, L across (y)
SWING_STEP = 20  # where the page compares the two runs' swings across the valley
BETAS = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]
GD_COLOR, MOM_COLOR, EWMA_COLOR = viz.run_colors(["gd", "momentum", "momentum_ewma"])


#: momentum with eta inside v, as the course's Nesterov section (and page 5) writes it
ETA_INSIDE = r"v_t = \beta v_{t-1} + \eta\, g_t \quad \text{(}\eta\text{-inside form)}"


def formula_lines(name: str) -> list[str]:
    """The registry's formula of ``name``, one LaTeX line each (its form labelled there)."""
    return [x.strip() for x in optimizers.rule(name).formula.split(r"\\") if x.strip()]


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
st.latex(lb.stacked(r"v_t = \beta\, v_{t-1} + (1-\beta)\, \nabla J(w_t) \quad \text{(average form)}",
                    r"w_{t+1} = w_t - \eta\, v_t"))
st.caption("v₀ = 0. β = 0 is plain gradient descent; β = 0.9 (a memory of about 10 steps) is the "
           "usual choice. This is the course's average form. PyTorch and Keras write momentum another way, "
           "and so do the runs on this page: the last section shows the forms and how they correspond.")

st.subheader("Over a rim into a deeper well")
setup = WELLS.setup()
wells = setup.make_surface()
gd_h, mom_h = (r.hyper for r in setup.runs)
wv = views(setup, (f"Gradient descent (η = {gd_h['lr']:g})",
                   f"Momentum (PyTorch form, η = {mom_h['lr']:g}, β = {mom_h['beta']:g})"))
st.markdown(
    "Four wells; the deepest is at the top right. Both runs start at the same point, at the same "
    f"learning rate. Press *Play* and watch them for {setup.steps} steps."
)
left, right = st.columns([1, 1])
fig = viz.trajectory_figure(wells, wv, image_for(wells), show_3d=False, arrows=False, height=600,
                            frames=100, frame_ms=60)
fig["layout"]["font"] = {"size": 16}
fig["layout"]["legend"]["font"] = {"size": 16}
fig["layout"]["xaxis"]["constraintoward"] = "right"  # the square map next to its colour bar, no gap
left.plotly_chart(viz.fast_figure(fig), key="mom.wells", config={"displaylogo": False})
outs = learn.final_points(wv, wells)
with right:
    st.markdown(
        "**Gradient descent** rolls into the nearest well and stops at its bottom: there the slope "
        "is zero, so its steps are zero.\n\n"
        "**Momentum** arrives in that well with speed. It rolls up the far side, over the rim, and "
        "on into the deepest well, where it swings back and forth and settles."
    )
    with st.expander(f"Where they end after {setup.steps} steps (press Play first)"):
        for v, (loss, deepest) in zip(wv, outs, strict=True):
            st.metric(v.label, f"J = {loss:.2f}",
                      "the deepest well" if deepest else "a shallow well",
                      delta_color="normal" if deepest else "inverse", delta_arrow="off")
        st.caption(f"The deepest well's bottom is J = {wells.global_min:.2f}.")
    playground_link(WELLS.setup())

st.subheader("Through a ravine")
gd_r, mom_r = (r.hyper for r in RAVINE_SETUP.runs)
rv = views(RAVINE_SETUP, (f"Gradient descent (η = {gd_r['lr']:g})",
                          f"Momentum (PyTorch form, η = {mom_r['lr']:g}, β = {mom_r['beta']:g})"))
best = quadratic_tuning(MU, L)
rav = learn.ravine(rv[0].trajectory, rv[1].trajectory, BOWL, SWING_STEP)
st.markdown(
    f"A long narrow valley, J = (x² + {L:g} y²) / 2: along its floor (x) the curvature is μ = {MU:g}, "
    f"across it (y) it is L = {L:g}. Gradient descent has one rate for both. Its best choice is "
    f"η = 2 / (μ + L) ≈ {best.gd_lr:.3g}: then every step multiplies the distance across the valley by "
    f"1 − ηL ≈ {lb.signed(1 - best.gd_lr * L)} and the distance along the floor by 1 − ημ ≈ "
    f"{1 - best.gd_lr * MU:.2f}. So it **zig-zags from wall to wall**, each zig only "
    f"{1 - best.gd_rate:.0%} smaller than the last, and moves along the floor just as slowly. "
    "A smaller η calms the zig-zag but crawls even slower along the floor; a larger one zig-zags "
    f"longer, and beyond 2 / L = {2 / L:g} the zig-zag grows and the run diverges (page 1).\n\n"
    f"**Momentum** (PyTorch form, η = {mom_r['lr']:g}, β = {mom_r['beta']:g}; the average form above "
    f"takes the same steps with η = {LR / (1 - mom_r['beta']):.3g}, see the end of the page) takes "
    "gradient descent's first step, "
    "then its velocity remembers. Along the floor the gradient always points the same way, so the "
    f"steps build up: from step {rav.longer[0]} to step {rav.longer[1]} each step along the floor is "
    f"more than 1 / (1 − β) ≈ {1 / (1 - rav.beta):.2g} times as long as gradient descent's step from the "
    f"same point at the same η = {mom_r['lr']:g}. Across the "
    "valley the gradient flips sign, and in the velocity those flips partly cancel: its swings "
    "across never get wider than the first one, and soon die out (the table below). With too large "
    "a β the ball overshoots along the valley as well: see the next section."
)
swing = rav.swing
st.markdown(
    "| | Gradient descent | Momentum |\n|---|---|---|\n"
    f"| widest swing across the valley from step {SWING_STEP} on, largest \\|y\\| (both start at "
    f"{START[1]:g}) "
    f"| {swing[0]:.2g} | {swing[1]:.2g} |\n"
    f"| within {learn.NEAR:g} of the minimum from step | {lb.step_text(rav.reached[0])} | "
    f"{lb.step_text(rav.reached[1])} |\n"
    f"| distance from the minimum after {STEPS} steps | {rav.distance[0]:.2g} | "
    f"{rav.distance[1]:.2g} |"
)
c1, c2 = st.columns(2)
c1.plotly_chart(viz.fast_figure(lb.map_figure(
    BOWL, image_for(BOWL), [{"label": v.label, "color": c, "path": v.trajectory.path}
                            for v, c in zip(rv, (GD_COLOR, MOM_COLOR), strict=True)], height=440)),
    key="mom.ravine")
c2.plotly_chart(viz.fast_figure(lb.series_figure(
    [{"label": v.label, "color": c, "y": v.trajectory.path[:, 1]}
     for v, c in zip(rv, (GD_COLOR, MOM_COLOR), strict=True)],
    title="Across the valley: y at each step", ytitle="y (0 = the valley floor)", height=440)),
    key="mom.ravine_y")
st.caption("The zig-zag step by step: gradient descent's y flips sign at every step and shrinks "
           f"by {1 - best.gd_rate:.0%} a step; momentum's swings shrink much faster.")
playground_link(RAVINE.setup())
fastest = bowl_run("momentum", lr=best.momentum_lr, beta=best.momentum_beta)
fastest_swing, fastest_reached = learn.fastest(fastest, BOWL)
with st.expander("The fastest settings for this valley"):
    st.markdown(
        f"For a bowl whose curvatures lie between μ and L, the heavy-ball theory (G. Goh, *Why momentum "
        f"really works*, Distill 2017) gives the fastest constant momentum (PyTorch form): "
        f"η = (2 / (√L + √μ))² ≈ "
        f"{best.momentum_lr:.3g} and β = ((√L − √μ) / (√L + √μ))² ≈ {best.momentum_beta:.2f}. In the long "
        f"run every direction then shrinks by √β ≈ {best.momentum_rate:.2f} per step, against "
        f"(L − μ) / (L + μ) ≈ {best.gd_rate:.2f} for gradient descent at its best. That η is beyond "
        f"gradient descent's limit 2 / L = {2 / L:g} (momentum is stable up to 2 (1 + β) / L ≈ "
        f"{max_stable_lr(BOWL, START, 'momentum', best.momentum_beta):.3g}), so its first swings are "
        f"wide: from this start they reach |y| = {fastest_swing:.2g}"
        f"{' (beyond the map)' if fastest_swing > BOWL.domain[1][1] else ''} before they die out. "
        f"It is within {learn.NEAR:g} of the minimum from step {lb.step_text(fastest_reached)}: the gentler "
        f"setting above gets there at step {lb.step_text(rav.reached[1])} without the wide swings."
    )

st.subheader("β too large: more memory, more overshoot")
st.markdown(
    "A ball with a lot of momentum does not stop at the bottom: it rolls past, comes back, rolls "
    f"past again. Keep η = {LR:g} (PyTorch form) from the ravine above, move β and watch the run along "
    "the valley."
)
beta = st.select_slider("β", BETAS, value=mom_r["beta"], key="mom.beta", format_func=lambda v: f"{v:g}")
mom = bowl_run("momentum", lr=LR, beta=beta)
sw = learn.swings(mom, BOWL)
m1, m2, m3 = st.columns(3)
m1.metric("Overshoot past the minimum", f"{sw.overshoot:.2f}",
          help="How far along the valley the run goes beyond the minimum.")
m2.metric("Times it crossed the minimum", sw.crossings,
          help=f"Along the valley: x goes from more than {learn.CROSSING_TOL:g} on one side of the minimum "
          f"to more than {learn.CROSSING_TOL:g} on the other.")
m3.metric(f"Within {learn.NEAR:g} of the minimum", f"from step {sw.reached}" if sw.reached >= 0 else
          f"not after {STEPS} steps")
label = f"Momentum (PyTorch form, η = {LR:g}, β = {beta:g})"
c1, c2 = st.columns(2)
c1.plotly_chart(viz.fast_figure(lb.map_figure(
    BOWL, image_for(BOWL), [{"label": label, "color": MOM_COLOR, "path": mom.path}], height=440,
    step_dots=True)), key="mom.beta_map")
c2.plotly_chart(viz.fast_figure(lb.series_figure(
    [{"label": "x (along the valley)", "color": MOM_COLOR, "y": mom.path[:, 0]}],
    title="Position along the valley", ytitle="x (0 = the minimum)", height=440)), key="mom.beta_x")
st.markdown(
    "β = 0 is plain gradient descent at this η: it never passes the minimum, but after "
    f"{STEPS} steps it is still not within 0.01. β = 0.5 to 0.7: faster, and it stops at the minimum "
    "(at 0.7 it passes it by about 0.01). β = 0.8 and 0.9: the ball rolls past the minimum along the "
    "valley and comes back, and settling takes longer. β = 0.95 to 0.99: a long memory, wide swings "
    f"that take hundreds of steps to die out; at 0.99 the run is still more than 1 away after {STEPS} "
    "steps. If a run oscillates too much, lower β; if it is too slow, raise it."
)
st.caption(f"This run uses PyTorch's form of momentum at η = {LR:g}: the average form at the top of the "
           f"page takes the same steps with η = {LR:g} / (1 − β). The next section shows how the forms "
           "relate.")

st.subheader("Three ways to write momentum")
ewma_lr = LR / (1 - beta)
ewma = bowl_run("momentum_ewma", lr=ewma_lr, beta=beta)
side_by_side(
    ("**This course** (page 4)", [lb.stacked(*formula_lines("momentum_ewma"))]),
    ("**PyTorch, Keras**", [lb.stacked(*formula_lines("momentum"))]),
    ("**This course** (page 5)", [lb.stacked(ETA_INSIDE, r"w_{t+1} = w_t - v_t")]),
)
st.markdown(
    "Here gₜ = ∇J(wₜ). The three take exactly the same steps; they differ in what v and η mean:\n\n"
    "- **Average form with η = PyTorch form with η (1 − β).** The average form's v is (1 − β) times "
    "PyTorch's v. With β = 0.9, the course's η = 0.1 is PyTorch's lr = 0.01.\n"
    "- **η-inside form: its v is PyTorch's v times η**, with the same η (while η is constant; "
    "under a schedule the two differ). Page 5 writes momentum and Nesterov this way.\n\n"
    "Every momentum and Nesterov formula in Descent Lab says which form it is in."
)
c1, c2 = st.columns([3, 2])
c1.plotly_chart(viz.fast_figure(lb.map_figure(BOWL, image_for(BOWL), [
    {"label": f"PyTorch form, η = {LR:g}", "color": MOM_COLOR, "path": mom.path, "width": 9,
     "opacity": 0.55},
    {"label": f"Average form, η = {ewma_lr:.3g}", "color": EWMA_COLOR, "path": ewma.path, "dash": "dash"},
], height=440, step_dots=False)), key="mom.forms")
with c2:
    st.markdown(f"Both at β = {beta:g} (the slider above). The dashed line runs exactly inside the "
                "thick one.")
    st.metric("Largest distance between the two paths", f"{learn.largest_gap(mom, ewma):.1e}",
              help="Over all steps: rounding error only.")
    st.code(f"torch.optim.SGD(params, lr={LR:g}, momentum={beta:g})", language="python", wrap_lines=True)

footer("app_pages/learn_4_momentum.py")
