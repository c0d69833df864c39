"""Explain mode: each update rule as the course writes it, with the numbers one run recorded.

For every registered optimizer, ``TEMPLATES`` says which recorded quantities explain mode shows,
with which symbol and under which line of the rule's formula, in the course's form and (where
PyTorch writes the rule differently and its quantities follow exactly from the run's) in PyTorch's.
Where the registry computes PyTorch's form and the course writes the rule another way (momentum as
an average, Nesterov with η inside v), ``COURSE_FORMS`` gives the "Course" tab the course's formula
with this run's numbers in that form, or, where that form takes other steps (η-inside Nesterov under
a schedule), PyTorch's formula and a line saying how the course writes it.
Every number comes from what optimizers.run recorded (gradient, state after each update, effective
learning rate, path); the only arithmetic here is on those recordings (Adam's bias corrections from
its recorded beta powers, PyTorch's momentum buffer from the course's), never a step of the rule.

Formulas are sent as MathML (``mathml``: the registry's LaTeX subset), which browsers typeset
without a script or a font download. (latex2mathml 3.81 converts all of the registry's lines too,
but writes hats as accents that Chromium draws large and overlapping the letter: v-hat reads
badly on a projector; the subset here is ~100 lines and tested.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from optimizers import Trajectory
from optimizers.rules import RULES

# ---- the templates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A number explain mode shows at each step: its symbol (LaTeX), its value from a run's
    recording, ``value(tr) -> (steps, D)`` or ``(steps,)`` for one number per step, and the formula
    line (0-based) it is listed under (-1: after the formula). ``arrow``: a label when the row is
    also drawn on the map as an arrow beside the gradient and the step (the velocity, Adam's first
    moment), ``sign`` the arrow's direction (-1: drawn as -value, the way the step goes)."""

    symbol: str
    value: Callable[[Trajectory], np.ndarray]
    line: int = -1
    arrow: str = ""
    sign: float = 1.0


def slot(name: str) -> Callable[[Trajectory], np.ndarray]:
    return lambda tr: tr.state[name]


def hyper(tr: Trajectory, name: str) -> float:
    return float(tr.optimizer.hyper[name])


def _eff(symbol: str, line: int) -> Row:
    return Row(symbol, lambda tr: tr.effective_lr, line)


@dataclass(frozen=True)
class Template:
    """What explain mode shows of a rule: rows under the course's formula, and under PyTorch's
    (``torch``: None when PyTorch writes the rule as the course does, or when its quantities are
    not the run's; the course's rows are then listed after PyTorch's formula)."""

    rows: tuple[Row, ...]
    torch: tuple[Row, ...] | None = None


ETA = _eff(r"\eta", -1)
VELOCITY = Row("v_t", slot("velocity"), 0, arrow="−v: velocity", sign=-1.0)

TEMPLATES: dict[str, Template] = {
    "gd": Template((ETA,)),
    "momentum": Template((VELOCITY, ETA)),
    "momentum_ewma": Template(
        (VELOCITY, ETA),
        torch=(Row("v_t", lambda tr: tr.state["velocity"] / (1 - hyper(tr, "beta")), 0),
               Row(r"\eta (1-\beta)", lambda tr: tr.effective_lr * (1 - hyper(tr, "beta")), 1))),
    "nesterov": Template((VELOCITY, ETA)),
    # the registry keeps v with the opposite sign (v <- beta v - eta g, w <- w + v): the course's v is -v
    "nesterov_lookahead": Template((
        Row(r"w_t - \beta v_{t-1}", lambda tr: tr.grad_point, 0),
        Row("v_t", lambda tr: -tr.state["velocity"], 0, arrow="−v: velocity", sign=-1.0),
        ETA)),
    "adagrad": Template((Row("v_t", slot("sum_sq"), 0), _eff(r"\frac{\eta}{\sqrt{v_t} + \epsilon}", 1))),
    "rmsprop": Template((Row("v_t", slot("mean_sq"), 0), _eff(r"\frac{\eta}{\sqrt{v_t} + \epsilon}", 1))),
}
_ADAM = (
    Row("m_t", slot("m"), 0, arrow="−m: first moment", sign=-1.0),
    Row("v_t", slot("v"), 1),
    Row(r"\hat m_t", lambda tr: tr.state["m"] / (1 - tr.state["beta1_power"]), 2),
    Row(r"\hat v_t", lambda tr: tr.state["v"] / (1 - tr.state["beta2_power"]), 2),
    _eff(r"\frac{\eta}{\sqrt{\hat v_t} + \epsilon}", 3),
)
TEMPLATES["adam"] = Template(_ADAM)
TEMPLATES["adamw"] = Template((*_ADAM, Row(r"\eta \lambda\, w_t", lambda tr: (
    tr.lr[:, None] * hyper(tr, "weight_decay") * tr.path[:-1]), 3)))
