"""Our Keras forms against Keras 3: trajectories recorded by scripts/make_keras_references.py.

Every case of tests/fixtures/keras_reference.npz (Keras 3.15.1, torch backend, float64, fed our
analytic gradient) is replayed with ``optimizers.run`` in the case's form and must take Keras's
steps to 1e-7. Keras itself is not needed here (it is not a dependency). The Keras forms must
matter: on each of their optimizers' cases the PyTorch form misses the Keras path somewhere.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

import landscapes
import optimizers

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "keras_reference.npz"
with np.load(FIXTURE) as _data:
    REF = {k: _data[k] for k in _data.files}
CASES = json.loads(str(REF["cases"]))
INDEX = {c["id"]: i for i, c in enumerate(CASES)}
STEPS = REF["path"].shape[1] - 1
RTOL, ATOL_PER_SCALE = 1e-7, 1e-12  # as tests/test_reference.py


def run(case: dict, form: str | None = None) -> optimizers.Trajectory:
    opt = optimizers.get(case["optimizer"], schedule=optimizers.Schedule(**case["schedule"]),
                         form=form or case["form"], **case["hyper"])
    return optimizers.run(opt, landscapes.get(case["surface"]), start=case["start"], steps=STEPS)


@pytest.mark.parametrize("case_id", list(INDEX))
def test_matches_keras(case_id):
    i = INDEX[case_id]
    case = CASES[i]
    tr = run(case)
    assert tr.diverged_at == -1
    np.testing.assert_allclose(tr.path, REF["path"][i], rtol=RTOL,
                               atol=ATOL_PER_SCALE * landscapes.get(case["surface"]).scale)


KERAS_FORMS = [n for n in optimizers.names() if optimizers.rule(n).keras_form is not None]


def test_fixture_covers_every_keras_form():
    assert set(KERAS_FORMS) == {"adagrad", "rmsprop", "adam", "adamw", "nadam"}
    by_name = defaultdict(list)
    for c in CASES:
        by_name[(c["optimizer"], c["form"])].append(c)
    for n in KERAS_FORMS:
        keras_cases = by_name[(n, "keras")]
        assert any(c["hyper"] == optimizers.rule(n).defaults() for c in keras_cases), n
        assert len(keras_cases) >= 3, n
    # the rules Keras writes as PyTorch does are there too, in their PyTorch form
    assert {"gd", "momentum", "momentum_ewma", "nesterov", "nadam"} <= {
        c["optimizer"] for c in CASES if c["form"] == "pytorch"}
    assert {c["schedule"]["kind"] for c in CASES} == {"constant", "step", "exponential", "cosine"}
    assert str(REF["keras_version"]).startswith("3.") and FIXTURE.stat().st_size < 300_000


@pytest.mark.parametrize("name", KERAS_FORMS)
def test_the_keras_form_matters(name):
    """On some case of each Keras form the PyTorch form is off the Keras path by far more than 1e-7
    (so the fixture tells the forms apart), and the app labels the runs apart."""
    gaps = []
    for c in CASES:
        if c["optimizer"] == name and c["form"] == "keras":
            ref = REF["path"][INDEX[c["id"]]]
            gaps.append(np.abs(run(c, form="pytorch").path - ref).max() / np.abs(ref - ref[0]).max())
    assert max(gaps) > 1e-4, (name, gaps)
    keras = optimizers.get(name, form="keras")
    assert "Keras" in keras.describe(short=True) and "Keras" not in optimizers.get(name).describe(short=True)
    assert keras.rule.form == "keras" and optimizers.rule(name).in_form("keras").in_form("pytorch") is (
        optimizers.rule(name))


def test_forms_are_refused_where_keras_is_the_same():
    with pytest.raises(ValueError, match="no Keras form"):
        optimizers.get("momentum", form="keras")
    with pytest.raises(ValueError, match="unknown form"):
        optimizers.get("adam", form="jax")


def test_keras_form_batch_rows_equal_single_runs():
    """A batch over learning rates in the Keras form: row r equals the single run bit for bit."""
    s = landscapes.get("himmelblau")
    lrs = np.array([0.01, 0.03, 0.1])
    for name in KERAS_FORMS:
        batch = optimizers.run(optimizers.get(name, form="keras", lr=lrs), s, steps=50)
        for r, lr in enumerate(lrs):
            single = optimizers.run(optimizers.get(name, form="keras", lr=float(lr)), s, steps=50)
            assert np.array_equal(batch.path[:, r], single.path), (name, lr)
            assert np.array_equal(batch.effective_lr[:, r], single.effective_lr), (name, lr)
