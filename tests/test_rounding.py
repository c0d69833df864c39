"""Runs that are sensitive to rounding say so: the core finds them with one extra row per run
(optimizers.rounding), and the results table, the Code panel's script, explain mode and the JSON
export say the same step. The case from issue 25: Nadam on Beale from (-1.2, 1.5), lr 0.01, 150
steps, whose PyTorch script ends 2e-3 away from the app's run."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
from conftest import ok
from streamlit.testing.v1 import AppTest
from test_app import ROOT, TIMEOUT

import landscapes
import optimizers
from descent_lab import compute, export, results, script
from descent_lab.setup import Setup, from_query
from optimizers.rounding import TOL, compare, nudged
from viz.explain import explain_data

BEALE = {"surface": "beale", "optimizers": "nadam", "nadam.lr": "0.01", "steps": "150", "start": "-1.2,1.5"}
NOTE = ("This path is sensitive to rounding from about step {k}: PyTorch may end elsewhere, and so may "
        "this app on another machine.")


def beale():
    setup, problems = from_query(BEALE)
    assert problems == []
    return setup, compute.runs(setup)[0]


def unwrapped(code: str) -> str:
    """A script's comment lines as one text."""
    return " ".join(ln.removeprefix("# ") for ln in code.splitlines())


def assert_same(a: optimizers.Trajectory, b: optimizers.Trajectory) -> None:
    for f in fields(optimizers.Trajectory):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "state":
            assert x.keys() == y.keys() and all(np.array_equal(x[k], y[k], equal_nan=True) for k in x)
        elif f.name not in ("optimizer", "rounding"):
            assert np.array_equal(x, y, equal_nan=True), f.name


def test_the_beale_nadam_run_is_sensitive_from_between_steps_60_and_100():
    _, view = beale()
    r = view.trajectory.rounding
    assert r.sensitive and 60 <= r.departs_at <= 100, r
    assert r.end_change > TOL
    # what it measures: the nudged start's path stays within TOL up to k - 1 and apart from k on
    tr = view.trajectory
    other = optimizers.run(tr.optimizer, landscapes.get("beale"), nudged(tr.path[0]), 150).path
    gap = np.linalg.norm(tr.path - other, axis=1) / np.maximum(np.linalg.norm(tr.path, axis=1), 1)
    assert gap[r.departs_at - 1] <= TOL < gap[r.departs_at:].min()


def test_the_pytorch_script_of_a_sensitive_run_ends_elsewhere_and_of_a_calm_one_does_not(tmp_path):
    """What the note promises: torch's gradient (autograd) differs from the app's by a rounding, and
    on the sensitive run that moves the end by more than TOL; on the default Adam run it does not."""
    runs = [beale(), (Setup(), compute.runs(Setup())[2])]
    files = []
    for i, (setup, view) in enumerate(runs):
        files.append(tmp_path / f"run{i}.py")
        files[-1].write_text(script.torch_script(setup, view.trajectory))
    printed = script.run_scripts(files)
    for f, (_, view) in zip(files, runs, strict=True):
        end = view.trajectory.path[-1]
        torch_end = np.array(printed[str(f)][-1].split(), float)
        change = np.linalg.norm(torch_end - end) / max(np.linalg.norm(end), 1)
        assert (change > TOL) == (view.trajectory.sensitive_from is not None), (f, change)


def test_rounding_leaves_the_run_as_it_is_and_a_batch_row_equals_its_single_run():
    surface = landscapes.get("beale")
    starts = np.array([[-1.2, 1.5], [1.0, 1.0], [-1.2, 1.5]])
    lrs = np.array([0.01, 0.01, 0.001])
    batch = optimizers.run(optimizers.get("nadam", lr=lrs), surface, starts, 150, rounding=True)
    for r in range(3):
        one = optimizers.run(optimizers.get("nadam", lr=lrs[r]), surface, starts[r], 150, rounding=True)
        plain = optimizers.run(optimizers.get("nadam", lr=lrs[r]), surface, starts[r], 150)
        assert plain.rounding is None and plain.sensitive_from is None
        assert_same(one, plain)
        assert np.array_equal(batch.path[:, r], one.path)
        assert batch.rounding.row(r) == one.rounding
    assert batch.rounding.sensitive.tolist() == [True, False, False]


def test_compare_counts_from_where_the_paths_stay_apart():
    path = np.zeros((6, 2))
    other = path.copy()
    other[1, 0] = 1.0  # apart at step 1, together again at 2: not where it departs
    other[3:, 1] = [1e-7, 1e-3, 1e-2]
    r = compare(path, other)
    assert (r.departs_at, r.end_change) == (4, 1e-2)
    calm = compare(path, path + 1e-9)
    assert calm.departs_at == -1 and not calm.sensitive and calm.note() == ""


def test_the_default_runs_are_not_sensitive():
    assert [v.trajectory.sensitive_from for v in compute.runs(Setup())] == [None, None, None]


def test_table_script_explain_and_json_say_the_same_step():
    setup, view = beale()
    k = view.trajectory.sensitive_from
    note = NOTE.format(k=k)
    (row,) = results.result_rows([view], setup.make_surface(), 0.01)
    assert row[results.SENSITIVE] == k
    assert note in unwrapped(script.torch_script(setup, view.trajectory))
    assert explain_data(view.trajectory)["rounding"] == note
    (run,) = json.loads(export.trajectories_json(setup, [view]))["runs"]
    assert run["sensitive_from"] == k and list(run)[5:7] == ["diverged_at", "sensitive_from"]
    calm = compute.runs(Setup())[0]
    assert explain_data(calm.trajectory)["rounding"] == ""
    (row,) = results.result_rows([calm], Setup().make_surface(), 0.01)
    assert row[results.SENSITIVE] is None


def test_the_code_panel_says_it_above_the_script():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(BEALE)
    ok(at)
    at.get("button_group")[0].set_value("Code")
    ok(at)
    _, view = beale()
    (warning,) = at.warning
    assert warning.value == NOTE.format(k=view.trajectory.sensitive_from)
    assert warning.value in unwrapped(at.get("code")[0].value)  # and the script's comment
