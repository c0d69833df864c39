"""The Code panel's scripts: each run as a complete PyTorch script that reproduces it.

Every generated script is run by the venv's python as a file run as __main__ (one subprocess runs
them all, isolated from this repository: only torch is importable there), and its last line, the
final point ``x y``, must equal the app's run to 1e-7 relative, for every optimizer under every
schedule and on every kind of surface. The surfaces' torch forms (traced from their own value
functions) are checked against their NumPy f and gradient. The Keras scripts are checked for what
they contain (Keras is not a dependency; scripts/check_keras_scripts.py runs them).
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import landscapes
import optimizers
from descent_lab import compute
from descent_lab.script import WIDTH, keras_difference, keras_script, run_scripts, torch_script
from descent_lab.setup import CUSTOM, RunSpec, Setup, forms, run_spec
from landscapes.expression import compile_exprs, formula

STEPS = 50
RTOL = 1e-7
ATOL_PER_SCALE = 1e-12  # as tests/test_reference.py: coordinates near 0 have no relative error
#: every kind of schedule, and a warm-up with each (a cosine's eta_min > 0 is a LambdaLR)
SCHEDULES = {
    "constant": {"kind": "constant"},
    "warmup": {"kind": "constant", "warmup": 10, "warmup_start": 0.2},
    "step": {"kind": "step", "step_size": 15, "gamma": 0.5},
    "exponential": {"kind": "exponential", "gamma": 0.97},
    "cosine": {"kind": "cosine", "t_max": 30, "eta_min": 1e-4},
    "step+warmup": {"kind": "step", "step_size": 20, "gamma": 0.3, "warmup": 8, "warmup_start": 0.1},
    "cosine+warmup": {"kind": "cosine", "warmup": 10, "warmup_start": 0.1},
    "cosine+warmup+eta_min": {"kind": "cosine", "eta_min": 2e-4, "warmup": 12, "warmup_start": 0.25},
}
#: the look-ahead form equals torch's NAG only at a constant rate (its script says so)
INEXACT = {("nesterov_lookahead", k) for k in SCHEDULES if k != "constant"}
#: other surfaces, one run each: parameters, a typed formula, exp/cos, a data set's full batch
SURFACES = {
    "bowl": Setup(surface="elongated_bowl", surface_params={"condition": 50.0},
                  runs=(run_spec("momentum", lr=0.02, beta=0.8),)),
    "wells": Setup(surface="wells", runs=(run_spec("adam", lr=0.05),)),
    "rastrigin": Setup(surface="rastrigin", runs=(run_spec("nesterov", lr=0.002),)),
    "goldstein": Setup(surface="goldstein_price", start=(0.5, -0.3), runs=(run_spec("nadam", lr=0.01),)),
    "regression": Setup(surface="regression", runs=(run_spec("rmsprop", lr=0.01),)),
    "formula": Setup(surface=CUSTOM, runs=(run_spec("adagrad", lr=0.2),), surface_params={
        "expression": "sin(x)*cosh(y/2) + (x - 1)^2/4 + sqrt(abs(y) + 1) - tanh(x*y) + 2^x",
        "domain": ((-3.0, 3.0), (-3.0, 3.0))}),
    "diverges": Setup(runs=(run_spec("gd", lr=0.01),)),
}


def _case(name: str, schedule: str) -> Setup:
    return Setup(steps=STEPS, runs=(RunSpec(name, optimizers.rule(name).defaults(), SCHEDULES[schedule]),))


CASES = {f"{n}-{k}": _case(n, k) for n in optimizers.names() for k in SCHEDULES}
CASES |= {f"surface-{k}": replace(s, steps=STEPS) for k, s in SURFACES.items()}
CASES["noise"] = Setup(steps=STEPS, noise=0.3, seed=4, runs=(run_spec("adam", lr=0.05),))
CASES["minibatch"] = Setup(surface="regression", steps=STEPS, batch=8, runs=(run_spec("gd", lr=0.05),))
CASES["playground-adam"] = replace(Setup(), runs=Setup().runs[2:])  # the default page's Adam, 500 steps
CASES["keras-form"] = Setup(surface="wells", steps=STEPS, runs=(
    RunSpec("adam", optimizers.rule("adam").defaults() | {"lr": 0.1, "eps": 0.3}, form="keras"),))



def _trajectory(setup: Setup) -> optimizers.Trajectory:
    return compute.trajectory(setup, setup.runs[0])


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Every case's trajectory, script and printed lines (one python process for all scripts)."""
    folder = tmp_path_factory.mktemp("scripts")
    out = {}
    for key, setup in CASES.items():
        tr = _trajectory(setup)
        out[key] = [tr, torch_script(setup, tr)]
        (folder / f"{key}.py").write_text(out[key][1])
    files = [str(folder / f"{k}.py") for k in CASES]
    printed = run_scripts(files, cwd=folder)
    for key, f in zip(CASES, files, strict=True):
        out[key].append(printed[f])
    return out


