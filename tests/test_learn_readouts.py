"""descent_lab.learn: the Learn pages' measurements, on small cases worked by hand (the pages' own
numbers are checked against the runs in tests/test_learn_claims.py)."""

from __future__ import annotations

import numpy as np
import pytest

import landscapes
import optimizers
from descent_lab import learn


def test_crossings_count_only_visible_swings():
    x = np.array([1.0, -1.0, 1e-20, -1e-20, 1e-20, 0.5, -0.01, 0.015, -0.5])
    assert learn.crossings(x) == 3  # +1 -> -1, (tiny wiggles) -> +0.5, -> -0.5
    assert learn.crossings(x, tol=0.0) == 7  # every sign change, the tiny ones too
    assert learn.crossings([1.0, -1.0, np.nan, 1.0]) == 1  # a NaN (divergence) ends the count
    assert learn.crossings([0.0, 0.0]) == 0


@pytest.mark.parametrize(("lr", "verdict"), [(0.01, "not there yet"), (0.1, "converged"), (0.41, "diverging"),
                                              (0.5, "diverged")])
def test_gd_verdict(lr, verdict):
    bowl = landscapes.get("elongated_bowl", condition=5)
    tr = optimizers.run(optimizers.get("gd", lr=lr), bowl, start=(-2.8, 1.5), steps=60)
    got, when = learn.gd_verdict(tr, bowl, 60)
    assert got == verdict, (lr, got, when)


def test_ravine_stretch_and_brake_step_by_hand():
    """The ravine's 'longer steps' stretch and Nesterov's brake step on a case small enough to follow."""
    bowl = landscapes.get("elongated_bowl", condition=50)
    gd = optimizers.run(optimizers.get("gd", lr=0.0392), bowl, start=(-2.8, 1.5), steps=150)
    mom = optimizers.run(optimizers.get("momentum", lr=0.035, beta=0.7), bowl, start=(-2.8, 1.5), steps=150)
    r = learn.ravine(gd, mom, bowl, 20)
    ratio = mom.state["velocity"][:, 0] / mom.grad[:, 0]
    a, b = r.longer
    assert np.all(ratio[a - 1:b] > 1 / 0.3) and ratio[a - 2] <= 1 / 0.3 and ratio[b] <= 1 / 0.3
    nag = optimizers.run(optimizers.get("nesterov_lookahead", lr=0.01, beta=0.9), bowl, start=(-2.8, 1.5),
                         steps=150)
    m2 = optimizers.run(optimizers.get("momentum", lr=0.01, beta=0.9), bowl, start=(-2.8, 1.5), steps=150)
    out = learn.nesterov(m2, nag, bowl)
    t = out.brake
    assert nag.path[t, 1] > 0 > nag.grad_point[t, 1] and np.all(nag.grad_point[:t, 1] >= -learn.CROSSING_TOL)
