"""The Playground's results table, computed below the page."""

from __future__ import annotations

import numpy as np

import landscapes
from descent_lab import compute, results
from descent_lab.setup import from_query


def test_rows_say_what_each_run_achieved():
    setup, problems = from_query({"surface": "himmelblau", "optimizers": "gd,adam,gd", "gd.lr": "0.01",
                                  "adam.lr": "0.1", "gd2.lr": "0.2", "steps": "300", "start": "0,0"})
    assert not problems
    views = compute.runs(setup)
    surface = setup.make_surface()
    rows = results.result_rows(views, surface, 1e-2)
    assert [r["run"] for r in rows] == [v.label for v in views]
    gd, adam, wild = rows
    # GD at 0.01 from (0, 0) settles in Himmelblau's (3, 2) well: J* = 0 there
    assert gd["nearest minimum"] == "(3, 2)" and gd["distance"] < 1e-2
    assert gd["J − J*"] == gd["final J"] - surface.global_min
    assert 0 < gd["within tolerance from step"] < 300 and gd["diverged at step"] is None
    assert adam["final J"] == float(views[1].trajectory.loss[-1])
    # lr 0.2 on Himmelblau blows up: no tolerance step, a divergence step, NaN values
    assert wild["diverged at step"] == int(views[2].trajectory.diverged_at) > 0
    assert wild["within tolerance from step"] is None and np.isnan(wild["final J"])


def test_tolerance_changes_the_settle_step():
    s = landscapes.get("booth")
    setup, _ = from_query({"surface": "booth", "optimizers": "gd", "gd.lr": "0.05", "steps": "200"})
    views = compute.runs(setup)
    loose, tight = (results.result_rows(views, s, tol)[0]["within tolerance from step"]
                    for tol in (1e-1, 1e-4))
    assert 0 < loose < tight


def test_no_minimum_in_the_domain_has_no_gap_column():
    setup, problems = from_query({"surface": "custom", "f": "x^2 - y^2", "optimizers": "gd", "steps": "50",
                                  "start": "0.5,0.1"})
    assert not problems
    surface = setup.make_surface()
    assert not surface.has_global_min
    (row,) = results.result_rows(compute.runs(setup), surface, 1e-2)
    assert "J − J*" not in row and row["nearest minimum"] == "none known"
    assert np.isfinite(row["final J"]) and row["final J"] < surface.f([0.5, 0.1])
