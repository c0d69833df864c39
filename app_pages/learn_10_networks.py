"""Learn 10: what the course says about real training, measured on a small network: minima and
saddles, mini-batch noise, badly scaled inputs, sharp and flat minima."""

from __future__ import annotations

import streamlit as st

import optimizers
import viz
from app_pages.learn_path import footer
from app_pages.widgets import open_in_networks
from descent_lab import network_lessons as nl
from viz import learn_basics as lb
from viz import learn_networks as ln
from viz.learn_networks import percent, span
from viz.style import GREY, LIGHT_GREY

NET = nl.lesson_net()
GD_COLOR, ADAM_COLOR = optimizers.rule("gd").color, optimizers.rule("adam").color
SEED_COLORS = (ADAM_COLOR, viz.PALETTE[1])  # Adam's seeds 0 and 1, the same in every chart of section 1
MINI_BATCHES = [5, 10, 20, 50]
SMALL_BATCHES = [4, 8, 16, 32]


def chart(fig: dict, key: str, container=st) -> None:
    # no mode bar: in these narrow columns it covers the chart's title
    container.plotly_chart(viz.fast_figure(fig), key=key, config={"displayModeBar": False})


def networks_buttons(lesson, key: str, what: str) -> None:
    """'Open in Networks' buttons for seed 0's runs of a lesson, and what differs there."""
    links = nl.networks_links(lesson)
    cols = st.columns(max(3, len(links)))
    for col, (i, (label, link)) in zip(cols, enumerate(links), strict=False):
        if col.button(f"Open in Networks: {label}", icon=":material/hub:", key=f"{key}.{i}", width="stretch"):
            open_in_networks(link)
    st.caption(f"{what} {nl.NETWORKS_NOTE}")


st.title("Real networks")
st.markdown(
    "Every map so far had two weights. A network has many more: here a small multilayer perceptron "
    f"(2 inputs, two hidden layers of 16 tanh units, 1 output: **{NET.dim} weights**) learns to tell "
    f"the two classes of the *two moons* data apart ({NET.data.n} training points, {NET.test.n} test "
    "points, cross-entropy loss). The course makes four claims about training such networks. "
    "Each one is measured below, on this network, when the page runs; where the network "
    "does not do what the course says, the text says what it does instead."
)

# --- 1. local minima and saddle points ---------------------------------------------------------

st.header("1. Local minima and saddle points")
with st.spinner("Training from several seeds, taking Hessians ..."):
    m = nl.minima()
st.markdown(
    "The course warns that gradient descent gets stuck in local minima, or crawls near saddle points. "
    f"Here are {len(m.seeds)} runs of Adam (η = {m.lr:g}, {m.steps} steps), each from its own random "
    f"initialization, and {len(m.seeds)} of plain gradient descent from the same starts."
)
left, right = st.columns(2)
chart(lb.series_figure(
    [{"label": f"GD (η = {m.gd_lr:g}), every seed", "color": GD_COLOR, "dash": "dot", "y": m.gd_loss[:, s],
      "width": 2, "legend": s == 0} for s in m.seeds]
    + [{"label": "Adam, other seeds" if s == 2 else f"Adam, seed {s}",
        "color": SEED_COLORS[s] if s < 2 else LIGHT_GREY,
        "y": m.loss[:, s], "width": 3 if s < 2 else 2, "legend": s <= 2} for s in m.seeds[::-1]],
    title="Training loss of each seed", ytitle="loss (log)", log_y=True, height=440), "nets.seeds", left)
