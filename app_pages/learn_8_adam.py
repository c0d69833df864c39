"""Learn 8: Adam's two moments, its bias correction, its first steps; Nadam's look-ahead."""

from __future__ import annotations

import streamlit as st

import optimizers
import viz
from app_pages.learn_path import footer
from app_pages.widgets import cached_run, image_for, playground_link, surface_key
from descent_lab import learn
from descent_lab.presets import PRESETS
from descent_lab.setup import run_spec
from viz import learn_adaptive as la

PRESET = PRESETS["adam-nadam"]
SETUP = PRESET.setup()
SURFACE = SETUP.make_surface()
START = SETUP.start_point()
STEPS = SETUP.steps
RUNS = {r.name: r for r in SETUP.runs}
ADAM = RUNS["adam"].hyper
GREY = "#777777"
COURSE_LR = 0.001  # Adam's default in the course, PyTorch and Keras
HOT_LR = 0.1  # a rate where Nadam's loss jumps on this map


def run(spec) -> optimizers.Trajectory:
    return cached_run(surface_key(SURFACE), spec.key(), START, STEPS, 0.0, 0, None)


st.title("Adam and Nadam")
st.markdown(
    "Adam (*adaptive moment estimation*) is momentum and RMSProp together. For every weight it "
    "keeps two moving averages: of the gradient (the **first moment** m, momentum's velocity) and "
    "of the squared gradient (the **second moment** v, RMSProp's average). m gives the direction, "
    "√v scales the step."
)
st.latex(r"\begin{gathered} m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\"
         r" v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \end{gathered}")
st.caption("gₜ = ∇J(wₜ). m is momentum's velocity in its average form (page 4), v is RMSProp's average.")
st.latex(r"\hat m_t = \frac{m_t}{1-\beta_1^t} \qquad \hat v_t = \frac{v_t}{1-\beta_2^t}")
st.latex(r"w_{t+1} = w_t - \frac{\eta}{\sqrt{\hat v_t} + \epsilon}\, \hat m_t")
slow = run(run_spec("adam", lr=COURSE_LR))
moved = learn.moved(slow)
st.caption(
    f"Defaults: η = {COURSE_LR:g} (the course's value, and PyTorch's and Keras's default), β₁ = 0.9, "
    "β₂ = 0.999, ε = 1e-8. Each Adam step moves a weight by about η, whatever the size of the gradient "
    "(see below). That suits a network with millions of weights, where many small steps add up; on "
    f"this map η = {COURSE_LR:g} would move Adam only {moved:.2g} in "
    f"{STEPS} steps, so this page uses η = {ADAM['lr']:g}. Below: Adam with η = {ADAM['lr']:g} on "
    f"Rosenbrock, from ({START[0]:g}, {START[1]:g})."
)

st.subheader("The two moments, with and without bias correction")
st.markdown(
    "m and v start at zero, so in the first steps they are averages of the gradients *and of those "
    "zeros*: far too small. Dividing by 1 − βᵗ undoes exactly that. Switch the correction off "
    "and look at the first steps."
)
adam = run(RUNS["adam"])
h = adam.optimizer.hyper
c1, c2 = st.columns([1, 2])
corrected = c1.toggle("Bias correction", value=True, key="adam.correct")
shown = c1.select_slider("Steps shown", [10, 30, 100, 300, STEPS], value=30, key="adam.shown")
mom = learn.adam_moments(adam, shown, corrected)
c1.markdown(
    "Grey: the gradient itself. Blue: " + ("m̂, its corrected average" if corrected else "m, its raw average")
    + ". Orange: " + ("√v̂" if corrected else "√v") + ", the size of recent gradients. "
    + ("With the correction m̂ starts on the gradient (m̂₁ = g₁) and then follows it with a lag."
       if corrected else
       "Without it, m and √v crawl up from zero: m needs about 1 / (1 − β₁) = 10 steps, √v far "
       "longer (1 / (1 − β₂) = 1000).")
)
with c2:
    tabs = st.tabs(["weight x", "weight y"])
    for k, tab in enumerate(tabs):
        fig = la.series_figure([
            {"label": "gradient g", "color": GREY, "y": mom["g"][:, k], "dash": "dot"},
            {"label": "m̂" if corrected else "m", "color": viz.PALETTE[0], "y": mom["m"][:, k]},
            {"label": "√v̂" if corrected else "√v", "color": viz.PALETTE[1], "y": mom["root_v"][:, k]},
        ], ytitle=f"value for weight {'xy'[k]}", height=340)
        tab.plotly_chart(viz.fast_figure(fig), key=f"adam.moments.{k}")

