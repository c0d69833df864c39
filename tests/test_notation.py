"""One notation: the course's (w, η, g = ∇J(w) for the loss J, β, v), on every Learn page, lesson,
registry formula and explain-mode formula; where a rule has several forms (momentum: average, PyTorch,
η inside v; Nesterov: look-ahead, PyTorch) every formula of it says which form it is.

The pages are scanned as they render (AppTest: every st.latex and every line of text), the registry
and explain mode as the strings they show (explain_data's MathML included)."""

from __future__ import annotations

import re

import pytest
from conftest import open_page

import optimizers
from descent_lab.compute import runs
from descent_lab.presets import PRESETS
from descent_lab.setup import Setup, run_spec
from viz.explain import explain_data

LEARN = ["learn_1_gradient_descent", "learn_2_batches", "learn_3_ewma", "learn_4_momentum",
         "learn_5_nesterov", "learn_6_adagrad", "learn_7_rmsprop", "learn_8_adam", "learn_9_reference"]

#: symbols of other notations: the loss as f, PyTorch's buffer as u, a primed rate, G for AdaGrad's sum,
#: alpha / gamma for the rates and decays the course calls eta and beta (rho stays free: RAdam's rho_t is
#: the paper's length of the moving average, not a setting)
FOREIGN_TEX = [r"\\nabla f", r"\bf\(w", r"(?<![\\a-z])u_t", r"\\eta'", r"\bG_t", r"\\alpha", r"\\gamma",
               r"\bf\^\*"]
FOREIGN_TEXT = ["∇f", "f − f*", "f - f*", "loss f", "f* ", "f(w", "η′", "η'"]
#: a momentum-like recurrence in LaTeX: v_t = beta v_{t-1} + (...) g or grad, not a square
MOMENTUM_TEX = re.compile(r"v_t = \\beta\\?,? ?v_\{t-1\} \+ (?![^\\]*g_t\^2)(?!.*g_t\^2)")
#: the same in prose: v = βv + ...
MOMENTUM_TEXT = re.compile(r"v = βv \+ (?!\(1 − β\)g²)")


def labelled(tex: str) -> bool:
    """Whether a LaTeX formula names its form: \\text{(... form)} or \\text{(}\\eta\\text{-inside form)}."""
    return bool(re.search(r"\\text\{\([^}]*form\)\}", tex)) or r"\text{-inside form)}" in tex


def check_tex(tex: str, where: str) -> None:
    for bad in FOREIGN_TEX:
        assert not re.search(bad, tex), f"{where}: {bad!r} is not the course's notation in {tex!r}"
    if MOMENTUM_TEX.search(tex):
        assert labelled(tex), f"{where}: a momentum formula without its form: {tex!r}"


def check_text(text: str, where: str) -> None:
    for bad in FOREIGN_TEXT:
        assert bad not in text, f"{where}: {bad!r} is not the course's notation in {text!r}"
    for sentence in re.split(r"(?<=[.;])\s", text):
        if MOMENTUM_TEXT.search(sentence):
            assert "form" in sentence, f"{where}: a momentum formula in words without its form: {sentence!r}"


def test_the_checks_catch_what_they_should():
    with pytest.raises(AssertionError):
        check_tex(r"w_{t+1} = w_t - \eta \nabla f(w_t)", "x")
    with pytest.raises(AssertionError):
        check_tex(r"v_t = \beta v_{t-1} + g_t \\ w_{t+1} = w_t - \eta v_t", "x")
    with pytest.raises(AssertionError):
        check_text("Momentum keeps v = βv + g and steps along it.", "x")
    check_tex(r"v_t = \beta v_{t-1} + g_t \quad \text{(PyTorch form)}", "x")
    check_tex(r"v_t = \beta v_{t-1} + \eta\, g_t \quad \text{(}\eta\text{-inside form)}", "x")
    check_tex(r"v_t = \beta v_{t-1} + (1-\beta)\, g_t^2", "x")  # RMSProp's average is no momentum
    check_text("The average form v = βv + (1 − β)g takes the same steps.", "x")


@pytest.mark.parametrize("name", optimizers.names())
def test_registry_formulas_and_words(name):
    rule = optimizers.rule(name)
    forms = [rule.formula, rule.torch_formula] + ([rule.keras_form.formula] if rule.keras_form else [])
    for tex in filter(None, forms):
        check_tex(tex, f"registry {name}")
    for text in (rule.note, rule.good, rule.bad, rule.conventions,
                 *(p.help for p in rule.params), rule.keras_form.note if rule.keras_form else ""):
        check_text(text, f"registry {name}")


@pytest.mark.parametrize("name", optimizers.names())
def test_explain_templates_and_what_the_stage_is_sent(name):
    """Every symbol of every rule's explain rows (its own, PyTorch's, the course form's), and the formula
    lines explain mode sends for a run of each rule in both tabs (the course's and PyTorch's)."""
    rule = optimizers.rule(name)
    rows = (*rule.explain, *(rule.explain_torch or ()), *(rule.course_form.rows if rule.course_form else ()))
    for row in rows:
        check_tex(row.symbol, f"explain {name}")
    setup = Setup(runs=(run_spec(name),), steps=5)
    (view,) = runs(setup)
    forms = explain_data(view.trajectory)["forms"]
    momentum_like = bool(MOMENTUM_TEX.search(optimizers.rule(name).formula))
    for key, form in forms.items():
        mathml = "".join(form["lines"])
        assert "∇</mo><mi>f" not in mathml, (name, key)
        if momentum_like:  # both tabs name the form they show
            assert re.search(r"<mtext>\([^<]*form\)</mtext>", mathml), (name, key, "momentum form unlabelled")
        check_text(form.get("note", ""), f"explain {name} {key}")


@pytest.mark.parametrize("key", PRESETS)
def test_lessons(key):
    p = PRESETS[key]
    for text in (p.title, p.shows, p.question, p.answer):
        check_text(text, f"lesson {key}")


@pytest.mark.parametrize("page", LEARN)
def test_learn_pages(page):
    at = open_page(f"app_pages/{page}.py")
    assert not at.exception
    tex = [x.value for x in at.latex]
    assert tex or page in ("learn_9_reference",), page
    for x in tex:
        check_tex(x, page)
    for el in (*at.markdown, *at.caption, *at.info, *at.title, *at.subheader):
        check_text(el.value, page)
    for m in at.metric:
        check_text(f"{m.label} {m.value}", page)
    for chart in at.get("plotly_chart"):  # axis, colour-bar and legend titles: the loss is J there too
        spec = chart.proto.spec
        assert '"text":"f"' not in spec and "f − f*" not in spec, page
