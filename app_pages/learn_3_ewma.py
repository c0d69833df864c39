"""Learn 3: exponentially weighted moving averages: the average, its weights, its window, and the
start-up bias with its correction."""

from __future__ import annotations

import streamlit as st

import viz
from app_pages.learn_path import footer
from optimizers import ewma
from viz import learn_basics as lb

DAYS = 120
BETAS = [0.0, 0.5, 0.8, 0.9, 0.95, 0.98]


@st.cache_data(max_entries=32, show_spinner=False)
def averages(seed: int, beta: float):
    theta = ewma.demo_series(DAYS, seed)
    return theta, ewma.ewma(theta, beta), ewma.ewma(theta, beta, corrected=True)


st.title("Exponentially weighted moving averages")
st.markdown(
    "Grey dots: a noisy series θ₁, θ₂, ... (think of daily temperatures). To see the trend "
    "under the noise we average. An **exponentially weighted moving average** (EWMA) keeps one "
    "number, V, and at every new value moves it a little towards that value:"
)
st.latex(r"V_0 = 0, \qquad V_t = \beta\, V_{t-1} + (1-\beta)\, \theta_t")
st.markdown("β (between 0 and 1) sets how much of the past is kept. Optimizers use this average on "
            "gradients: it is the memory inside momentum, RMSProp and Adam.")

c1, c2, c3 = st.columns([2, 2, 1])
beta = c1.select_slider("β", BETAS, value=0.9, key="ewma.beta", format_func=lambda v: f"{v:g}")
corrected = c2.toggle("Show the bias-corrected average Vₜ / (1 − βᵗ)", value=False, key="ewma.correct")
seed = c3.number_input("Noise seed", 0, 10_000, value=0, key="ewma.seed")
theta, v, v_hat = averages(int(seed), beta)
window = ewma.window(beta)
chart = st.container()
m1, m2, m3 = st.columns(3)
m1.metric("Effective window 1 / (1 − β)", f"{window:.3g} values",
          help="Roughly how many recent values the average is over.")
m2.metric("First value θ₁", f"{theta[0]:.1f}")
m3.metric("First average V₁ = (1 − β) θ₁", f"{v[0]:.1f}",
          f"corrected: {v_hat[0]:.1f}" if corrected else None, delta_color="off", delta_arrow="off")
st.markdown(
    "**Large β** (0.9, 0.98): a long memory, a smooth line that lags behind the data. "
    "**Small β** (0.5): a short memory, it follows the data, noise and all. β = 0 is the data itself."
)

st.subheader("Where the weights go")
st.markdown("Unroll the rule and Vₜ turns out to be a weighted sum of all the values so far:")
st.latex(r"\begin{aligned} V_t &= (1-\beta)\,\theta_t + \beta(1-\beta)\,\theta_{t-1} \\"
         r" &\quad + \beta^2(1-\beta)\,\theta_{t-2} + \dots \\"
         r" &= \sum_{k=0}^{t-1} (1-\beta)\,\beta^k\, \theta_{t-k} \end{aligned}")  # short lines for a phone
t = st.slider("Look at the average on day t", 1, DAYS, value=30, key="ewma.t")
w = ewma.weights(beta, t)
left, right = st.columns([3, 2])
left.plotly_chart(viz.fast_figure(lb.weights_figure(w, t=t, window=window, height=400)), key="ewma.weights")
with right:
    st.markdown(
        f"The weights fall off by a factor β = {beta:g} per day back: recent values count most, old "
        "ones fade but never quite vanish. The dark bars are the last 1 / (1 − β) days, the "
        f"effective window: they carry {ewma.window_share(beta, t):.0%} of the weight."
        if beta > 0 else "With β = 0 all the weight is on today's value."
    )
    st.metric(f"Sum of the weights on day {t}, 1 − βᵗ", f"{w.sum():.4f}")
    st.markdown(f"The missing βᵗ = {beta ** t:.2g} is the weight of V₀ = 0.")

st.subheader("The start-up bias and its correction")
st.markdown(
    "Because V starts at 0, the first averages are pulled towards 0: V₁ is only (1 − β) θ₁, "
    f"{1 - beta:.0%} of θ₁ at β = {beta:g}. The weights sum to 1 − βᵗ instead of 1, so divide by it:"
)
st.latex(r"\hat V_t = \frac{V_t}{1-\beta^t} \qquad \Rightarrow \qquad \hat V_1 = \theta_1")
st.markdown(
    "Switch on *Show the bias-corrected average* above: the corrected line starts on the data "
    "instead of at 0, and joins the plain average once βᵗ has faded (after a few windows). Adam "
    "uses exactly this correction."
)
chart.plotly_chart(viz.fast_figure(lb.ewma_figure(theta, v, beta=beta, v_hat=v_hat if corrected else None,
                                                  mark=t, height=440)), key="ewma.series")

footer("app_pages/learn_3_ewma.py")