TEMPLATES["nadam"] = Template((
    # mu_t from the recorded 0.96^(t psi): the formula's first line, read off the state
    Row(r"\mu_t", lambda tr: hyper(tr, "beta1") * (1 - 0.5 * tr.state["decay_power"][:, 0]), 0),
    Row("m_t", slot("m"), 1, arrow="−m: first moment", sign=-1.0),
    Row("v_t", slot("v"), 2),
    _eff(r"\frac{\eta}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}", 3),
))

#: rules whose Keras form (Rule.keras_form) keeps other quantities or lines than their own form
KERAS_TEMPLATES: dict[str, Template] = {
    "adagrad": Template((Row("v_t", slot("sum_sq"), 0), _eff(r"\frac{\eta}{\sqrt{v_t + \epsilon}}", 1))),
    "rmsprop": Template((Row("v_t", slot("mean_sq"), 0), _eff(r"\frac{\eta}{\sqrt{v_t + \epsilon}}", 1))),
}
_ADAM_KERAS = (
    Row("m_t", slot("m"), 0, arrow="−m: first moment", sign=-1.0),
    Row("v_t", slot("v"), 1),
    Row(r"\hat m_t", lambda tr: tr.state["m"] / (1 - tr.state["beta1_power"]), 2),
    _eff(r"\frac{\eta \sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon}", 2),
)
KERAS_TEMPLATES["adam"] = Template(_ADAM_KERAS)
KERAS_TEMPLATES["adamw"] = Template((*_ADAM_KERAS, replace(TEMPLATES["adamw"].rows[-1], line=2)))
KERAS_TEMPLATES["nadam"] = TEMPLATES["nadam"]  # the same lines: only mu_t's schedule differs


def template(rule) -> Template:
    """What explain mode shows of ``rule`` in the form it computes (its own, or Keras's)."""
    return KERAS_TEMPLATES[rule.name] if rule.form == "keras" else TEMPLATES[rule.name]


#: the rows every rule shows: the gradient first, the step and the new point last
GRADIENT = Row(r"g_t = \nabla J(w_t)", lambda tr: tr.grad)
LOOKAHEAD_GRADIENT = Row(r"g_t = \nabla J(w_t - \beta v_{t-1})", lambda tr: tr.grad)
STEP = Row(r"\Delta w = w_{t+1} - w_t", lambda tr: np.diff(tr.path, axis=0))
NEW_POINT = Row(r"w_{t+1}", lambda tr: tr.path[1:])


def _beta(tr: Trajectory) -> float:
    return hyper(tr, "beta")


def _nag_v(tr: Trajectory) -> np.ndarray:
    """The course's v (η inside) from PyTorch's buffer: η v, exact while η is constant."""
    return tr.lr[:, None] * tr.state["velocity"]


@dataclass(frozen=True)
class CourseForm:
    """The course's form of a rule the registry computes in PyTorch's form: the registry entry whose
    formula is the course's (``entry``), this run's rows in that form (gradient to new point, derived
    from the recordings), whether they are exact for a run (``exact``), and, where they are not, the
    words the "Course" tab shows under PyTorch's formula instead."""

    entry: str
    rows: tuple[Row, ...]
    exact: Callable[[Trajectory], bool] = lambda tr: True
    otherwise: str = ""


