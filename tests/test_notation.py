"""One notation: the course's (w, η, g = ∇J(w) for the loss J, β, v), on every Learn page, lesson,
registry formula and explain-mode formula; where a rule has several forms (momentum: average, PyTorch,
η inside v; Nesterov: look-ahead, PyTorch) every formula of it says which form it is.

The pages are scanned as they render (AppTest: every st.latex and every line of text), the registry
and explain mode as the strings they show (explain_data's MathML included). The rest of the app names
the loss J too: the Playground stage's titles as its payload sends them and its hover texts as stage.js
writes them, the results table's headers, the formula box, Explore's figures and texts, and the labels
of the GIF / PNG export."""

from __future__ import annotations

import json
import re

import matplotlib.text
import numpy as np
import pytest
from conftest import ROOT, ok, open_page
from streamlit.testing.v1 import AppTest

import optimizers
from descent_lab.compute import runs
from descent_lab.presets import PRESETS
from descent_lab.setup import Setup, run_spec
from optimizers.rules import STEP
from viz.animation import _surface_view
from viz.explain import explain_data, mathml
from viz.stage import unpack

LEARN = ["learn_1_gradient_descent", "learn_2_batches", "learn_3_ewma", "learn_4_momentum",
         "learn_5_nesterov", "learn_6_adagrad", "learn_7_rmsprop", "learn_8_adam", "learn_9_reference",
         "learn_10_networks"]

#: symbols of other notations: the loss as f, PyTorch's buffer as u, a primed rate, G for AdaGrad's sum,
#: alpha / gamma for the rates and decays the course calls eta and beta (rho stays free: RAdam's rho_t is
#: the paper's length of the moving average, not a setting)
FOREIGN_TEX = [r"\\nabla f", r"\bf\(w", r"(?<![\\a-z])u_t", r"\\eta'", r"\bG_t", r"\\alpha", r"\\gamma",
               r"\bf\^\*"]
FOREIGN_TEXT = ["∇f", "f − f*", "f - f*", "f* ", "f(w", "η′", "η'"]
#: the loss called f in words: "the loss f", "final f", "lowest f" (not "the loss fell")
LOSS_F_WORDS = re.compile(r"\b(?:final|lowest|loss) f\b")
#: the loss called f in a label: "f" alone, "f = 3", "f ≈", "f ≥", "f − f*", "f - f*", "f(x, y)"
#: (not the f of "%{y:.3f}", "of (" or "\\frac")
LOSS_F = re.compile(r"(?:^|[^\w\\%{.:'])f(?:$|\s?[=≈≥−*(]|\s-\s)")
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
    assert not LOSS_F_WORDS.search(text), f"{where}: the loss is J, not f, in {text!r}"
    for sentence in re.split(r"(?<=[.;])\s", text):
        if MOMENTUM_TEXT.search(sentence):
            assert "form" in sentence, f"{where}: a momentum formula in words without its form: {sentence!r}"


def check_label(text: str, where: str) -> None:
    """A label, title, hover text or table header: the loss is J there, never f."""
    check_text(text, where)
    assert not LOSS_F.search(text), f"{where}: the loss is J, not f, in {text!r}"


def strings(tree) -> list[str]:
    """Every string in a JSON-like tree (a figure's spec: titles, names, hover templates, texts)."""
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, dict):
        return [s for v in tree.values() for s in strings(v)]
    if isinstance(tree, list | tuple):
        return [s for v in tree for s in strings(v)]
    return []


def check_charts(at, where: str) -> None:
    """Every text of every Plotly chart the page shows, every table header and every line of text."""
    for chart in at.get("plotly_chart"):
        for text in strings(json.loads(chart.proto.spec)):
            check_label(text, f"{where} chart {chart.proto.id or ''}")
    for frame in (*at.dataframe, *at.table):
        for column in frame.value.columns:
            check_label(str(column), f"{where} table")
    for el in (*at.markdown, *at.caption, *at.info, *at.warning):
        check_text(el.value, where)


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
    for bad in ("f", "f - f* (log scale)", "log10(f − f*)", "f(x, y)", "final f", "(1, 2) f ≈ 3",
                "step 3<br>f = %{y:.3g}", "lowest f shown", "other minima, f ≥ 2"):
        with pytest.raises(AssertionError):
            check_label(bad, "x")
    for good in ("J − J* (log scale)", "log10(J − lowest J shown)", "J(x, y)", "step %{x}<br>y = %{y:.3f}",
                 r"\frac{1}{2}", "the slope of (x, y)", "J = 3", "log10 loss",
                 "the loss fell by 0.01"):
        check_label(good, "x")


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


def squash(tex: str) -> str:
    return re.sub(r"\\[,;]|\s", "", tex)


