"""Our optimizers against PyTorch: trajectories recorded by scripts/make_references.py.

Every case of tests/fixtures/torch_reference.npz is replayed with our API and must
take torch.optim's steps (and lr_scheduler's rates). The fixture itself is checked
against a fresh torch run, so a stale fixture fails too. The relations between the
torch forms and the textbook forms (EWMA momentum, look-ahead Nesterov) are here too.
"""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

import landscapes
import optimizers

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "torch_reference.npz"


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_references", ROOT / "scripts" / "make_references.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
with np.load(FIXTURE) as _data:
    REF = {k: _data[k] for k in _data.files}
CASES = json.loads(str(REF["cases"]))
INDEX = {c["id"]: i for i, c in enumerate(CASES)}
STEPS = REF["path"].shape[1] - 1

#: Paths must agree to 1e-7 relative. Coordinates that converge to 0 (the bowl's minimum
#: is at the origin, some paths cross an axis) have no meaningful relative error, so an
#: absolute floor is added: 1e-12 times the domain's scale, i.e. a few thousand ulps of
#: the domain's coordinates. Rounding differences (beta^t as a running product versus
#: torch's pow, torch's recursive cosine, lerp versus two products) stay below 2e-11
#: absolute over 300 steps; any real difference in a rule moves a point by at least
#: about lr * |g|, orders of magnitude more than either tolerance.
RTOL = 1e-7
ATOL_PER_SCALE = 1e-12


def surface_of(case: dict) -> landscapes.Surface:
    return landscapes.get(case["surface"], **case["surface_params"])


def ours(case: dict, **run_kw) -> optimizers.Trajectory:
    opt = optimizers.get(case["optimizer"], schedule=optimizers.Schedule(**case["schedule"]), **case["hyper"])
    return optimizers.run(opt, surface_of(case), start=case["start"], steps=STEPS, **run_kw)


def assert_path_matches(actual, expected, surface, err_msg=""):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL_PER_SCALE * surface.scale,
                               err_msg=err_msg)


# --- the fixture --------------------------------------------------------------