COURSE_FORMS: dict[str, CourseForm] = {
    # average form: v = (1 - beta) x PyTorch's v, with eta / (1 - beta): exact for any schedule
    "momentum": CourseForm("momentum_ewma", (
        GRADIENT,
        Row("v_t", lambda tr: (1 - _beta(tr)) * tr.state["velocity"], 0, arrow="−v: velocity", sign=-1.0),
        Row(r"\eta / (1-\beta)", lambda tr: tr.effective_lr / (1 - _beta(tr)), 1),
        STEP, NEW_POINT)),
    # look-ahead form, eta inside v: its look-ahead points are this run's points, its v is eta x PyTorch's
    "nesterov": CourseForm("nesterov_lookahead", (
        LOOKAHEAD_GRADIENT,
        Row(r"w_t - \beta v_{t-1}", lambda tr: tr.path[:-1], 0),
        Row("v_t", _nag_v, 0, arrow="−v: velocity", sign=-1.0),
        ETA,
        Row(r"w_{t+1} - \beta v_t", lambda tr: tr.path[1:], 1),
        Row(r"w_{t+1}", lambda tr: tr.path[1:] + _beta(tr) * _nag_v(tr), 1)),
        exact=lambda tr: bool(np.all(tr.lr == tr.lr[0])),
        otherwise="The course writes Nesterov with η inside v (look-ahead form: v = βv + η∇J(w − βv), "
        "w = w − v; its v is η times PyTorch's v). With this run's changing η that form takes other "
        "steps, so this tab shows PyTorch's form."),
}


# ---- what the stage is sent ----------------------------------------------------------------------


def _lines(tex: str) -> list[str]:
    return [line.strip() for line in tex.split(r"\\") if line.strip()]


def explain_data(tr: Trajectory) -> dict:
    """One run's explain data: per form (course, torch) its formula lines (MathML) and rows
    (symbol, line, column, one number or one per coordinate), the columns' values as float64
    (columns, D, steps), flat, the arrows (label, column, sign), the columns of the map's hover
    read-out (gradient, step) and what to say when the run is sensitive to rounding ("" when it is
    not: optimizers.rounding)."""
    rule = tr.optimizer.rule
    t = template(rule)
    first = LOOKAHEAD_GRADIENT if rule.grad_point else GRADIENT
    own = (first, *t.rows, STEP, NEW_POINT)
    other = COURSE_FORMS.get(rule.name) if rule.form == "pytorch" else None
    course = other.rows if other is not None and other.exact(tr) else own
    torch = None if t.torch is None else (first, *t.torch, STEP, NEW_POINT)
    columns: list[Row] = []
    for r in (*own, *course, *(torch or ())):
        if r not in columns:
            columns.append(r)
    steps, D = tr.grad.shape
    values = np.empty((len(columns), D, steps))
    scalar = []
    for c, r in enumerate(columns):
        v = np.asarray(r.value(tr), dtype=float)
        scalar.append(v.ndim == 1)
        values[c] = (v[:, None] if v.ndim == 1 else v).T
    d = int(tr.diverged_at)
    if d >= 0:  # update d - 1 left the domain: the path stays put, so its step and new point are no numbers
        for r in (STEP, NEW_POINT):
            values[columns.index(r), :, max(d - 1, 0):] = np.nan

    def rows(rs, keep_lines: bool):
        return [{"symbol": mathml(r.symbol), "line": r.line if keep_lines else -1, "column": columns.index(r),
                 "scalar": scalar[columns.index(r)]} for r in rs]

    own_lines = [mathml(x) for x in _lines(rule.formula)]
    if other is None:
        forms = {"course": {"lines": own_lines, "rows": rows(course, True)}}
    elif course is own:  # the course's form takes other steps here: say so in words
        forms = {"course": {"lines": [*own_lines, f"<span>{_esc(other.otherwise)}</span>"],
                            "rows": rows(course, True)}}
    else:
        forms = {"course": {"lines": [mathml(x) for x in _lines(RULES[other.entry].formula)],
                            "rows": rows(course, True)}}
    same = not rule.torch_formula and other is None
    if rule.form == "keras":  # the run takes Keras's steps: its formula is Keras's, the code too
        forms["torch"] = {"title": "Keras", "lines": own_lines, "rows": rows(own, True),
                          "code": rule.keras_code(tr.optimizer.hyper) or "", "note": rule.note}
    else:
        forms["torch"] = {"title": "PyTorch",
            "lines": [mathml(x) for x in _lines(rule.torch_formula or rule.formula)],
            "rows": rows(torch or own, not rule.torch_formula or torch is not None),
            "code": tr.optimizer.torch_code(),
            "note": ("PyTorch writes this rule as the course does." if same else rule.conventions)
            + ("" if not rule.torch_formula or torch is not None
               else " The numbers are this run's, in the course's form."),
        }
    arrows = [{"label": r.arrow, "column": columns.index(r), "sign": r.sign} for r in course if r.arrow]
    # the numbers explain mode prints, unrounded: little-endian float64, flat (viz.stage.pack sends the bytes)
    return {"forms": forms, "values": np.ascontiguousarray(values, dtype="<f8").ravel(),
            "columns": len(columns), "arrows": arrows,
            "hover": {"grad": columns.index(first), "step": columns.index(STEP)},
            "rounding": tr.rounding.note() if tr.sensitive_from is not None else ""}


