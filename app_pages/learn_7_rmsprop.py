"""Learn 7: RMSProp, AdaGrad's per-parameter rates with a memory that fades."""

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

PRESET = PRESETS["adagrad-fades"]
SETUP = PRESET.setup()
SURFACE = SETUP.make_surface()
START = SETUP.start_point()
STEPS = SETUP.steps
ADA_COLOR, RMS_COLOR = optimizers.rule("adagrad").color, optimizers.rule("rmsprop").color
ADA, RMS = SETUP.runs
BETAS = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999]
START_STEPS = 5  # a burst of the loss this early is the start's (v from 0), not the rates' growing back


def run(name: str, **hyper) -> optimizers.Trajectory:
    return cached_run(surface_key(SURFACE), run_spec(name, **hyper).key(), START, STEPS, 0.0, 0, None)


def listed(steps: list[int]) -> str:
    if len(steps) > 5:
        return f"{len(steps)} times, first at step {steps[0]}"
    return ("at step " if len(steps) == 1 else "at steps ") + ", ".join(map(str, steps[:-1])) + \
        (" and " if len(steps) > 1 else "") + str(steps[-1])


def spikes_text(rms: optimizers.Trajectory, beta: float) -> str:
    """What RMSProp's loss chart shows at this β: no spikes, a jump at the start, spikes later on."""
    bursts = learn.loss_bursts(rms.loss - SURFACE.global_min)
    start = [(t, peak) for t, peak in bursts if t <= START_STEPS]
    later = [(t, peak) for t, peak in bursts if t > START_STEPS]
    if not bursts:
        return (f"At β = {beta:g} RMSProp's loss has no spikes: it never climbs back to twice the lowest "
                "value it had reached.")
    text = []
    if start:
        first = learn.first_step(rms)
        text.append(
            f"**The jump at the start** (J − J* up {max(p for _, p in start):.2g}-fold): v starts at 0, so "
            "after the first gradient it is only (1 − β) g², and the first step is about η / √(1 − β) in "
            f"each weight, here {first:.2g}, not η = {RMS.hyper['lr']:g}. Adam, next, corrects this start.")
    if later:
        after = [t + k for t, _ in later for k in range(6)]  # the steps just after each burst began
        fall, at, weight = learn.largest_rate_fall(rms.effective_lr, after)
        one = len(later) == 1
        text.append(
            f"**The {'spike' if one else 'spikes'} in RMSProp's loss** ({listed([t for t, _ in later])}: "
            f"J − J* jumps to up to {max(p for _, p in later):.2g} times the lowest it had reached) "
            f"{'is' if one else 'are'} its rates growing back too far. On the valley floor the "
            "gradients are small, so the rates climb (the rising lines above) until the steps across the "
            "valley are too long for its steep walls: the run zig-zags from wall to wall, further each time. "
            "The big gradients there enter v and the rates fall back at once (at step "
            f"{at} the rate for {'xy'[weight]} drops to {fall:.2g} of the step before), and the run settles "
            "again. With a constant η, RMSProp keeps doing this: it hovers near the valley floor instead of "
            "coming to rest.")
    return "\n\n".join(text)


st.title("RMSProp: rates that can grow back")
st.markdown(
    "AdaGrad's sum of squared gradients never forgets: one burst of big gradients early on keeps "
    "the rate small for the rest of training.\n\n"
    "RMSProp (*root mean square propagation*) keeps the per-weight rates but replaces the sum with "
    "an exponentially weighted moving average of the squared gradients, the same average as "
    "momentum's, applied to g². Old gradients fade away, so when the gradients become small "
    "the average shrinks and the rate grows back."
)
side_by_side(
    ("**AdaGrad**: a sum that only grows", [r"v_t = v_{t-1} + g_t^2"]),
    ("**RMSProp**: an average that forgets", [r"v_t = \beta v_{t-1} + (1-\beta)\, g_t^2"]),
)
st.latex(r"w_{t+1} = w_t - \frac{\eta}{\sqrt{v_t} + \epsilon}\, g_t")
st.caption("gₜ = ∇J(wₜ), and everything is per weight. β sets the memory: about the last "
           "1 / (1 − β) steps count. Common values 0.9 to 0.99 "
           "(PyTorch's default 0.99).")