@pytest.mark.parametrize("name", ["momentum", "momentum_ewma"])
def test_explain_eta_is_the_eta_of_the_formula_above_it(name):
    """In each tab of explain mode, the one row named with η shows the η its formula steps with: its
    symbol (left of "=" where it says how it comes from PyTorch's) is the factor of v_t in the tab's
    step line, and that number times v_t is the step taken. (A row "η / (1 − β)" under
    w = w − η v, η there PyTorch's lr, fails this.)"""
    rule = optimizers.rule(name)
    (view,) = runs(Setup(runs=(run_spec(name, lr=0.001, beta=0.8),), steps=6))
    data = explain_data(view.trajectory)
    values = data["values"].reshape(data["columns"], 2, 6)
    own = (*rule.explain, *(rule.explain_torch or ()), *(rule.course_form.rows if rule.course_form else ()))
    tex = {mathml(r.symbol): r.symbol for r in own}
    course = optimizers.RULES[rule.course_form.entry] if rule.course_form else rule
    formulas = {"course": course.formula, "torch": rule.torch_formula or rule.formula}
    for key, form in data["forms"].items():
        sent = {r["symbol"]: r["column"] for r in form["rows"]}
        etas = [s for s in sent if r"\eta" in tex.get(s, "")]
        assert len(etas) == 1, (name, key, etas)
        factor = squash(tex[etas[0]].split("=")[0])
        step_line = squash(formulas[key].split(r"\\")[-1])
        assert step_line.endswith(f"-{factor}v_t"), (name, key, factor, step_line)
        step, v = values[sent[mathml(STEP.symbol)]], values[sent[mathml("v_t")]]
        np.testing.assert_allclose(step, -values[sent[etas[0]]] * v, rtol=1e-12, atol=1e-15)


#: PyTorch's names of the settings (and a bare "Learning rate"): what the user reads shows η, β, β₁ ...
PYTORCH_NAMES = re.compile(r"\b(?:lr|beta\d?|eps|momentum_decay|weight_decay|psi)\b|Learning rate(?!.*η)")


def check_setting_label(text: str, where: str) -> None:
    """A run label or a setting's widget label: the course's symbols, not PyTorch's names."""
    assert not PYTORCH_NAMES.search(text), f"{where}: PyTorch's name, not the course's symbol, in {text!r}"


@pytest.mark.parametrize("name", optimizers.names())
def test_run_labels_and_setting_labels_read_in_symbols(name):
    """Every setting of every rule has its symbol and a label that starts with it ("β₁ (first moment)");
    a run's label, long and short, writes its settings in those symbols ("Momentum (η=0.035, β=0.7)")
    while its link keys and PyTorch code keep PyTorch's names."""
    rule = optimizers.rule(name)
    for p in rule.params:
        assert p.symbol and p.label.startswith(p.symbol + " ("), (name, p.label)
        check_setting_label(p.label, f"{name} setting")
    opt = optimizers.get(name, lr=0.035, **({"beta": 0.7} if "beta" in rule.defaults() else {}))
    for text in (opt.describe(), opt.describe(short=True)):
        check_setting_label(text, f"{name} run label")
        assert "η=0.035" in text and ("β=0.7" in text) == ("beta" in rule.defaults()), text
    assert "lr=0.035" in opt.torch_code() or rule.form_of


def test_the_setting_label_check_catches_pytorch_names():
    for bad in ("GD (lr=0.001)", "Momentum (lr=0.035, beta=0.7)", "beta1 (first moment)", "Momentum beta",
                "Learning rate", "Adam (eps=1e-08)"):
        with pytest.raises(AssertionError):
            check_setting_label(bad, "x")
    for good in ("GD (η=0.001)", "β₁ (first moment)", "η (learning rate)", "Learning rate η",
                 "β (decay; torch alpha)"):
        check_setting_label(good, "x")


def widget_labels(at) -> list[str]:
    return [w.label for kind in ("slider", "select_slider", "number_input") for w in at.get(kind)]


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
    assert tex or page in ("learn_9_reference", "learn_10_networks"), page  # tables and words only
    for x in tex:
        check_tex(x, page)
    for el in (*at.markdown, *at.caption, *at.info, *at.title, *at.subheader):
        check_text(el.value, page)
    for m in at.metric:
        check_text(f"{m.label} {m.value}", page)
    for text in widget_labels(at):
        check_setting_label(text, f"{page} slider")
    check_charts(at, page)  # axis, colour-bar and legend titles, hovers, tables: the loss is J there too


# --- the rest of the app: the Playground, its stage and results, Explore, the exports ------------------


