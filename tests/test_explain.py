"""Explain mode's numbers: what the stage is sent for step t is what the run recorded at t.

Every row the panel shows (in the course's form and in PyTorch's) is matched to an expectation
written here from the Trajectory's fields, so a row without one fails; quantities explain mode
derives (Adam's bias corrections, Nadam's mu_t, PyTorch's momentum buffer) are checked against an
independent computation from the step number, not from the recorded running products.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

import landscapes
import optimizers
from descent_lab.compute import RunView
from descent_lab.families import lr_family, row
from descent_lab.setup import Setup, from_query, run_spec, to_query
from optimizers.rules import AVERAGE_ETA
from viz.explain import mathml
from viz.landscape import global_minima
from viz.stage import stage_data

STEPS = 40


def f64(values) -> np.ndarray:
    """explain mode's numbers as sent: float64, flat."""
    assert values.dtype == np.dtype("<f8") and values.ndim == 1
    return values


def sent(name: str, steps: int = STEPS, **kw):
    """The run of ``name`` (the Playground's way: its family's row) and its explain data as sent."""
    setup = Setup(runs=(run_spec(name, **kw),), steps=steps)
    spec = setup.runs[0]
    fam = lr_family(setup, spec, (1e-4, 1e-3))
    tr = row(fam.trajectory, fam.index)
    s = setup.make_surface()
    data = stage_data(s, [RunView("1. run", "#000000", tr)], [fam], ("", 0.0, 1.0), explain=True)
    xp = data["runs"][0]["explain"]
    values = f64(xp["values"]).reshape(xp["columns"], 2, steps)
    return tr, xp, values, data


def expected(tr) -> dict[str, np.ndarray]:
    """Every quantity the panel may show, by its symbol: (steps, 2), or (steps,) for one number a step.
    Update t (0-based) is the course's t + 1: powers beta^t use n = t + 1."""
    h = tr.optimizer.hyper
    n = np.arange(1, tr.steps + 1, dtype=float)[:, None]
    s = tr.state
    out = {
        r"g_t = \nabla J(w_t)": tr.grad,
        r"g_t = \nabla J(w_t - \beta v_{t-1})": tr.grad,
        r"\Delta w = w_{t+1} - w_t": tr.path[1:] - tr.path[:-1],
        r"w_{t+1}": tr.path[1:],
        r"\eta": np.broadcast_to(tr.lr[:, None], (tr.steps, 2)),
    }
    name = tr.optimizer.rule.name
    if "velocity" in s:
        out["v_t"] = s["velocity"]
    if name == "momentum_ewma":
        out["torch:v_t"] = s["velocity"] / (1 - h["beta"])
        out[r"\eta (1-\beta)"] = tr.lr[:, None] * (1 - h["beta"]) + 0 * tr.grad
    if name == "nesterov_lookahead":  # the course's v is the registry's -v
        out["v_t"] = -s["velocity"]
        out[r"w_t - \beta v_{t-1}"] = tr.grad_point
        ahead = tr.path[1:-1] - h["beta"] * out["v_t"][:-1]
        np.testing.assert_allclose(tr.grad_point[1:], ahead, rtol=1e-12)
    if name == "momentum":  # the course's average form: v = (1 - beta) x PyTorch's v, eta / (1 - beta)
        out["course:v_t"] = (1 - h["beta"]) * s["velocity"]
        out["course:" + AVERAGE_ETA] = tr.lr[:, None] / (1 - h["beta"]) + 0 * tr.grad
        np.testing.assert_allclose(tr.path[1:] - tr.path[:-1], -out["course:" + AVERAGE_ETA] *
                                   out["course:v_t"], rtol=1e-12, atol=1e-15)
    if name == "nesterov":  # the course's look-ahead form, eta inside v (lr constant here)
        v = tr.lr[:, None] * s["velocity"]
        course_w = tr.path[1:] + h["beta"] * v  # w_{t+1} = look-ahead point + beta v_t
        out["course:v_t"] = v
        out[r"course:w_t - \beta v_{t-1}"] = tr.path[:-1]
        out[r"course:w_{t+1} - \beta v_t"] = tr.path[1:]
        out["course:w_{t+1}"] = course_w
        # the course's rule holds on these numbers: v_t = beta v_{t-1} + eta g_t, w_{t+1} = w_t - v_t
        np.testing.assert_allclose(v[1:], h["beta"] * v[:-1] + tr.lr[1:, None] * tr.grad[1:], rtol=1e-12)
        np.testing.assert_allclose(course_w[1:], course_w[:-1] - v[1:], rtol=1e-12, atol=1e-15)
    if name == "adagrad":
        out["v_t"] = np.cumsum(tr.grad**2, axis=0)
        out[r"\frac{\eta}{\sqrt{v_t} + \epsilon}"] = tr.lr[:, None] / (np.sqrt(out["v_t"]) + h["eps"])
    if name == "rmsprop":
        out["v_t"] = s["mean_sq"]
        out[r"\frac{\eta}{\sqrt{v_t} + \epsilon}"] = tr.lr[:, None] / (np.sqrt(s["mean_sq"]) + h["eps"])
    if name in ("adam", "adamw", "nadam", "radam"):
        out["m_t"], out["v_t"] = s["m"], s["v"]
        vhat = s["v"] / (1 - h["beta2"] ** n)
    if name in ("adam", "adamw", "radam"):
        out[r"\hat m_t"] = s["m"] / (1 - h["beta1"] ** n)
        out[r"\hat v_t"] = vhat
    if name in ("adam", "adamw"):
        out[r"\frac{\eta}{\sqrt{\hat v_t} + \epsilon}"] = tr.lr[:, None] / (np.sqrt(vhat) + h["eps"])
    if name == "radam":  # Liu et al.'s rectification, from t and beta2 (not from the run's state)
        b2 = h["beta2"]
        rho_inf = 2 / (1 - b2) - 1
        b2n = np.cumprod(np.full(tr.steps, b2))  # beta2^t as a running product, as torch's step keeps t
        rho = rho_inf - 2 * n[:, 0] * b2n / (1 - b2n)
        r = np.sqrt(np.abs((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)))
        out[r"\rho_t"] = rho
        eff = np.where((rho > 5)[:, None], tr.lr[:, None] * r[:, None] * np.sqrt(1 - b2 ** n) /
                       (np.sqrt(s["v"]) + h["eps"]), tr.lr[:, None] + 0 * tr.grad)
        out[r"\eta\, r_t \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon}"] = eff
        # the rule holds on these numbers: the step is -(that rate) m_hat, momentum SGD while rho_t <= 5
        assert (rho[:5] <= 5).all() and (rho[-1] > 5)
        np.testing.assert_allclose(tr.path[1:] - tr.path[:-1], -eff * out[r"\hat m_t"], rtol=1e-10,
                                   atol=1e-15)
    if name == "adamw":
        out[r"\eta \lambda\, w_t"] = tr.lr[:, None] * h["weight_decay"] * tr.path[:-1]
    if name == "nadam":
        out[r"\mu_t"] = h["beta1"] * (1 - 0.5 * 0.96 ** (n[:, 0] * h["momentum_decay"]))
        out[r"\frac{\eta}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}"] = tr.lr[:, None] / (np.sqrt(vhat) + h["eps"])
    return out


