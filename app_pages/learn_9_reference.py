"""Learn 9: the reference card, every optimizer's rule, defaults, strengths and code."""

from __future__ import annotations

from types import SimpleNamespace

import streamlit as st

import optimizers
from app_pages.learn_path import footer

IMPORTS = {"torch": "import torch\n\n", "keras": "import keras\n\n"}


def code(rule, framework: str) -> str | None:
    """The rule's constructor in ``framework`` with its defaults (None: Keras has no such optimizer)."""
    text = rule.torch_code(rule.defaults()) if framework == "torch" else rule.keras_code(rule.defaults())
    return None if text is None else IMPORTS[framework] + "opt = " + text


def code_lr(rule) -> str:
    """Where the code's lr is not η (average-form momentum): the code's lr, labelled."""
    defaults = rule.defaults()
    lr = rule.torch_args(SimpleNamespace(**defaults))["lr"]
    return "" if lr == defaults["lr"] else f" (in the code lr = η (1 − β) = {lr:g}: see Conventions)"


st.title("Reference card")
st.markdown(
    "Every optimizer in Descent Lab: its update rule, its default settings, what it is good and bad "
    "at, and the same optimizer in PyTorch and Keras, ready to copy. Notation: gₜ = ∇J(wₜ) is the "
    "gradient, η the learning rate; everything acts on each weight separately.\n\n"
    "Settings are written in the course's symbols; the code and the links use PyTorch's names: **η is "
    "PyTorch's lr** (Keras: learning_rate; for average-form momentum the code's lr is η (1 − β)), β is "
    "momentum (RMSProp: alpha), β₁ and β₂ are betas, ε is eps, λ weight_decay, ψ momentum_decay."
)
st.info(
    "**Every optimizer here takes exactly PyTorch's steps.** Descent Lab's own tests replay "
    "trajectories recorded from torch.optim on several surfaces, with and without learning-rate "
    "schedules, and require 300 steps to agree to 1e-7. The course's forms (average-form momentum, "
    "look-ahead Nesterov) are checked against the PyTorch forms too. The Keras notes were checked by "
    "running Keras 3.15 next to Descent Lab: SGD, momentum, Nesterov and Nadam with "
    "momentum_decay = 1 take the same steps to 1e-14.",
    icon=":material/verified:",
)
st.page_link("app_pages/playground.py", query_params={"panel": "code"}, icon=":material/code:",
             label="The code below is each optimizer's constructor; the Playground's Code panel gives "
             "any run as a complete script (surface, optimizer, schedule, loop) that prints the run's "
             "final point.")

# a formula wider than a phone scrolls sideways instead of being cut off at the right edge
st.markdown("<style>.katex-display{overflow-x:auto;overflow-y:hidden;padding-bottom:0.3rem}</style>",
            unsafe_allow_html=True)

names = optimizers.names()
st.dataframe(
    [{"optimizer": optimizers.rule(n).label,
      "defaults": ", ".join(f"{p.symbol or p.name} = {p.default:g}" for p in optimizers.rule(n).params),
      "PyTorch": f"torch.optim.{optimizers.rule(n).torch_class}"} for n in names],
    hide_index=True, width="stretch",
)

for n in names:
    rule = optimizers.rule(n)
    st.divider()
    st.subheader(rule.label)
    st.latex(r"\begin{gathered}" + rule.formula + r"\end{gathered}")
    left, right = st.columns([2, 3])
    with left:
        defaults = ", ".join(f"{p.label} = {p.default:g}" for p in rule.params)
        st.markdown(f"**Defaults**: {defaults}{code_lr(rule)}")
        st.markdown(f"**Good at**: {rule.good}")
        st.markdown(f"**Bad at**: {rule.bad}")
    with right:
        tab_t, tab_k = st.tabs(["PyTorch", "Keras"])
        tab_t.code(code(rule, "torch"), language="python", wrap_lines=True)
        keras = code(rule, "keras")
        if keras:
            tab_k.code(keras, language="python", wrap_lines=True)
        else:
            tab_k.caption("Keras has no such optimizer.")
        st.markdown(f"**Conventions**: {rule.note} {rule.conventions}")

footer("app_pages/learn_9_reference.py")
