"""specs.Param: the one specification of a setting, read by the core, links, widgets and sweeps."""

from __future__ import annotations

import numpy as np
import pytest

import landscapes
import optimizers
from descent_lab import explore, setup
from specs import Param, grid_125


def test_grid_125():
    assert grid_125(1e-3, 1.0) == (1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5, 1.0)
    assert grid_125(0.0, 0.01)[:2] == (0.0, 1e-12)


def test_check_clamp_snap_options():
    p = Param("lr", 0.01, 1e-6, 10.0, "Learning rate", scale="log", grid=grid_125(1e-6, 10.0))
    assert p.check(0.5) == 0.5 and p.check(np.array([0.1, 1.0])).tolist() == [0.1, 1.0]
    for bad in (0.0, 11.0, float("nan"), np.array([0.1, np.inf])):
        with pytest.raises(ValueError, match="Learning rate must be a number from 1e-06 to 10"):
            p.check(bad)
    assert p.clamp(1e9) == 10.0 and p.clamp(-1.0) == 1e-6
    assert p.snap(0.03) == 0.02 and p.snap(0.04) == 0.05  # nearest in log terms
    assert p.options(0.03) == sorted([*p.grid, 0.03]) and p.options() == list(p.grid)
    n = Param("steps", 500, 0, 5000, "Steps", scale="integer")
    assert n.check(3.0) == 3 and isinstance(n.check(3.0), int) and n.clamp(7.6) == 8
    with pytest.raises(ValueError, match="whole number"):
        n.check(2.5)
    with pytest.raises(ValueError, match="unknown scale"):
        Param("x", 0, 0, 1, "x", scale="cubic")
    with pytest.raises(ValueError, match="default"):
        Param("x", 2, 0, 1, "x")


def test_sweep_axes_follow_the_scale():
    beta = optimizers.rule("adam").param("beta1")
    assert beta.scale == "log1m"
    b = beta.sweep(0.0, 0.999, 4)
    assert np.allclose(np.log10(1 - b), [0, -1, -2, -3])
    assert all(v < 1 for v in beta.sweep_options())
    lr = optimizers.rule("adam").lr
    assert np.allclose(np.diff(np.log10(lr.sweep(1e-4, 1.0, 5))), 1.0)
    assert all(v > 0 for v in optimizers.NOISE.sweep_options())


def test_every_setting_has_one_spec_everywhere():
    """The link parser, the core and the sweeps use the same objects, not copies."""
    assert setup.STEPS is optimizers.STEPS and setup.NOISE is optimizers.NOISE
    assert explore.sweep_param("adam", "noise") is optimizers.NOISE
    assert explore.sweep_param("adam", "lr") is optimizers.rule("adam").lr
    for name in optimizers.names():
        r = optimizers.rule(name)
        assert r.lr.name == "lr" and r.lr.role == optimizers.LR_ROLE
        for p in r.params:
            assert p.help, (name, p.name)  # every widget has its help text
            assert p.grid is not None and p.lo <= min(p.grid) and max(p.grid) <= p.hi
    for name in landscapes.names():
        for p in landscapes.spec(name).params:
            p.check(p.default)
    with pytest.raises(ValueError, match="Steps must be a number from 0 to 5000"):
        optimizers.run(optimizers.get("gd"), landscapes.get("booth"), steps=optimizers.STEPS.hi + 1)