st.subheader("The same valley, both methods")
st.markdown(f"Rosenbrock's curved valley, {STEPS} steps from the same start: AdaGrad with "
            f"η = {ADA.hyper['lr']:g}, RMSProp with η = {RMS.hyper['lr']:g}. Change RMSProp's β and "
            "watch its rates.")
beta = st.select_slider("RMSProp's β (memory)", BETAS, value=RMS.hyper["beta"], key="rms.beta",
                        format_func=lambda v: f"{v:g}")
ada = run("adagrad", **ADA.hyper)
rms = run("rmsprop", **{**RMS.hyper, "beta": beta})
yr = la.positive_range(ada.effective_lr, rms.effective_lr)
left, right = st.columns(2)
left.plotly_chart(viz.fast_figure(la.series_figure(
    la.rate_series("AdaGrad", ADA_COLOR, ada.effective_lr), title="AdaGrad: rate per weight",
    ytitle="η / (√v + ε)", log_y=True, yrange=yr, height=380)), key="rms.ada_rates")
right.plotly_chart(viz.fast_figure(la.series_figure(
    la.rate_series("RMSProp", RMS_COLOR, rms.effective_lr),
    title=f"RMSProp (β = {beta:g}): rate per weight",
    ytitle="η / (√v + ε)", log_y=True, yrange=yr, height=380)), key="rms.rms_rates")
*ups, ratio = learn.rates_rose(ada, rms)
m1, m2, m3 = st.columns(3)
m1.metric(f"Steps (of {STEPS}) where AdaGrad's rate rose", ups[0],
          help="Steps where the rate of at least one of the two weights went up.")
m2.metric(f"Steps (of {STEPS}) where RMSProp's rate rose", ups[1],
          help="Steps where the rate of at least one of the two weights went up.")
m3.metric("RMSProp's last rate ÷ AdaGrad's", f"{ratio:.2g}×",
          help="The smaller of the two weights' ratios.")
st.markdown(
    "Same axis on both charts. AdaGrad's rates only fall. RMSProp's **rise again** whenever the recent "
    "gradients are small, as on the flat valley floor, and drop back when big gradients return. "
    "Push β towards 1 and RMSProp "
    "remembers longer and starts to look like AdaGrad; at β = 0 it forgets everything and every step "
    "is η times the sign of the gradient."
)
c1, c2 = st.columns(2)
paths = [(f"AdaGrad (η = {ADA.hyper['lr']:g})", ADA_COLOR, ada.path),
         (f"RMSProp (η = {RMS.hyper['lr']:g}, β = {beta:g})", RMS_COLOR, rms.path)]
c1.plotly_chart(viz.fast_figure(la.map_figure(SURFACE, image_for(SURFACE), paths, height=430,
                                              show_steps=False)), key="rms.map")
gaps = la.gap_series(SURFACE, [(label, color, t)
                               for (label, color, _), t in zip(paths, (ada, rms), strict=True)])
c2.plotly_chart(viz.fast_figure(la.series_figure(gaps, title="Loss above the minimum", ytitle=la.GAP_TITLE,
                                                 log_y=True, height=430)), key="rms.loss")
st.caption(la.GAP_NOTE)
st.markdown(spikes_text(rms, beta))
playground_link(PRESET.setup(), "Open this comparison in the Playground")
st.markdown("**Good at**: deep networks and non-convex problems, where training is long; before Adam "
            "it was the most used optimizer, and it is still competitive. On simple convex problems it "
            "behaves much like AdaGrad. **Bad at**: it has no momentum of its own, so it still zig-zags "
            "where the gradient flips sign. Adam, next, adds it.")

footer("app_pages/learn_7_rmsprop.py")