right.markdown(
    f"The Adam runs start at losses of {span(m.start_loss)} and end at **{span(m.final)}**, with training "
    f"accuracy {percent(m.train_acc)} and test accuracy {percent(m.test_acc)}. "
    + ("Some run stalls above half the lowest starting loss: a bad local minimum or a plateau. "
       if m.stalled else
       f"None is stuck: every run ends below {m.final.max() / m.start_loss.min():.0%} of the lowest "
       "starting loss. ")
    + "They do not all reach the same number, though: each seed finds its own solution."
)
right.markdown(
    f"**Plain gradient descent** (η = {m.gd_lr:g}) from the same starts: "
    + (f"every seed ends at {span(m.gd_loss[-1], 3)}, on one **plateau**. Its gradient there is "
       f"{span(m.gd_grad_end / m.gd_grad_start)} times its size at the start, and over its last 100 steps "
       f"the loss fell by only {span(m.gd_last_drop, 1)}. That is the course's flat region where GD crawls: "
       "not a minimum, since Adam from seed 0's start "
       + (f"crosses that level at step {m.adam_passes} and goes on down."
          if m.adam_passes >= 0 else "also stays above it here.")
       if m.gd_plateau else
       f"its seeds end at {span(m.gd_loss[-1], 3)}: no common plateau that holds them all.")
)
first, middle, ends = m.along[0], m.along[2], m.ends
right.markdown(
    f"**Saddles?** The Hessian ({NET.dim} × {NET.dim}, all second derivatives of the loss) says how "
    "the loss curves around a point: a negative eigenvalue is a direction in which it curves down. "
    f"At the start the loss curves down in **{first.negative}** of {NET.dim} directions, the strongest "
    f"of them {first.down_over_up:.0%} as strongly as the strongest upward direction: the start looks "
    f"like a saddle. By step {middle.step} that is down to {middle.down_over_up:.1%}: the run has left the "
    f"saddle. At the ends of seeds 0 to {len(ends) - 1}, {span([e.negative for e in ends])} directions "
    "still curve down, but only "
    f"{span([100 * e.down_over_up for e in ends], 1)} % as strongly as the strongest upward one: "
    "almost flat. The runs end in long, nearly flat valleys, not stuck at saddles."
)
chart(ln.spectrum_figure(m.along, title="Seed 0's Hessian eigenvalues"),
      "nets.spectrum")
st.caption("Each line is one Hessian's eigenvalues, smallest to largest, on a signed log scale (each grid "
           f"step a factor of 10, both ways; within ±{ln.FLOOR:g} of zero linear). Below the grey zero line: "
           "directions of downward curvature. Their size falls by orders of magnitude as the loss falls.")
networks_buttons(m, "nets.open.seeds", "Watch seed 0's Adam and GD runs cross the loss landscape, with "
                 "their decision boundaries, on the Networks page.")

st.subheader("One valley or many?")
left, mid, right = st.columns([4, 3, 3])
chart(lb.series_figure(
    [{"label": "seed 0: start (0) to end (1)", "color": SEED_COLORS[0], "x": m.alpha, "y": m.from_start},
     {"label": "seed 0's end (0) to seed 1's end (1)", "color": GREY, "dash": "dash", "x": m.alpha,
      "y": m.between}],  # between two seeds: neither seed's colour
    title="Loss on straight lines", xtitle="position α on the line", ytitle="loss", height=440),
    "nets.lines", left)
xs, ys, p = m.boundary
chart(ln.boundary_figure(NET.data.x, NET.data.y, xs, ys,
                         [{"label": "seed 0", "color": SEED_COLORS[0], "p": p[0]},
                          {"label": "seed 1", "color": SEED_COLORS[1], "p": p[1], "dash": "dash"}],
                         title="Their decision boundaries", height=440), "nets.boundary", mid)