def by_symbol(form: str, exp: dict) -> dict[str, np.ndarray]:
    """The expectations keyed by the MathML the panel shows (a form's own ones, prefixed "torch:" or
    "course:", replace the shared ones in that form)."""
    keyed = {mathml(k): v for k, v in exp.items() if ":" not in k[:7]}
    keyed.update({mathml(k[len(form) + 1:]): v for k, v in exp.items() if k.startswith(form + ":")})
    return keyed


def test_every_optimizer_has_explain_rows_that_fit_its_formula():
    for name in optimizers.names():
        rule = optimizers.rule(name)
        t = SimpleNamespace(rows=rule.explain, torch=rule.explain_torch)
        assert rule.explain, f"{name}: give its entry explain rows"
        n_course = len([x for x in rule.formula.split(r"\\") if x.strip()])
        n_torch = len([x for x in (rule.torch_formula or rule.formula).split(r"\\") if x.strip()])
        assert all(r.line < n_course for r in t.rows), name
        assert all(r.line < n_torch for r in t.torch or ()), name
        # the velocity-like slot is drawn as an arrow exactly where the rule has one
        assert sum(bool(r.arrow) for r in t.rows) == (rule.velocity is not None), name


@pytest.mark.parametrize("name", optimizers.names())
def test_sent_numbers_are_the_recorded_ones(name):
    """For every row of both forms, at every step: the number sent is the Trajectory's, bit for bit
    where it is a recorded field, to rounding where it is derived (bias corrections, mu_t)."""
    tr, xp, values, _ = sent(name)
    exp = expected(tr)
    direct = {mathml(k) for k in (r"g_t = \nabla J(w_t)", r"g_t = \nabla J(w_t - \beta v_{t-1})", r"w_{t+1}")}
    for form in ("course", "torch"):
        keyed = by_symbol(form, exp)
        rows = xp["forms"][form]["rows"]
        assert rows[0]["symbol"] in direct and rows[-1]["symbol"] == mathml(r"w_{t+1}")
        for r in rows:
            assert r["symbol"] in keyed, f"{name} {form}: no expectation for the row {r['symbol']}"
            want = np.asarray(keyed[r["symbol"]], dtype=float)
            got = values[r["column"]]  # (2, steps)
            if r["scalar"]:
                assert want.ndim == 1
                np.testing.assert_array_equal(got[0], got[1])
                got, want = got[0], want
            else:
                got = got.T
            what = f"{name} {form} {r['symbol']}"
            if r["symbol"] in direct:
                np.testing.assert_array_equal(got, want, err_msg=what)
            else:
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, err_msg=what)
    # every state field the rule keeps is shown, or is bookkeeping that no gradient changes (powers
    # beta^t, Nadam's mu product, RAdam's t): the same on another surface from another start
    elsewhere = optimizers.run(tr.optimizer, landscapes.get("himmelblau"), start=(1.0, -3.5), steps=tr.steps)
    for k, v in tr.state.items():
        shown = any(np.array_equal(abs(values[c].T), abs(v)) for c in range(xp["columns"]))
        assert shown or np.array_equal(elsewhere.state[k], v), f"{name}: state {k} is not shown"