def test_fixture_covers_the_brief():
    """Every torch-form optimizer, defaults and other settings, several surfaces and schedules."""
    by_opt = defaultdict(list)
    for c in CASES:
        by_opt[c["optimizer"]].append(c)
    defaults = {n: optimizers.rule(n).defaults() for n in by_opt}
    own_forms = [n for n in optimizers.names() if not optimizers.rule(n).form_of]
    assert {"gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "nadam"} <= set(own_forms)
    for name in own_forms:  # adding an optimizer = its registry entry + its reference cases
        on_rosen = [c for c in by_opt[name] if c["surface"] == "rosenbrock"
                    and c["start"] == list(landscapes.get("rosenbrock").start)
                    and c["schedule"]["kind"] == "constant" and c["schedule"]["warmup"] == 0]
        assert any(c["hyper"] == defaults[name] for c in on_rosen), name
        assert any(c["hyper"] != defaults[name] for c in on_rosen), name
    assert any(c["optimizer"] == "nadam" and c["hyper"]["momentum_decay"] != 0.004 for c in CASES)
    assert {"elongated_bowl", "himmelblau", "wells", "beale", "goldstein_price"} <= {
        c["surface"] for c in CASES}
    kinds = {(c["schedule"]["kind"], c["schedule"]["warmup"] > 0) for c in CASES}
    assert {("step", False), ("exponential", False), ("cosine", False), ("cosine", True),
            ("step", True)} <= kinds
    assert any(c["schedule"]["kind"] == "cosine" and c["schedule"]["eta_min"] > 0 for c in CASES)
    assert 25 <= len(CASES) <= 45
    assert REF["path"].shape == (len(CASES), STEPS + 1, 2) and REF["lr"].shape == (len(CASES), STEPS)
    assert FIXTURE.stat().st_size < 1_000_000


@pytest.mark.parametrize("case_id", list(INDEX))
def test_reference_runs_are_sound(case_id):
    """Each torch run is finite, moves, and (unless declared chaotic) is well-conditioned."""
    i = INDEX[case_id]
    case, path = CASES[i], REF["path"][i]
    scale = surface_of(case).scale
    assert np.all(np.isfinite(path)) and np.all(np.isfinite(REF["lr"][i]))
    assert np.linalg.norm(path[-1] - path[0]) > 1e-2 * scale
    assert surface_of(case).f(path[-1]) < surface_of(case).f(path[0])
    assert (REF["sensitivity"][i] > 1e-8 * scale) == case["chaotic"]


def test_fixture_specs_are_the_generators():
    """The committed specs are exactly what scripts/make_references.py would write today."""
    assert json.loads(json.dumps(gen.cases())) == CASES


@pytest.mark.parametrize("case_id", [
    "adam-rosenbrock-lr=0.05-beta1=0.8-beta2=0.99-eps=1e-06",
    "nadam-rosenbrock-lr=0.02-beta1=0.95-beta2=0.99-momentum_decay=0.02",
    "nesterov-rosenbrock-defaults-kind=step+step_size=100+gamma=0.5+warmup=20+warmup_start=0.25",
])
def test_fixture_is_current(case_id):
    """A fresh torch run of the case reproduces the committed fixture (to 1e-12; bit for bit
    with the pinned torch on this machine)."""
    i = INDEX[case_id]
    path, lr = gen.torch_run(CASES[i], steps=STEPS)
    np.testing.assert_allclose(path, REF["path"][i], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(lr, REF["lr"][i], rtol=1e-12, atol=0)


# --- our runs against torch ------------------------------------------------------


@pytest.mark.parametrize("case_id", list(INDEX))
def test_matches_torch(case_id):
    i = INDEX[case_id]
    case = CASES[i]
    tr = ours(case)
    assert tr.diverged_at == -1
    assert_path_matches(tr.path, REF["path"][i], surface_of(case))
    np.testing.assert_allclose(tr.lr, REF["lr"][i], rtol=1e-12, atol=0)


def _groups():
    """Cases that differ only in hyperparameters, start and schedule settings: one batch each."""
    groups = defaultdict(list)
    for c in CASES:
        key = (c["surface"], json.dumps(c["surface_params"]), c["optimizer"], c["schedule"]["kind"])
        groups[key].append(c["id"])
    return {"-".join(k[:1] + k[2:]): ids for k, ids in groups.items() if len(ids) > 1}


GROUPS = _groups()


@pytest.mark.parametrize("group", list(GROUPS))
def test_batched_run_matches_torch(group):
    """One batched call with an array per setting: every row takes torch's steps."""
    rows = [CASES[INDEX[i]] for i in GROUPS[group]]
    first = rows[0]
    hyper = {k: np.array([r["hyper"][k] for r in rows]) for k in first["hyper"]}
    sched = {k: np.array([r["schedule"][k] for r in rows]) for k in first["schedule"] if k != "kind"}
    opt = optimizers.get(first["optimizer"], schedule=optimizers.Schedule(first["schedule"]["kind"], **sched),
                         **hyper)
    starts = np.array([r["start"] for r in rows])
    tr = optimizers.run(opt, surface_of(first), start=starts, steps=STEPS)
    assert tr.path.shape == (STEPS + 1, len(rows), 2)
    assert np.all(tr.diverged_at == -1)
    for j, case in enumerate(rows):
        i = INDEX[case["id"]]
        assert_path_matches(tr.path[:, j], REF["path"][i], surface_of(case), err_msg=case["id"])
        np.testing.assert_allclose(tr.lr[:, j], REF["lr"][i], rtol=1e-12, atol=0)


def test_every_optimizer_is_checked_as_a_batch():
    """test_batched_run_matches_torch covers every optimizer torch has (not only some): each is in a
    group whose rows have different settings, so a batch that mixed rows up would fail there."""
    grouped = {CASES[INDEX[ids[0]]]["optimizer"] for ids in GROUPS.values()}
    assert {n for n in optimizers.names() if not optimizers.rule(n).form_of} <= grouped
    for ids in GROUPS.values():
        rows = [CASES[INDEX[i]] for i in ids]
        settings = {json.dumps([r["hyper"], r["start"], r["schedule"]], sort_keys=True) for r in rows}
        assert len(settings) == len(rows)


# --- the textbook forms ---------------------------------------------------------

#: The forms differ only in rounding, so they must agree to 1e-12 relative; where a path
#: crosses an axis a coordinate is near 0 and the floor is 1e-13 of the domain scale
#: (a few hundred ulps of a coordinate of that size).
RELATION_ATOL_PER_SCALE = 1e-13
RELATION_RUNS = [
    ("rosenbrock", None, 0.01, 0.9),
    ("rosenbrock", (0.0, 2.5), 0.004, 0.97),
    ("himmelblau", None, 0.02, 0.8),
    ("wells", None, 0.5, 0.9),
]


@pytest.mark.parametrize(("surface", "start", "lr", "beta"), RELATION_RUNS,
                         ids=[f"{s}-lr={lr:g}-beta={b:g}" for s, _, lr, b in RELATION_RUNS])
def test_momentum_ewma_is_momentum_with_scaled_lr(surface, start, lr, beta):
    s = landscapes.get(surface)
    ewma = optimizers.run(optimizers.get("momentum_ewma", lr=lr, beta=beta), s, start, STEPS)
    torch_form = optimizers.run(optimizers.get("momentum", lr=lr * (1 - beta), beta=beta), s, start, STEPS)
    assert ewma.diverged_at == -1 and np.linalg.norm(ewma.path[-1] - ewma.path[0]) > 0.1
    atol = RELATION_ATOL_PER_SCALE * s.scale
    np.testing.assert_allclose(ewma.path, torch_form.path, rtol=1e-12, atol=atol)
    # The velocities differ by exactly the factor (1 - beta): v_ewma = (1 - beta) v_torch.
    np.testing.assert_allclose(ewma.velocity, (1 - beta) * torch_form.velocity, rtol=1e-10, atol=atol)


@pytest.mark.parametrize(("surface", "start", "lr", "beta"), RELATION_RUNS,
                         ids=[f"{s}-lr={lr:g}-beta={b:g}" for s, _, lr, b in RELATION_RUNS])
def test_nesterov_lookahead_points_are_torch_form_iterates(surface, start, lr, beta):
    s = landscapes.get(surface)
    lr = lr / 10  # NAG is less forgiving than plain momentum on these surfaces
    la = optimizers.run(optimizers.get("nesterov_lookahead", lr=lr, beta=beta), s, start, STEPS)
    nag = optimizers.run(optimizers.get("nesterov", lr=lr, beta=beta), s, start, STEPS)
    assert la.diverged_at == -1 and np.linalg.norm(nag.path[-1] - nag.path[0]) > 0.1
    np.testing.assert_allclose(la.grad_point, nag.path[:-1], rtol=1e-12,
                               atol=RELATION_ATOL_PER_SCALE * s.scale)
    # ... while the look-ahead form's own iterates are elsewhere.
    assert np.abs(la.path[1:] - nag.path[1:]).max() > 1e-4


NESTEROV_CONSTANT = [c["id"] for c in CASES if c["optimizer"] == "nesterov"
                     and c["schedule"]["kind"] == "constant" and c["schedule"]["warmup"] == 0]


@pytest.mark.parametrize("case_id", NESTEROV_CONSTANT)
def test_nesterov_lookahead_points_match_torch(case_id):
    """The look-ahead form's gradient points are torch's NAG iterates (constant lr)."""
    i = INDEX[case_id]
    case = CASES[i]
    opt = optimizers.get("nesterov_lookahead", **case["hyper"])
    la = optimizers.run(opt, surface_of(case), start=case["start"], steps=STEPS)
    assert_path_matches(la.grad_point, REF["path"][i][:-1], surface_of(case))


def test_nesterov_cases_exist():
    assert len(NESTEROV_CONSTANT) >= 2
