"""Learn 2: batch, stochastic and mini-batch gradient descent on a real dataset (linear regression):
the fitted line moving, noisy against smooth paths, and the cost of an update counted."""

from __future__ import annotations

import streamlit as st

import landscapes
import optimizers
import viz
from app_pages.learn_path import footer
from app_pages.widgets import cached_run, image_for, playground_link, surface_key
from descent_lab import learn
from descent_lab.setup import Setup, run_spec
from viz import learn_basics as lb

SURFACE = landscapes.get("regression")
DATA = SURFACE.data
N = DATA.n
START = (float(SURFACE.start[0]), float(SURFACE.start[1]))
LR = 0.05
SPEC = run_spec("gd", lr=LR)
BATCHES = [2, 5, 10, 20, 50]
UPDATES = [50, 100, 200, 400]
COLORS = dict(zip(("batch", "sgd", "mini"), viz.run_colors(["gd"] * 3), strict=True))  # three GD runs


def run(batch_size: int | None, steps: int, seed: int) -> optimizers.Trajectory:
    return cached_run(surface_key(SURFACE), SPEC.key(), START, steps, 0.0, seed, batch_size)


st.title("Batch, stochastic and mini-batch gradient descent")
st.markdown(
    f"Now the landscape comes from data. {N} points (x, y); the model is a line **y = w x + b**; the "
    "loss is the mean squared error over all points. Its two weights, w and b, are the two "
    "coordinates of the map (the Playground, which names every map's axes x and y, shows w across "
    "and b up)."
)
st.latex(r"J(w, b) = \frac{1}{n} \sum_{i=1}^{n} \left(w x_i + b - y_i\right)^2")
st.markdown(
    "The true gradient averages over **every** sample. We can instead estimate it from a few, "
    "and update sooner. Same rule, w ← w − η ∇J (for both weights, w and b), three ways to get the gradient:"
)
st.markdown(
    "| | gradient from | per update |\n|---|---|---|\n"
    f"| **Batch GD** | all {N} samples | slow, smooth, exact |\n"
    "| **Stochastic GD (SGD)** | one random sample | fast, noisy |\n"
    "| **Mini-batch GD** | B random samples | the usual compromise |"
)

c1, c2, c3 = st.columns(3)
size = c1.select_slider("Mini-batch size B", BATCHES, value=10, key="b.size")
steps = c2.select_slider("Updates", UPDATES, value=200, key="b.steps")
seed = c3.number_input("Random seed (which samples are drawn)", 0, 10_000, value=0, key="b.seed")
runs = learn.batch_runs(run, N, size, steps, int(seed), COLORS)

st.subheader("Watch the line learn")
t = st.slider("Update", 0, steps, value=steps, key="b.step",
              help="Drag to replay: the lines on the left are the weights at this update.")
# batch GD's line lies almost on the mini-batch one: drawn first and wide, it shows as a band around
# the thinner noisy lines drawn over it
UNDER = {"batch": 9, "sgd": 3, "mini": 3}
lines = [{"label": r["label"], "color": r["color"], "w": r["trajectory"].path[t, 0],
          "b": r["trajectory"].path[t, 1], "width": UNDER[r["key"]]} for r in runs]
st.plotly_chart(viz.fast_figure(lb.fit_figure(DATA.x, DATA.y, lines, height=420,
                                              title=f"Each run's line after {t} updates")),
                key="b.fit")
st.markdown("**The same runs on the loss map**, one map each (the mini-batch path runs almost on the "
            "batch path, so on one map it would hide under it):")
paths = [{"label": r["label"], "color": r["color"], "path": r["trajectory"].path[: t + 1]} for r in runs]
maps = lb.run_maps(SURFACE, image_for(SURFACE), paths, height=460, axis_titles=("w (slope)", "b (intercept)"))
for col, r, fig in zip(st.columns(3), runs, maps, strict=True):
    col.plotly_chart(viz.fast_figure(fig), key=f"b.map.{r['key']}")
lengths = {r["key"]: learn.path_length(r["trajectory"].path[: t + 1]) for r in runs}
st.markdown(
    "Batch GD walks a smooth curve to the star. SGD hears one sample at a time, each pulling its own "
    "way: its path shakes and it never quite settles. The mini-batch averages B samples, so it shakes "
    f"less: up to update {t} SGD's path is {lengths['sgd']:.3g} long, the mini-batch's "
    f"{lengths['mini']:.3g}, batch GD's {lengths['batch']:.3g}. Change the seed: SGD's path changes, "
    "the batch path does not."
)

st.subheader("What does an update cost?")
rows = lb.cost_rows(runs, N)
st.dataframe(rows, hide_index=True, width="stretch", column_config={
    "epochs": st.column_config.NumberColumn("epochs (passes over the data)", format="%.3g"),
    "path length": st.column_config.NumberColumn(help="Distance travelled on the map: noise makes it long.",
                                                 format="%.3g"),
    "final loss": st.column_config.NumberColumn(format="%.4f"),
})
best = float(SURFACE.global_min)
by_update = [{"label": r["label"], "color": r["color"], "y": r["trajectory"].loss, "width": UNDER[r["key"]]}
             for r in runs]
by_sample = [{"label": r["label"], "color": r["color"], "y": r["trajectory"].loss, "x": r["samples"],
              "width": UNDER[r["key"]]} for r in runs]
floor = [{"y": best, "label": f"best possible {best:.2f}"}]
c1, c2 = st.columns(2)
c1.plotly_chart(viz.fast_figure(lb.series_figure(by_update, title="Loss per update", xtitle="update",
                                                 ytitle="loss (all data, log)", log_y=True, height=420,
                                                 hlines=floor)), key="b.by_update")
c2.plotly_chart(viz.fast_figure(lb.series_figure(by_sample, title="Loss per sample read (the fair axis)",
                                                 xtitle="samples read (log)", ytitle="loss (all data, log)",
                                                 log_y=True, log_x=True, height=420, hlines=floor)),
                key="b.by_sample")
st.markdown(
    f"Counted per update (first chart), batch GD looks best. But each of its updates reads all {N} samples, "
    f"while an SGD update reads one. Counted per sample read (second chart), SGD and mini-batches are far "
    "down the slope before batch GD has taken its first few steps. On big datasets that is what "
    "matters; mini-batches also suit the hardware (a GPU computes B samples at once)."
)
playground_link(Setup(surface="regression", start=START, steps=steps, runs=(SPEC,), seed=int(seed),
                      batch=size), "Open the mini-batch run in the Playground")

footer("app_pages/learn_2_batches.py")