st.markdown("What the step would be: the real (corrected) steps of this run, and the steps that m and "
            "v alone would give, η m / (√v + ε), computed from the same recorded averages.")
real, raw = learn.adam_step_sizes(adam)
first = shown
st.plotly_chart(viz.fast_figure(la.series_figure([
    {"label": "with correction (what Adam does): x", "color": viz.PALETTE[0], "y": real[:first, 0]},
    {"label": "with correction: y", "color": viz.PALETTE[0], "y": real[:first, 1], "dash": "dash"},
    {"label": "without: x", "color": viz.PALETTE[3], "y": raw[:first, 0]},
    {"label": "without: y", "color": viz.PALETTE[3], "y": raw[:first, 1], "dash": "dash"},
], title=f"Step size per weight, first {first} steps (η = {h['lr']:g})", ytitle="step size |Δw|",
    log_y=True, height=380)), key="adam.steps")
st.markdown(
    f"The first real step is **{real[0, 0]:.3g}** in x and **{real[0, 1]:.3g}** in y: exactly η. "
    f"Without correction it would be {raw[0, 0]:.3g}: η (1 − β₁) / √(1 − β₂) ≈ 3.16 η. Both "
    "averages start too small, but √v far more (it needs about 1000 steps to fill up), so the "
    "uncorrected steps stay several times too large for hundreds of steps: the ratio is "
    "(1 − β₁ᵗ) / √(1 − β₂ᵗ). Set *Steps shown* to 600 to see the two curves slowly meet."
)

st.subheader("Why Adam's first step is about η, whatever the gradient")
st.markdown(
    "At step 1, m̂₁ = g and v̂₁ = g², so the step is η |g| / (|g| + ε), where |g| is the size of the "
    "gradient: about η for any gradient "
    "much bigger than ε. Gradient descent's first step is η |g|, tied to the gradient's scale."
)
scales = learn.GRADIENT_SIZES
eta = h["lr"]
first_sizes = learn.first_steps(scales, h)
sizes = [
    {"label": "Adam, corrected: η|g| / (|g| + ε)", "color": viz.PALETTE[0], "y": first_sizes["adam"]},
    {"label": "Adam, uncorrected", "color": viz.PALETTE[3], "dash": "dash", "y": first_sizes["raw"]},
    {"label": "gradient descent: η|g|", "color": viz.PALETTE[1], "y": first_sizes["gd"]},
]
st.plotly_chart(viz.fast_figure(la.series_figure(
    sizes, x=scales, xtitle="gradient size |g|", ytitle="size of the first step", log_x=True, log_y=True,
    yrange=(eta * 1e-4, eta * 30), title=f"First step for η = {eta:g}, ε = {h['eps']:g}", height=400)),
    key="adam.first")
TABLE = (1e-6, 1e-3, 1.0, 1e3)
table = learn.first_steps(TABLE, h)
rows = [{"|g|": f"{s:g}", "GD step η|g|": f"{gd:.3g}", "Adam step": f"{a:.3g}"}
        for s, gd, a in zip(TABLE, table["gd"], table["adam"], strict=True)]
st.dataframe(rows, hide_index=True)
st.caption("Only near |g| ≈ ε (1e-8) does the step shrink: ε is there to avoid dividing by zero.")