def test_adam_first_steps_by_hand():
    """Adam's first update from the definitions (m_1 = (1 - b1) g, v_1 = (1 - b2) g^2, m_hat = g,
    v_hat = g^2, step = -lr g / (|g| + eps)): what a student checks by hand."""
    tr, xp, values, _ = sent("adam", lr=0.1)
    rows = {r["symbol"]: values[r["column"]][:, 0] for r in xp["forms"]["course"]["rows"]}
    g = tr.grad[0]
    np.testing.assert_allclose(rows[mathml("m_t")], 0.1 * g, rtol=1e-15)
    np.testing.assert_allclose(rows[mathml("v_t")], 0.001 * g * g, rtol=1e-15)
    np.testing.assert_allclose(rows[mathml(r"\hat m_t")], g, rtol=1e-14)
    np.testing.assert_allclose(rows[mathml(r"\hat v_t")], g * g, rtol=1e-13)
    step = rows[mathml(r"\Delta w = w_{t+1} - w_t")]
    np.testing.assert_allclose(step, -0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_schedules_change_the_rate_shown():
    """With a schedule, eta is this step's rate (the panel shows the schedule's value, not the setting)."""
    spec = replace(run_spec("momentum", lr=0.001), schedule={"kind": "cosine", "t_max": 30})
    setup = Setup(runs=(spec,), steps=30)
    fam = lr_family(setup, setup.runs[0], (1e-3,))
    tr = row(fam.trajectory, fam.index)
    data = stage_data(setup.make_surface(), [RunView("1", "#000", tr)], [fam], ("", 0.0, 1.0), explain=True)
    xp = data["runs"][0]["explain"]
    values = f64(xp["values"]).reshape(xp["columns"], 2, 30)
    eta = next(r for r in xp["forms"]["torch"]["rows"] if r["symbol"] == mathml(r"\eta"))
    np.testing.assert_array_equal(values[eta["column"], 0], tr.lr)
    assert tr.diverged_at < 0 and tr.lr[0] > 2 * tr.lr[-1]  # the schedule does change it
    # the course's average form under the same schedule: its eta is this step's eta / (1 - beta)
    avg = next(r for r in xp["forms"]["course"]["rows"] if r["symbol"] == mathml(AVERAGE_ETA))
    np.testing.assert_allclose(values[avg["column"], 0], tr.lr / (1 - 0.9), rtol=1e-15)


@pytest.mark.parametrize(("name", "course"), [("momentum", "momentum_ewma"),
                                              ("nesterov", "nesterov_lookahead")])
def test_the_course_tab_shows_the_course_form(name, course):
    """A PyTorch-form momentum or Nesterov run: the "Course" tab shows the course's formula (average
    form; look-ahead form with eta inside v), labelled, and the PyTorch tab PyTorch's, labelled too;
    under a schedule the eta-inside form takes other steps, so the Course tab says so in words."""
    _, xp, _, _ = sent(name)
    lines = xp["forms"]["course"]["lines"]
    assert lines == [mathml(x.strip()) for x in optimizers.rule(course).formula.split(r"\\")]
    assert "form)</mtext>" in lines[0] and "(PyTorch form)" in xp["forms"]["torch"]["lines"][0]
    assert "as the course does" not in xp["forms"]["torch"]["note"]
    assert "the course's" in xp["forms"]["torch"]["note"].lower()  # and it says how the forms correspond
    spec = replace(run_spec(name, lr=0.001), schedule={"kind": "cosine", "t_max": 30})
    setup = Setup(runs=(spec,), steps=30)
    fam = lr_family(setup, setup.runs[0], (1e-3,))
    tr = row(fam.trajectory, fam.index)
    data = stage_data(setup.make_surface(), [RunView("1", "#000", tr)], [fam], ("", 0.0, 1.0), explain=True)
    lines = data["runs"][0]["explain"]["forms"]["course"]["lines"]
    if name == "nesterov":
        assert lines[0] == xp["forms"]["torch"]["lines"][0] and "The course writes Nesterov" in lines[-1]
    else:
        assert "(average form)" in lines[0]


def test_a_diverged_update_has_no_step():
    """The update that leaves the domain shows its gradient but no step and no new point (the path
    stops there); later updates show nothing."""
    tr, xp, values, _ = sent("gd", steps=60, lr=0.05)
    d = int(tr.diverged_at)
    assert d > 1
    rows = {r["symbol"]: values[r["column"]] for r in xp["forms"]["course"]["rows"]}
    g, step = rows[mathml(r"g_t = \nabla J(w_t)")], rows[mathml(r"\Delta w = w_{t+1} - w_t")]
    assert np.all(np.isfinite(g[:, : d])) and np.all(np.isnan(g[:, d:]))
    assert np.all(np.isfinite(step[:, : d - 1])) and np.all(np.isnan(step[:, d - 1:]))


def test_explain_data_only_when_on():
    _, _, _, data = sent("adam")
    assert data["explain"] is True
    setup = Setup()
    fams = [lr_family(setup, spec, (1e-3,)) for spec in setup.runs]
    views = [RunView(str(i), "#000", row(f.trajectory, f.index)) for i, f in enumerate(fams)]
    off = stage_data(setup.make_surface(), views, fams, ("", 0.0, 1.0))
    assert off["explain"] is False and all("explain" not in r for r in off["runs"])


def test_explain_in_links():
    assert to_query(Setup(explain=True))["explain"] == "1"
    assert "explain" not in to_query(Setup())
    assert from_query({"explain": "1"})[0].explain is True
    assert from_query({})[0].explain is False


@pytest.mark.parametrize("name", optimizers.names())
def test_formulas_are_well_formed_mathml(name):
    """Every formula line and row symbol converts to well-formed MathML in which every LaTeX command
    became a symbol or a layout (no command name left as text)."""
    rule = optimizers.rule(name)
    texts = [x for f in (rule.formula, rule.torch_formula) for x in f.split(r"\\") if x.strip()]
    texts += [r.symbol for r in (*rule.explain, *(rule.explain_torch or ()))]
    for tex in texts:
        root = ET.fromstring(mathml(tex))
        names = [e.text for e in root.iter("mi")]
        assert all(n and len(n) == 1 for n in names), (tex, names)
        assert "\\" not in ET.tostring(root, encoding="unicode"), tex


def test_mathml_layout():
    m = ET.fromstring(mathml(r"\hat m_t = \frac{m_t}{1-\beta_1^t},\ \sqrt{x}"))
    assert m.find(".//mfrac") is not None and m.find(".//msqrt") is not None
    hat = m.find(".//mover")
    assert hat is not None and hat.find("mo").text == "ˆ" and hat.find("mi").text == "m"
    sub = m.find(".//msubsup")  # beta_1^t
    assert [e.text for e in sub] == ["β", "1", "t"]
    half = ET.fromstring(mathml(r"\tfrac12 x"))
    assert [e.text for e in half.find(".//mfrac")] == ["1", "2"]


@pytest.mark.parametrize(("name", "n_global", "n_local"), [
    ("rastrigin", 1, 120), ("himmelblau", 4, 0), ("wells", 1, 3), ("six_hump_camel", 2, 4),
    ("rosenbrock", 1, 0),
])
def test_global_minima(name, n_global, n_local):
    s = landscapes.get(name)
    flags = global_minima(s)
    assert (sum(flags), len(flags) - sum(flags)) == (n_global, n_local)
    assert flags[0]  # the catalogue lists global minima first
    vals = s.minima_values
    assert np.all(vals[np.array(flags)] == pytest.approx(s.global_min))


def test_no_global_minimum_without_f_star():
    s = landscapes.from_expression("x^4/4 - x^2/2 - y^2", domain=((-2, 2), (-2, 2)))
    assert not s.has_global_min
    assert not any(global_minima(s))


def test_playground_sends_explain_data_from_a_link_and_drops_it_when_off():
    """explain=1 in a link turns the mode on (every run carries its numbers, the address keeps it);
    the stage's button sets the flag in the session, which turns it off again."""
    from conftest import APPTEST_TIMEOUT, ROOT, ok
    from streamlit.testing.v1 import AppTest

    from viz.stage import unpack

    def stage(at) -> dict:
        (element,) = at.get("bidi_component")
        return unpack(element.proto.bytes)

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT)
    at.query_params.update({"explain": "1", "optimizers": "gd,adam"})
    ok(at)
    data = stage(at)
    assert data["explain"] and all("explain" in r for r in data["runs"])
    assert at.query_params["explain"] in ("1", ["1"])
    at.session_state["explain"] = False  # what the stage's Explain button does through its callback
    ok(at)
    data = stage(at)
    assert not data["explain"] and not any("explain" in r for r in data["runs"])
    assert "explain" not in at.query_params