low, high = m.end_losses
right.markdown(
    "Walk in a straight line between two points of weight space and record the loss. "
    + ("From seed 0's start to its end the loss falls all the way (as Goodfellow et al. saw in 2015 "
       "for much larger networks). " if m.monotone_from_start else
       "From seed 0's start to its end the loss does not fall all the way: it rises somewhere on the line. ")
    + (f"Between the ends of seed 0 and seed 1 (losses {low:.3g} and {high:.3g}) it climbs "
       f"**{m.barrier:.3g} above the worse end**: two valleys, with a ridge between them. "
       if m.separated else
       f"Between the ends of seed 0 and seed 1 the loss rises only {m.barrier:.3g} above the worse end: "
       "no real barrier, the two solutions share one valley. ")
    + f"The two networks classify **{m.agreement:.1%}** of the test points alike: "
    + ("different weights, nearly the same function. A network has many equally good solutions "
       "(swapping two hidden units, for one, gives the same function with other weights)."
       if m.same_function else "they found different functions.")
)

# --- 2. mini-batch noise ----------------------------------------------------------------------

st.header("2. Mini-batch noise")
batch = st.columns([1, 2])[0].select_slider("Mini-batch size B", MINI_BATCHES, value=20, key="nets.batch")
with st.spinner("Training with three batch sizes ..."):
    z = nl.noise(batch=batch)
full, mini, sgd = z.runs
st.markdown(
    f"Gradient descent with one learning rate (η = {z.lr:g}), fed three kinds of gradient, for the same "
    f"**{z.epochs} epochs** (passes over the {z.n} training points): the full batch makes one update per "
    f"epoch, mini-batches of {batch} make {z.n // batch}, SGD makes {z.n}. The curves are the loss on all "
    "the training data after every update."
)
left, right = st.columns([3, 2])
chart(lb.series_figure(
    [{"label": r.label, "color": c, "x": r.epochs(z.n), "y": r.loss, "width": w}  # SGD drawn first, under
     for r, c, w in reversed(list(zip(z.runs, viz.PALETTE[:3], (4, 3, 1), strict=True)))],
    title=f"Loss over {z.epochs} epochs", xtitle="epoch", ytitle="loss (log)", log_y=True,
    height=440), "nets.noise", left)
right.dataframe([{"gradient from": r.label, "updates": r.updates, "final loss": float(r.loss[-1]),
                  "loss rose after": f"{r.rises:.0%} of updates"} for r in z.runs],
                hide_index=True, column_config={"final loss": st.column_config.NumberColumn(format="%.3f")})
right.markdown(
    f"The full-batch loss falls at every update ({full.rises:.0%} rises): each is a step along the true "
    f"gradient. The mini-batch loss rises after **{mini.rises:.0%}** of its updates and SGD's after "
    f"**{sgd.rises:.0%}**: each step follows a few samples, not all of them. SGD's loss swings by "
    f"{sgd.wobble(z.n):.2g} within its last epoch. After {z.epochs} epochs the lowest loss is the "
    f"**{z.best.label}** run's ({z.best.loss[-1]:.3f}; full batch {full.loss[-1]:.3f})"
    + (": per epoch, more updates beat exact ones." if z.best is not full else
       ": here the exact steps win, even per epoch.")
)

networks_buttons(z, "nets.open.noise", "Each run on the Networks page, its path on the landscape "
                 "and its loss per update (mini-batches as here: seed 0's).")

# --- 3. badly scaled inputs -------------------------------------------------------------------

st.header("3. Badly scaled inputs: why adaptive methods help")
with st.spinner("Training GD and Adam at several learning rates ..."):
    s = nl.scaling()
gd_plain, gd_scaled = s.best("gd", "plain"), s.best("gd", "scaled")
adam_plain, adam_scaled = s.best("adam", "plain"), s.best("adam", "scaled")
st.markdown(
    f"Now multiply the first input feature by **{s.factor:g}** (as when one feature is a salary and "
    "the other a grade). The first layer's weights on that feature get gradients of another size "
    f"than the rest: at the start they average {s.grad_ratio['scaled']:.2g} times those on the other "
    f"feature (on the plain data {s.grad_ratio['plain']:.2g} times). Gradient descent has one learning "
    f"rate for all {NET.dim} weights; Adam divides each weight's step by the size of its own recent "
    f"gradients. Both ran {s.steps} steps at each of {s.lrs.size} learning rates, on the plain and the "
    "scaled data."
)
left, right = st.columns(2)
styles = {("gd", "plain"): (GD_COLOR, "solid"), ("gd", "scaled"): (GD_COLOR, "dash"),
          ("adam", "plain"): (ADAM_COLOR, "solid"), ("adam", "scaled"): (ADAM_COLOR, "dash")}