def _prose(text: str) -> str:
    """The script's comments as one line of text (they are wrapped at WIDTH)."""
    return " ".join(line.strip()[2:] for line in text.splitlines() if line.strip().startswith("# "))


def _point(lines: list[str]) -> np.ndarray:
    x, y = lines[-1].split()
    return np.array([float(x), float(y)])


EXACT = [k for k in CASES if k not in ("noise", "minibatch", "keras-form")
         and not any(k == f"{n}-{s}" for n, s in INEXACT)]


@pytest.mark.parametrize("key", EXACT)
def test_script_prints_the_runs_final_point(ran, key):
    tr, text, printed = ran[key]
    scale = CASES[key].make_surface().scale
    assert np.linalg.norm(tr.path[-1] - tr.path[0]) > 1e-3, "a case that does not move tests nothing"
    np.testing.assert_allclose(_point(printed), tr.path[-1], rtol=RTOL, atol=ATOL_PER_SCALE * scale)
    assert f"ends at {float(tr.path[-1][0])!r}" in _prose(text)  # where the app's run ends


def test_every_optimizer_and_schedule_is_covered():
    assert {k.rsplit("-", 1)[0] for k in EXACT if not k.startswith("surface")} >= set(optimizers.names())
    for s in SCHEDULES:
        assert sum(k.endswith(f"-{s}") for k in EXACT) >= len(optimizers.names()) - 1, s


def test_divergence_stops_where_the_app_does(ran):
    tr, text, _ = ran["surface-diverges"]
    assert 0 < tr.diverged_at < STEPS
    assert f"for t in range({tr.diverged_at - 1}):" in text
    assert f"diverged at step {tr.diverged_at}" in _prose(text)


@pytest.mark.parametrize("schedule", [s for s in SCHEDULES if s != "constant"])
def test_lookahead_with_a_schedule_says_it_differs(ran, schedule):
    """With a changing rate the look-ahead form is not torch's NAG: the script says so (and it does
    end elsewhere)."""
    tr, text, printed = ran[f"nesterov_lookahead-{schedule}"]
    assert "the two forms differ" in _prose(text) and "ends elsewhere" in _prose(text)
    assert np.abs(_point(printed) - tr.path[-1]).max() > 1e-5


def test_noise_and_minibatch_scripts_say_they_differ(ran):
    tr, text, printed = ran["noise"]
    assert "torch.randn(2)" in text and "torch.manual_seed(4)" in text and "ends elsewhere" in _prose(text)
    assert "ends at" not in _prose(text)
    # another draw of the same noisy run: near the app's path, not on it
    assert 1e-6 < np.abs(_point(printed) - tr.path[-1]).max() < 0.5
    tr, text, printed = ran["minibatch"]
    about = _prose(text)
    assert "mini-batch of 8" in about and "full-batch" in about and "ends at" not in about
    full = compute.trajectory(replace(CASES["minibatch"], batch=0), CASES["minibatch"].runs[0])
    np.testing.assert_allclose(_point(printed), full.path[-1], rtol=RTOL)


def test_a_keras_form_run_says_torch_differs(ran):
    tr, text, printed = ran["keras-form"]
    assert "This run is Keras's form" in _prose(text) and "ends elsewhere" in _prose(text)
    assert np.abs(_point(printed) - tr.path[-1]).max() > 1e-4


def test_scripts_are_readable(ran):
    for key, (_, text, printed) in ran.items():
        assert all(len(line) <= WIDTH for line in text.splitlines()), key
        assert text.count("loss.backward()") == 1 and "torch.float64" in text, key
        assert "descent_lab" not in text and "numpy" not in text, key  # only torch
        assert len(printed) == 1, key


# --- the surfaces in torch ------------------------------------------------------

SURFACE_CASES = [(n, {}) for n in landscapes.names()] + [("elongated_bowl", {"condition": 300.0}),
                                                       ("regression", {"n": 500, "data_seed": 3})]


