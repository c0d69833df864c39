"""Explain mode: each update rule as the course writes it, with the numbers one run recorded.

Each registry entry (optimizers.rules) says which recorded quantities explain mode shows, with
which symbol and under which line of its formula (``Rule.explain``), in the course's form and (where
PyTorch writes the rule differently and its quantities follow exactly from the run's) in PyTorch's
(``Rule.explain_torch``). Where the registry computes PyTorch's form and the course writes the rule
another way (momentum as an average, Nesterov with η inside v), ``Rule.course_form`` gives the
"Course" tab the course's formula with this run's numbers in that form, or, where that form takes
other steps (η-inside Nesterov under a schedule), PyTorch's formula and a line saying how the course
writes it. This module only renders them.
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
from functools import lru_cache

import numpy as np

from optimizers import Trajectory
from optimizers.rules import GRADIENT, LOOKAHEAD_GRADIENT, NEW_POINT, RULES, STEP, Row

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
    first = LOOKAHEAD_GRADIENT if rule.grad_point else GRADIENT
    own = (first, *rule.explain, STEP, NEW_POINT)
    other = rule.course_form
    course = other.rows if other is not None and other.exact(tr) else own
    torch = None if rule.explain_torch is None else (first, *rule.explain_torch, STEP, NEW_POINT)
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
            # a PyTorch-form rule the course writes otherwise: the note says how the two correspond
            "note": ("PyTorch writes this rule as the course does." if same
                     else rule.note if other is not None else rule.conventions)
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