st.subheader("Nadam: Nesterov's look-ahead on the first moment")
st.markdown(
    "Nadam borrows Nesterov's idea. Adam steps along m̂ₜ, an average that lags behind. Nadam steps "
    "along where the average will be after one more step: it uses mₜ as if it were already "
    "the next average, plus the current gradient's share:"
)
st.latex(r"\begin{aligned} w_{t+1} = w_t - \frac{\eta}{\sqrt{\hat v_t} + \epsilon} \Big(&"
         r"\frac{\beta_1\, m_t}{1-\beta_1^{t+1}} \\"
         r" &+ \frac{(1-\beta_1)\, g_t}{1-\beta_1^t}\Big) \end{aligned}")
psi = RUNS["nadam"].hyper["momentum_decay"]
st.caption(
    "The simple form. PyTorch's NAdam (used here) puts a schedule μₜ = β₁ (1 − ½ · 0.96^(ψt)) in "
    "place of β₁ in this formula (and the product μ₁ ⋯ μₜ in place of β₁ᵗ). With its default "
    f"ψ = {psi:g}, μₜ starts at {learn.nadam_mu(1, 0.9, psi):.2f} "
    f"and is still {learn.nadam_mu(STEPS, 0.9, psi):.2f} at step {STEPS}: it grows towards β₁ = 0.9 only "
    "over thousands of steps. Keras's Nadam uses 0.96^t (ψ = 1): about 0.9 within 100 steps."
)
trs = [run(spec) for spec in SETUP.runs]
views = [(f"{t.optimizer.rule.label} (η = {t.optimizer.hyper['lr']:g})", color, t)
         for t, color in zip(trs, viz.run_colors([t.optimizer.name for t in trs]), strict=True)]
c1, c2 = st.columns(2)
c1.plotly_chart(viz.fast_figure(la.map_figure(SURFACE, image_for(SURFACE),
                                              [(lb, col, t.path) for lb, col, t in views],
                                              height=460, show_steps=False)), key="adam.map")
c2.plotly_chart(viz.fast_figure(la.series_figure(la.gap_series(SURFACE, views), ytitle=la.GAP_TITLE,
                                                 title="Loss above the minimum", log_y=True, height=460)),
                key="adam.loss")
st.caption(la.GAP_NOTE)
rc = learn.race(*(run(RUNS[n]) for n in ("adam", "nadam")), SURFACE)
st.markdown(
    f"Same η = {ADAM['lr']:g} for both. From step {rc.lead} on, Nadam's loss stays below Adam's; after "
    f"{STEPS} steps Adam is {rc.distance[0]:.2g} from the minimum (J − J* = {rc.gap[0]:.2g}), Nadam "
    f"{rc.distance[1]:.2g} (J − J* = {rc.gap[1]:.2g}). On this curved valley the look-ahead "
    "pays. Neither has reached the star yet: Rosenbrock's long, flat, curved floor is hard for both."
)
hot_adam, hot = (run(run_spec(n, lr=HOT_LR)) for n in ("adam", "nadam"))
rise, at = learn.largest_rise(hot.loss)
hot_gaps = learn.race(hot_adam, hot, SURFACE).gap
st.markdown(
    f"A larger η is not free. At η = {HOT_LR:g}, near step {at} Nadam's loss jumps {rise:.0f}-fold before "
    f"it recovers, and after {STEPS} steps it is behind Adam at the same η (J − J* = "
    f"{hot_gaps[1]:.2g} against {hot_gaps[0]:.2g}): adaptive methods still need η "
    "tuned, and which one wins can depend on it."
)
playground_link(PRESET.setup(), "Open this comparison in the Playground")
st.markdown("**Good at**: almost everything, with little tuning: the default choice for most deep "
            "networks. **Bad at**: it can settle in solutions that generalise a little worse than well-"
            "tuned SGD with momentum, and η still matters.")

footer("app_pages/learn_8_adam.py")