# ---- LaTeX (the registry's subset) to MathML -----------------------------------------------------

SYMBOLS = {
    "beta": "β", "eta": "η", "epsilon": "ε", "mu": "μ", "lambda": "λ", "psi": "ψ", "nabla": "∇",
    "Delta": "Δ", "le": "≤", "prod": "∏", "sum": "∑", "alpha": "α", "gamma": "γ", "rho": "ρ",
}
SPACES = {",": "0.17em", " ": "0.3em", ";": "0.28em", "quad": "1em"}
OPERATORS = set("+-=(),/<>|") | {"≤", "∏", "∑", "∇"}
TOKEN = re.compile(r"\\text\{[^}]*\}|\\[A-Za-z]+|\\.|[0-9]+(?:\.[0-9]+)?|\S")


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Parser:
    def __init__(self, tex: str):
        self.toks = TOKEN.findall(tex)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def group(self) -> str:
        """A braced group or a single atom (a command's argument)."""
        if self.peek() == "{":
            self.take()
            inner = self.row("}")
            self.take()
            return inner
        if self.peek() is not None and self.peek()[0].isdigit():  # \tfrac12: one digit per argument
            tok = self.take()
            if len(tok) > 1:
                self.toks.insert(self.i, tok[1:])
            return f"<mn>{tok[0]}</mn>"
        return self.atom()

    def row(self, end: str | None = None) -> str:
        out = []
        while self.peek() is not None and self.peek() != end:
            if end is None and self.peek() == "}":  # an unmatched brace: skip it
                self.take()
                continue
            out.append(self.scripted())
        return "<mrow>" + "".join(out) + "</mrow>"

    def scripted(self) -> str:
        base = self.atom()
        sub = sup = None
        while self.peek() in ("_", "^"):
            which = self.take()
            arg = self.group() if self.peek() is not None else "<mrow></mrow>"
            if which == "_":
                sub = arg
            else:
                sup = arg
        if sub and sup:
            return f"<msubsup>{base}{sub}{sup}</msubsup>"
        if sub:
            return f"<msub>{base}{sub}</msub>"
        if sup:
            return f"<msup>{base}{sup}</msup>"
        return base

    def atom(self) -> str:
        tok = self.take()
        if tok == "{":
            inner = self.row("}")
            if self.peek() == "}":
                self.take()
            return inner
        if tok.startswith("\\text{"):  # a label in words: \text{(PyTorch form)}
            return f"<mtext>{_esc(tok[6:-1])}</mtext>"
        if tok.startswith("\\"):
            name = tok[1:]
            if name in ("frac", "tfrac", "dfrac"):
                return f"<mfrac>{self.group()}{self.group()}</mfrac>"
            if name == "sqrt":
                return f"<msqrt>{self.group()}</msqrt>"
            if name == "hat":
                # a modifier circumflex set over (not as an accent): Chromium's accent placement
                # makes v-hat touch its hat and read as a theta
                return f"<mover>{self.group()}<mo>ˆ</mo></mover>"
            if name in ("left", "right"):
                fence = self.take() if self.peek() is not None else ""
                return f'<mo stretchy="true">{_esc(fence)}</mo>' if fence != "." else ""
            if name in SPACES:
                return f'<mspace width="{SPACES[name]}"/>'
            if name in SYMBOLS:
                ch = SYMBOLS[name]
                return f"<mo>{ch}</mo>" if ch in OPERATORS else f"<mi>{ch}</mi>"
            return f"<mi>{_esc(name)}</mi>"
        if tok[0].isdigit():
            return f"<mn>{tok}</mn>"
        if tok.isalpha():
            return f"<mi>{_esc(tok)}</mi>"
        return f"<mo>{_esc('−' if tok == '-' else tok)}</mo>"


@lru_cache(maxsize=512)
def mathml(tex: str) -> str:
    """``tex`` (one line of the registry's LaTeX: Greek letters, sub- and superscripts, \\frac,
    \\tfrac12, \\sqrt, \\hat, \\left( \\right), spaces, \\text{words}) as an inline MathML element."""
    return f'<math display="inline">{_Parser(tex).row()}</math>'