@pytest.mark.parametrize(("name", "params"), SURFACE_CASES, ids=[f"{n}{p or ''}" for n, p in SURFACE_CASES])
def test_surface_torch_form(name, params):
    """The traced tree of every built-in surface evaluates to its f, and its torch code (run with
    autograd) gives its f and analytic gradient, to 1e-10, on a grid over the domain."""
    s = landscapes.get(name, **params)
    (x0, x1), (y0, y1) = s.domain
    gx, gy = np.meshgrid(np.linspace(x0, x1, 13), np.linspace(y0, y1, 11))
    p = np.stack([gx.ravel(), gy.ravel()], -1)
    e = formula(s)
    want, grad = s.f(p), s.grad(p)
    np.testing.assert_allclose(compile_exprs([e])(p[:, 0], p[:, 1], np)[0], want, rtol=1e-12,
                               atol=1e-12 * np.abs(want).max())
    f = eval(f"lambda x, y: {e.to_torch()}", {"torch": torch})  # generated code, in a test only
    x = torch.tensor(p[:, 0], requires_grad=True)
    y = torch.tensor(p[:, 1], requires_grad=True)
    value = f(x, y)
    value.sum().backward()
    atol = 1e-12 * np.abs(want).max()
    np.testing.assert_allclose(value.detach().numpy(), want, rtol=1e-10, atol=atol)
    np.testing.assert_allclose(np.stack([x.grad.numpy(), y.grad.numpy()], -1), grad, rtol=1e-10,
                               atol=1e-10 * np.abs(grad).max())


def test_traced_formula_reads_like_the_definition():
    assert formula(landscapes.get("rosenbrock")).to_text() == "(1 - x)^2 + 100 * (y - x^2) * (y - x^2)"
    assert formula(landscapes.get("himmelblau")).to_torch() == "(x**2 + y - 11.0)**2 + (x + y**2 - 7.0)**2"
    assert "torch.exp(" in formula(landscapes.get("wells")).to_torch()
    assert formula(landscapes.get("booth")) != formula(landscapes.get("himmelblau"))


# --- the Keras scripts (Keras is not a dependency: scripts/check_keras_scripts.py runs them) ---------


def _keras_case(name: str, form: str, schedule: str = "constant", **hyper):
    spec = RunSpec(name, optimizers.rule(name).defaults() | hyper, SCHEDULES[schedule], form)
    setup = Setup(steps=STEPS, runs=(spec,))
    return setup, _trajectory(setup)


@pytest.mark.parametrize(("name", "form"), [(n, f) for n in optimizers.names() for f in forms(n)])
def test_keras_script_where_keras_has_the_optimizer(name, form):
    """A Keras script (valid Python, the registry's Keras class and arguments, float64, backward) for
    every run whose form Keras computes; for PyTorch's form of AdaGrad, RMSProp, Adam, AdamW and Nadam
    (psi != 1) no script but words on how Keras differs and where its form is."""
    setup, tr = _keras_case(name, form)
    text, rule = keras_script(setup, tr), tr.optimizer.rule
    if not rule.keras_class:  # Keras has no such optimizer (RAdam): the Code panel says so
        assert text is None and keras_difference(tr.optimizer) == f"Keras has no {rule.label} optimizer."
        return
    if rule.keras_form is not None and form == "pytorch":
        why = keras_difference(tr.optimizer)
        assert text is None and rule.keras_form.note in why and "Keras form in this run's settings" in why
        return
    assert keras_difference(tr.optimizer) == "" and text is not None
    compile(text, f"{name}-{form}", "exec")  # it is Python (compiled, not run)
    assert f"keras.optimizers.{rule.keras_class}(" in text and 'set_floatx("float64")' in text
    for k, v in rule.keras_args(SimpleNamespace(**tr.optimizer.hyper)).items():
        assert f"{k}={v!r}" in text, (k, v)
    assert "loss.backward()" in text and "apply_gradients" in text
    assert text.rstrip().endswith("print(*keras.ops.convert_to_numpy(w).tolist())")
    assert ("ends elsewhere" in _prose(text)) == (rule.grad_point is not None)  # constant rate: exact
    assert all(len(line) <= WIDTH for line in text.splitlines())


def test_nadam_pytorch_form_with_psi_1_is_kerass():
    setup, tr = _keras_case("nadam", "pytorch", momentum_decay=1.0)
    assert "keras.optimizers.Nadam(" in keras_script(setup, tr)
    assert keras_script(*_keras_case("nadam", "pytorch")) is None


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_keras_schedules(schedule):
    """Keras's own schedule where it has the rates (Schedule.keras, which the Keras fixture runs); a
    warm-up or a cosine restarting within the run, and momentum under any changing rate, say the
    script ends elsewhere."""
    setup, tr = _keras_case("adam", "keras", schedule)
    text = keras_script(setup, tr)
    code = tr.optimizer.schedule.keras(tr.optimizer.hyper["lr"], STEPS)
    if code is None:
        assert "ends elsewhere" in _prose(text) and "no schedule with this run's rates" in _prose(text)
    else:
        assert "ends elsewhere" not in _prose(text) and (schedule == "constant" or "rate = keras." in text)
        assert " ".join(code.split()) in " ".join(text.split())
    momentum = keras_script(*_keras_case("momentum", "pytorch", schedule))
    assert ("ends elsewhere" in _prose(momentum)) == (schedule != "constant")