def playground(query: dict) -> AppTest:
    """The Playground opened from a link, its Results panel shown."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({**query, "panel": "results"})
    return ok(at)


#: a log map with J*, a plain one with the 3-D view, a formula without a minimum (plain and log)
PLAYGROUND = [{"surface": "rosenbrock"}, {"surface": "booth", "show3d": "1"},
              {"surface": "custom", "f": "x^2 - y^2", "start": "0.5,0.1"},
              {"surface": "custom", "f": "exp(x*y*3)", "domain": "-1,1,-1,1", "start": "0.2,0.2"}]


@pytest.mark.parametrize("query", PLAYGROUND, ids=lambda q: q.get("f", q["surface"]))
def test_playground_stage_results_and_formula_box(query):
    at = playground(query)
    (stage,) = at.get("bidi_component")
    data = unpack(stage.proto.bytes)
    assert data["gap_title"].startswith("J − ") and data["cbtitle"].startswith(("J", "log10(J"))
    sent = [data["title"], data["gap_title"], data["cbtitle"], *(r["label"] for r in data["runs"])]
    if query.get("show3d"):
        sent.append(data["grid3d"]["ztitle"])
    for text in sent:
        check_label(text, f"stage {query}")
    for text in (*(x for r in data["runs"] for x in r["labels"]), *widget_labels(at)):
        check_setting_label(text, f"playground {query}")
    columns = [str(c) for c in at.dataframe[0].value.columns]
    assert "final J" in columns and ("J − J*" in columns) == (query.get("f") is None)
    check_charts(at, f"playground {query}")
    if query["surface"] == "custom":
        (box,) = [t for t in at.text_input if t.key == "surface.custom.f"]
        assert box.label == "J(x, y) ="
        check_label(box.label, "formula box")


def test_stage_js_hover_texts():
    """What stage.js writes itself (hover lines, labels): its string and template literals, the
    ${...} parts left out."""
    source = (ROOT / "viz" / "stage.js").read_text()
    literals = re.findall(r"`(?:[^`\\]|\\.)*`|\"(?:[^\"\\\n]|\\.)*\"", source)
    assert any("J ≈" in x for x in literals) and any(" J = " in x for x in literals)
    for lit in literals:
        check_label(re.sub(r"\$\{[^}]*\}", "", lit[1:-1]), "stage.js")


def test_explore_figures_titles_hovers_and_tables():
    at = ok(AppTest.from_file(str(ROOT / "app_pages" / "explore.py"), default_timeout=120))
    for section in ("Sweep map", "Fair comparison", "Basins of attraction", "Many runs under noise"):
        at.session_state["explore.tab"] = section
        ok(at)
        assert at.get("plotly_chart"), section
        check_charts(at, f"explore {section}")
        for el in at.radio:
            for option in el.options:
                check_label(option, f"explore {section} {el.key}")
        traces = [t for chart in at.get("plotly_chart") for t in json.loads(chart.proto.spec)["data"]]
        for text in (*widget_labels(at), *(o for el in at.selectbox for o in el.options),
                     *(t.get("name") or "" for t in traces), *(t.get("hovertemplate") or "" for t in traces),
                     *(str(c) for frame in at.dataframe for c in frame.value.columns)):
            check_setting_label(text, f"explore {section}")


@pytest.mark.parametrize(("surface", "kw"), [("rosenbrock", {}), ("booth", {}),
                                             ("custom", {"expression": "x^2 - y^2"})])
def test_gif_and_png_labels(surface, kw):
    """Every text the export's figure draws (colour bar, loss chart, axes, legend, header)."""
    setup = Setup(surface=surface, surface_params={**kw, **({"domain": ((-3, 3), (-3, 3))} if kw else {})},
                  start=(0.5, 0.1), steps=20, runs=(run_spec("gd", lr=0.001), run_spec("adam", lr=0.05)))
    view = _surface_view(setup.make_surface(), runs(setup), 1280, None, True, "")
    texts = [t.get_text() for t in view.fig.findobj(matplotlib.text.Text) if t.get_text()]
    assert any(t.startswith("J − ") for t in texts), texts
    for text in texts:
        check_label(text, f"export {surface}")


def test_networks_page_run_and_setting_labels():
    """The Networks page: its stage's run labels and every setting's widget label in the course's symbols."""
    at = AppTest.from_file(str(ROOT / "app_pages" / "networks.py"), default_timeout=120)
    at.query_params.update({"data": "xor", "n": "100", "hidden": "6", "steps": "40",
                            "optimizers": "gd,momentum,adam", "momentum.beta": "0.7"})
    ok(at)
    (stage,) = at.get("bidi_component")
    labels = [r["label"] for r in unpack(stage.proto.bytes)["runs"]]
    assert any("β=0.7" in x for x in labels), labels
    for text in (*labels, *widget_labels(at)):
        check_setting_label(text, "networks")


def test_reference_card_defaults_agree_with_its_code():
    """Learn 9: each card's defaults read in the course's symbols, and where the PyTorch code beside
    them has another lr (average-form momentum: η (1 − β)) the card says the code's lr."""
    at = open_page("app_pages/learn_9_reference.py")
    cards = [m.value for m in at.markdown if m.value.startswith("**Defaults**")]
    torch_code = [c.value for c in at.code if "torch.optim" in c.value]
    names = optimizers.names()
    assert len(cards) == len(torch_code) == len(names)
    for name, card, code in zip(names, cards, torch_code, strict=True):
        rule = optimizers.rule(name)
        eta, code_lr = rule.defaults()["lr"], float(re.search(r"lr=([0-9.e+-]+)", code).group(1))
        assert f"η (learning rate) = {eta:g}" in card and "lr = " + f"{eta:g}" not in card, card
        assert (code_lr == eta) == ("in the code lr" not in card), card
        if code_lr != eta:
            assert f"in the code lr = η (1 − β) = {code_lr:g}" in card
            assert code_lr == pytest.approx(eta * (1 - rule.defaults()["beta"]))