names = {"gd": "GD", "adam": "Adam"}
chart(lb.series_figure(
    [{"label": f"{names[o]}, {d} data", "color": c, "dash": dash, "x": s.lrs, "y": s.final[o, d],
      "mode": "lines+markers"} for (o, d), (c, dash) in styles.items()],
    title=f"Loss after {s.steps} steps, per η", xtitle="learning rate η (log)",
    ytitle="final loss (log)", log_x=True, log_y=True, height=440), "nets.lrs", left)
chart(lb.series_figure(
    [{"label": f"{names[o]}, {d} (η = {s.best(o, d)[1]:g})", "color": c, "dash": dash,
      "y": s.curves[o, d]} for (o, d), (c, dash) in styles.items()],
    title="Each at its best learning rate", ytitle="loss (log)", log_y=True, height=440),
    "nets.curves", right)
st.markdown(
    f"On the plain data the best GD run reaches {gd_plain[0]:.3g} and the best Adam run "
    f"{adam_plain[0]:.3g}. Scaled, GD's best is **{gd_scaled[0]:.3g}** (at η = {gd_scaled[1]:g}) and "
    f"Adam's **{adam_scaled[0]:.3g}** (at η = {adam_scaled[1]:g}). "
    + (f"Adam on the scaled data ends {gd_scaled[0] / adam_scaled[0]:.2g} times lower than GD can: "
       "dividing each weight's step by the size of its own gradients takes the scale out of the step, "
       "and weights whose gradients are tiny still move about η per step. "
       if s.adam_wins else "Here Adam does not beat GD on the scaled data. ")
    + ("It is not immune, though: its best loss is higher than on the plain data. The scaled feature "
       f"also drives the first layer's tanh units flat: at the start {s.saturated['scaled']:.0%} of their "
       f"outputs are beyond ±0.99, where the slope is almost zero (plain data: {s.saturated['plain']:.0%}). "
       "That changes the model, not only the steps, and no step size undoes it."
       if s.adam_hurt else "")
)

spike = nl.gd_spike(gd_plain[1], s.steps)
if spike.rise > 2:
    lr, (sharp0, sharp1), limit = spike.lr, spike.sharpness, 2 / spike.lr
    unstable = sharp0 > limit and spike.back >= 0 and sharp1 < limit
    st.markdown(
        f"**The spike in GD's plain-data curve** (η = {lr:g}): near step {spike.at} its loss jumps "
        f"{spike.rise:.2g}-fold. "
        + (f"The rate is too large for where the run has got to: at step {spike.began}, where the rise "
           f"begins, the Hessian's largest eigenvalue is {sharp0:.3g}, above 2 / η = {limit:g}, and along "
           "that direction each step overshoots by more than the last (page 1's limit, 2 / L). The "
           f"overshoot throws the run somewhere flatter: by step {spike.back} the loss is back below its "
           f"earlier lowest, and there the largest eigenvalue is {sharp1:.3g}, below 2 / η. "
           if unstable else
           (f"By step {spike.back} it is back below its earlier lowest. " if spike.back >= 0
            else "It does not come back down within the run. "))
        + f"Even so η = {lr:g} is GD's best rate on the plain data: it ends at {gd_plain[0]:.3g}, the next "
        f"best (η = {s.runner_up('gd', 'plain')[1]:g}) at {s.runner_up('gd', 'plain')[0]:.3g}."
    )

# --- 4. sharp and flat minima -----------------------------------------------------------------