KERAS_FORMS = [n for n in optimizers.names() if optimizers.rule(n).keras_form]


@pytest.mark.parametrize("name", KERAS_FORMS)
def test_a_keras_form_run_is_explained_in_keras_form(name):
    """A run in Keras's form shows Keras's formula with rows that fit its lines, a Keras tab with the
    Keras constructor, and numbers that make the step: dw = -(effective lr) x (g, or m-hat for Adam),
    less the decoupled decay, at every step (checked from the sent numbers, not from the template)."""
    setup = Setup(runs=(replace(run_spec(name), form="keras"),), steps=STEPS)
    fam = lr_family(setup, setup.runs[0], (1e-4, 1e-3))
    tr = row(fam.trajectory, fam.index)
    assert tr.optimizer.rule.form == "keras"
    data = stage_data(setup.make_surface(), [RunView("1. run", "#000000", tr)], [fam], ("", 0.0, 1.0),
                      explain=True)
    xp = data["runs"][0]["explain"]
    values = f64(xp["values"]).reshape(xp["columns"], 2, STEPS)
    course, keras = xp["forms"]["course"], xp["forms"]["torch"]
    assert keras["title"] == "Keras" and keras["code"].startswith("keras.optimizers.")
    assert all(r["line"] < len(course["lines"]) for r in course["rows"])
    col = {r["symbol"]: values[r["column"]].T for r in course["rows"]}
    step, g = col[mathml(r"\Delta w = w_{t+1} - w_t")], col[mathml(r"g_t = \nabla J(w_t)")]
    eff = next(v for k, v in col.items() if k.startswith('<math display="inline"><mrow><mfrac><mrow><mi>η'))
    h = tr.optimizer.hyper
    if name in ("adam", "adamw"):
        n = np.arange(1, STEPS + 1, dtype=float)[:, None]
        moved = eff * tr.state["m"] / (1 - h["beta1"] ** n)
        np.testing.assert_allclose(col[mathml(r"\hat m_t")], tr.state["m"] / (1 - h["beta1"] ** n),
                                   rtol=1e-12)
        if name == "adamw":
            moved = moved + col[mathml(r"\eta \lambda\, w_t")]
    elif name == "nadam":  # its step mixes m and g with mu_t and mu_t+1: mu_t on Keras's 0.96^t
        n = np.arange(1, STEPS + 1, dtype=float)
        np.testing.assert_allclose(col[mathml(r"\mu_t")][:, 0], h["beta1"] * (1 - 0.5 * 0.96**n), rtol=1e-12)
        return
    else:
        moved = eff * g
    np.testing.assert_allclose(step, -moved, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("name", ["adagrad", "rmsprop"])
def test_the_course_tab_says_where_the_course_puts_eps(name):
    """The course writes AdaGrad and RMSProp with ε inside the root; these runs take PyTorch's steps (ε
    outside), so the Course tab keeps the run's formula and says how the course differs, in words."""
    _, xp, _, _ = sent(name)
    course = xp["forms"]["course"]
    assert course["lines"][:-1] == xp["forms"]["torch"]["lines"]
    assert "ε inside the root" in course["lines"][-1] and "<math" not in course["lines"][-1]
    assert all(r["line"] < len(course["lines"]) - 1 for r in course["rows"])  # rows stay under the formula
