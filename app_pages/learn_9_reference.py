"""Learn 9: the reference card, every optimizer's rule, defaults, strengths and code."""

from __future__ import annotations

import re
import textwrap

import streamlit as st

import optimizers
from app_pages.learn_path import footer

#: (good at, bad at), in plain words, per rule
VERDICT = {
    "gd": ("Simple, predictable, cheap; with a schedule and mini-batches it trains almost anything.",
           "One rate for all weights: slow on long narrow valleys, stuck at saddles and in local minima."),
    "momentum": ("Ravines and consistent slopes: speeds up along the valley, averages away the zig-zag; "
                 "can roll over small bumps.",
                 "Overshoots and oscillates around the minimum when β is large; one more setting to tune."),
    "momentum_ewma": ("The same method written as an average of gradients: β changes the memory "
                      "without changing the step size.",
                      "Same as momentum. Watch the learning rate when you move code to PyTorch or Keras."),
    "nesterov": ("Momentum with less overshoot: a look-ahead brakes before the turn. A good default "
                 "when using momentum.",
                 "Slightly less able to coast through small bumps into a deeper valley."),
    "nesterov_lookahead": ("The textbook picture of Nesterov: the gradient is taken at the look-ahead "
                           "point, which you can see.",
                           "Same method as Nesterov (NAG); only the points it reports differ."),
    "adagrad": ("Sparse features and features on very different scales: every weight gets its own rate.",
                "The rate only shrinks: long runs and deep networks stall before the minimum."),
    "rmsprop": ("Per-weight rates that can grow back: long, non-convex training; recurrent networks.",
                "No momentum of its own; β and η still need tuning."),
    "adam": ("The usual default: momentum plus per-weight rates, bias-corrected so the first steps "
             "are about η. Little tuning.",
             "Can settle where well-tuned SGD with momentum generalises a little better; η still matters."),
    "nadam": ("Adam with Nesterov's look-ahead on the first moment: sometimes faster, rarely worse.",
              "One more setting (the momentum decay); gains over Adam depend on the problem."),
}

#: what the card adds to each rule's note on conventions
CONVENTIONS = {
    "gd": "",
    "momentum": "Keras keeps v = βv − ηg and steps +v: the same steps while η is constant.",
    "momentum_ewma": "",
    "nesterov": "The course's look-ahead form is the next card.",
    "nesterov_lookahead": "",
    "adagrad": "In Keras that start is initial_accumulator_value (the code sets 0.0); its default ε is 1e-7.",
    "rmsprop": "Defaults differ too: PyTorch alpha = 0.99, Keras rho = 0.9.",
    "adam": "The card's η = 0.01 is this app's starting value for a two-weight map; PyTorch's and "
            "Keras's default (and the course's) is 0.001, sized for networks with many weights. Keras's "
            "default ε is 1e-7; the code sets the values above.",
    "nadam": "PyTorch: μ_t = β₁ (1 − ½ · 0.96^(tψ)). PyTorch's default η for NAdam is 0.002.",
}

IMPORTS = {"torch": "import torch\n\n", "keras": "import keras\n\n"}
CODE_WIDTH = 56  # characters per code line: the code column is narrow


def code(rule, framework: str) -> str:
    """The rule's code template filled with its defaults; settings the template has no slot for
    are listed in a comment, so every default is on the card. Laid out for a narrow column."""
    template = getattr(rule, framework)
    values = {p.name: f"{p.default:g}" for p in rule.params}
    used = set(re.findall(r"{(\w+)}", template))
    text = "opt = " + template.format(**values)
    missing = [f"{p.name}={values[p.name]}" for p in rule.params if p.name not in used]
    if missing:
        text += f"\n# {', '.join(missing)}: fixed at this value, not a setting here"
    return IMPORTS[framework] + layout_code(text)


def layout_code(text: str, width: int = CODE_WIDTH) -> str:
    """Comments on lines of their own, wrapped at ``width`` (a wrapped comment must not run on as
    if it were code), and a call longer than ``width`` split one argument per line."""
    out = []
    for line in text.splitlines():
        code_part, _, comment = line.partition("  # ") if not line.startswith("#") else ("", "", line[1:])
        if comment:
            out += textwrap.wrap(comment.strip(), width=width, initial_indent="# ", subsequent_indent="# ")
        if not code_part:
            continue
        open_at = code_part.find("(")
        if len(code_part) <= width or open_at < 0 or not code_part.endswith(")"):
            out.append(code_part)
            continue
        out.append(code_part[: open_at + 1])
        out += [f"    {arg}," for arg in split_arguments(code_part[open_at + 1: -1])]
        out.append(")")
    return "\n".join(out)


def split_arguments(args: str) -> list[str]:
    """Split a call's argument text at its top-level commas."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(args):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append(args[start:i].strip())
            start = i + 1
    parts.append(args[start:].strip())
    return [p for p in parts if p]


st.title("Reference card")
st.markdown(
    "Every optimizer in Descent Lab: its update rule, its default settings, what it is good and bad "
    "at, and the same optimizer in PyTorch and Keras, ready to copy. Notation: g_t = ∇J(w_t) is the "
    "gradient, η the learning rate; everything acts on each weight separately."
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

# a formula wider than a phone scrolls sideways instead of being cut off at the right edge
st.markdown("<style>.katex-display{overflow-x:auto;overflow-y:hidden;padding-bottom:0.3rem}</style>",
            unsafe_allow_html=True)

names = optimizers.names()
st.dataframe(
    [{"optimizer": optimizers.rule(n).label,
      "defaults": ", ".join(f"{p.name} = {p.default:g}" for p in optimizers.rule(n).params),
      "PyTorch": optimizers.rule(n).torch.split("(")[0]} for n in names],
    hide_index=True, width="stretch",
)

for n in names:
    rule = optimizers.rule(n)
    st.divider()
    st.subheader(rule.label)
    st.latex(r"\begin{gathered}" + rule.formula + r"\end{gathered}")
    left, right = st.columns([2, 3])
    with left:
        defaults = ", ".join(f"{p.label} `{p.name} = {p.default:g}`" for p in rule.params)
        st.markdown(f"**Defaults**: {defaults}")
        st.markdown(f"**Good at**: {VERDICT[n][0]}")
        st.markdown(f"**Bad at**: {VERDICT[n][1]}")
    with right:
        tab_t, tab_k = st.tabs(["PyTorch", "Keras"])
        tab_t.code(code(rule, "torch"), language="python")
        tab_k.code(code(rule, "keras"), language="python")
        st.markdown(f"**Conventions**: {rule.note} {CONVENTIONS[n]}")

footer("app_pages/learn_9_reference.py")