st.header("4. Sharp and flat minima: large and small batches")
small = st.columns([1, 2])[0].select_slider("Small batch size", SMALL_BATCHES, value=8, key="nets.small")
with st.spinner("Training with large and small batches, measuring the curvature ..."):
    k = nl.sharp_flat(small=small)
large = k.batches[0]
sharp_l, sharp_s = k.mean("sharpness", large), k.mean("sharpness", small)
rise_l, rise_s = k.mean("rise", large), k.mean("rise", small)
acc_l, acc_s = k.mean("test_acc", large), k.mean("test_acc", small)
st.markdown(
    "Keskar et al. (2017) found that training with large batches ends in **sharp** minima (the loss "
    "rises steeply around them) and small batches in **flat** ones, and that the flat ones did better "
    f"on test data. Here: gradient descent with η = {k.lr:g}, {k.steps} updates, from {k.seeds.size} "
    f"initializations, once with the full batch ({large} samples per update) and once with "
    f"mini-batches of {small}. Sharpness is the largest eigenvalue of the Hessian at the end (by power "
    "iteration on Hessian-vector products). Flatness is also measured as the loss increase a step of "
    f"{k.radius:g} away along random *filter-normalized* directions (each neuron's weights perturbed in "
    "proportion to their own size, Li et al. 2018)."
)
left, right = st.columns(2)
groups = [{"label": f"full batch ({large})", "color": viz.PALETTE[0], "values": k.sharpness[large]},
          {"label": f"batch {small}", "color": viz.PALETTE[1], "values": k.sharpness[small]}]
chart(ln.dots_figure(groups, ytitle="top Hessian eigenvalue", title="Sharpness (a dot per seed)",
                     hlines=[{"y": k.edge, "label": f"2 / η = {k.edge:g}"}], height=420), "nets.sharp", left)
chart(lb.series_figure(
    [{"label": f"full batch ({large})", "color": viz.PALETTE[0], "x": k.alpha, "y": k.profile[large]},
     {"label": f"batch {small}", "color": viz.PALETTE[1], "x": k.alpha, "y": k.profile[small]}],
    title="Around seed 0's end", xtitle="α along a filter-normalized direction",
    ytitle="training loss", height=420), "nets.profile", right)
st.dataframe([{"batch": f"full ({large})" if b == large else str(b),
               "training loss": span(k.train_loss[b], 3), "sharpness": span(k.sharpness[b]),
               f"loss increase at {k.radius:g}": span(k.rise[b]), "test loss": span(k.test_loss[b], 3),
               "test accuracy": percent(k.test_acc[b])} for b in k.batches],
             hide_index=True, width="stretch")
st.markdown(
    (f"The small batches end **flatter**: mean sharpness {sharp_s:.2g} against {sharp_l:.2g}, and a loss "
     f"increase of {rise_s:.2g} against {rise_l:.2g} along the filter-normalized directions. "
     if k.flatter else
     f"Sharpness {sharp_s:.2g} (batch {small}) against {sharp_l:.2g} (full batch), loss increase "
     f"{rise_s:.2g} against {rise_l:.2g}: the two measures do not agree that the small batches end "
     "flatter. ")
    + (f"The full batch's sharpness sits near 2 / η = {k.edge:g}, the most curvature gradient descent with "
       "this η can stand (page 1): full-batch training tends to end at that edge (Cohen et al. 2021). "
       if k.large_at_edge else "")
    + (f"And the small batches do better on the test set: {acc_s:.1%} against {acc_l:.1%}."
       if k.small_generalizes_better else
       f"But flatter is not better here: test accuracy {acc_s:.1%} against {acc_l:.1%}, while seeds of one "
       f"batch size differ by up to {k.spread('test_acc'):.1%}. Keskar et al.'s generalization gap does "
       "not show on a small network and two moons.")
)
networks_buttons(k, "nets.open.sharp", "Seed 0's run with each batch size on the Networks page, its "
                 "sharpness panel open (its own power iteration: values near these).")

footer("app_pages/learn_10_networks.py")
