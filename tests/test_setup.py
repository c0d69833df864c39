"""The shareable setup: query parameters in and out, hostile links never raise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
import optimizers
from descent_lab.setup import MAX_RUNS, RunSpec, Setup, from_query, prefixes, run_spec, to_query


def test_defaults_from_an_empty_link():
    setup, problems = from_query({})
    assert setup == Setup() and problems == []
    assert [r.name for r in setup.runs] == ["gd", "momentum", "adam"]


def test_issue_example_link():
    setup, problems = from_query({"surface": "himmelblau", "optimizers": "adam,nesterov", "steps": "123"})
    assert problems == []
    assert setup.surface == "himmelblau" and setup.steps == 123
    assert [r.name for r in setup.runs] == ["adam", "nesterov"]
    assert setup.runs[0].hyper == optimizers.rule("adam").defaults()


def test_round_trip_is_exact():
    setup = Setup(
        surface="elongated_bowl", surface_params={"condition": 37.5}, start=(-2.25, 1.125), steps=777,
        runs=(run_spec("adam", lr=0.0123), run_spec("adam", lr=0.1, beta1=0.8),
              RunSpec("nesterov", {"lr": 0.002, "beta": 0.95},
                      {"kind": "cosine", "t_max": 300, "eta_min": 1e-4, "warmup": 20, "warmup_start": 0.2})),
        noise=0.3, seed=42, multiples=True, show3d=False, arrows=False, speed="2x",
    )
    q = to_query(setup)
    assert q["adam.lr"] == "0.0123" and q["adam2.lr"] == "0.1" and q["adam2.beta1"] == "0.8"
    assert q["nesterov.schedule"] == "cosine" and q["start"] == "-2.25,1.125"
    again, problems = from_query(q)
    assert problems == [] and again == setup


def test_prefixes_number_repeats():
    runs = [RunSpec("adam"), RunSpec("gd"), RunSpec("adam"), RunSpec("adam")]
    assert prefixes(runs) == ["adam", "gd", "adam2", "adam3"]


def test_dataset_batch_round_trip():
    setup = Setup(surface="regression", surface_params={"n": 200, "data_seed": 3}, batch=16, seed=7)
    assert from_query(to_query(setup)) == (setup, [])


def test_bad_values_are_reported_and_replaced():
    setup, problems = from_query({
        "surface": "nope", "steps": "abc", "start": "1,nan", "noise": "NaN",
        "optimizers": "adam,evil(),gd", "adam.lr": "1e9", "gd.beta": "0.5", "speed": "99x", "arrows": "maybe",
    })
    text = " | ".join(problems)
    for fragment in ("surface='nope'", "steps='abc'", "start=1,nan", "noise=NaN", "'evil()'",
                     "adam.lr=1e9 (outside", "gd.beta", "speed='99x'", "arrows='maybe'"):
        assert fragment in text, fragment
    assert setup.surface == "rosenbrock" and setup.steps == 500 and setup.start is None
    assert [r.name for r in setup.runs] == ["adam", "gd"]
    assert setup.runs[0].hyper["lr"] == optimizers.rule("adam").lr.hi  # clamped


def test_sizes_are_clamped():
    many = {f"junk{i}": "1" for i in range(1000)}
    setup, problems = from_query({"optimizers": ",".join(["adam"] * 30), "steps": "1e12", **many})
    assert len(setup.runs) == MAX_RUNS and setup.steps == optimizers.STEPS.hi
    assert any("802 parameters beyond the first 200" in p for p in problems)
    assert any("24 optimizers beyond the first 6" in p for p in problems)
    setup, problems = from_query({"optimizers": ",".join(["gd"] * 300)})
    assert setup.runs == Setup().runs and "longer than" in problems[0]
    setup, problems = from_query({"surface": "x" * 10_000})
    assert setup.surface == "rosenbrock" and problems


def test_start_outside_the_map_is_moved_inside():
    setup, problems = from_query({"surface": "rosenbrock", "start": "50,-50"})
    (_, x1), (y0, _) = landscapes.get("rosenbrock").domain
    assert setup.start == (x1, y0) and "outside the map" in problems[0]


def test_batch_on_an_analytic_surface_is_ignored():
    setup, problems = from_query({"surface": "rosenbrock", "batch": "8"})
    assert setup.batch == 0 and "dataset" in problems[0]


keys = st.sampled_from(["surface", "optimizers", "steps", "start", "noise", "seed", "batch", "condition",
                        "adam.lr", "gd.lr", "adam.schedule", "adam.gamma", "multiples", "speed", "n"])
values = st.one_of(st.text(max_size=50), st.floats(allow_nan=True).map(str),
                   st.sampled_from(["adam,gd", "regression", "elongated_bowl", "inf", "-0", "1e308", ","]))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.one_of(keys, st.text(max_size=20)), values, max_size=20))
def test_any_link_gives_a_usable_setup(query):
    setup, problems = from_query(query)
    assert isinstance(problems, list)
    surface = setup.make_surface()  # valid by construction
    x, y = setup.start_point()
    (x0, x1), (y0, y1) = surface.domain
    assert x0 <= x <= x1 and y0 <= y <= y1 and math.isfinite(x) and math.isfinite(y)
    assert 1 <= len(setup.runs) <= MAX_RUNS
    for r in setup.runs:
        r.optimizer()  # every setting passes the core's own checks
    assert from_query(to_query(setup))[0] == setup


def test_custom_formula_link_round_trip():
    query = {"surface": "custom", "f": "(1-x)^2 + 100*(y-x^2)^2", "domain": "-2,2,-1,3", "steps": "50"}
    setup, problems = from_query(query)
    assert problems == []
    s = setup.make_surface()
    assert s.domain == ((-2.0, 2.0), (-1.0, 3.0))
    assert np.allclose(s.f([[0.5, 0.2]]), landscapes.get("rosenbrock").f([[0.5, 0.2]]))
    assert from_query(to_query(setup)) == (setup, [])


@pytest.mark.parametrize(("query", "fragment"), [
    ({"surface": "custom"}, "needs a formula"),
    ({"surface": "custom", "f": "__import__('os')"}, "is not allowed"),
    ({"surface": "custom", "f": "exec(x)"}, "unknown function"),
    ({"surface": "custom", "f": "x^2", "domain": "3,1,0,1"}, "domain=3,1,0,1"),
    ({"surface": "custom", "f": "x^2", "domain": "nope"}, "four numbers"),
])
def test_bad_custom_links_fall_back_with_a_message(query, fragment):
    setup, problems = from_query(query)
    assert any(fragment in p for p in problems), problems
    setup.make_surface()  # still usable


def test_a_bad_formula_is_reported_under_f_and_a_good_domain_not_at_all():
    """The reviewer's link: the formula is the problem, the domain is fine; the message says so
    in words and names the surface shown instead."""
    setup, problems = from_query({"surface": "custom", "f": "sin(x)*z", "domain": "-2,2,-2,2"})
    assert setup.surface == "rosenbrock"
    (problem,) = problems
    assert problem.startswith("f='sin(x)*z' (unknown name 'z'")
    assert problem.endswith("showing Rosenbrock instead)")
    assert "domain" not in problem and "((" not in problem
    # a bad domain for a good formula: said in words, the formula kept
    setup, (problem,) = from_query({"surface": "custom", "f": "x^2 + y^2", "domain": "3,1,0,1"})
    assert setup.surface == "custom" and setup.surface_params["domain"] == ((-3.0, 3.0), (-3.0, 3.0))
    assert problem.startswith("domain=3,1,0,1 (")
    assert problem.endswith("using x from -3 to 3, y from -3 to 3)")


def test_the_open_panel_is_in_the_link():
    from descent_lab.setup import PANELS
    for key in PANELS:
        setup, problems = from_query({"panel": key})
        assert not problems and setup.panel == key and to_query(setup)["panel"] == key
    setup, problems = from_query({"panel": "<script>"})
    assert setup.panel == "" and "panel" not in to_query(setup)
    assert any("panel='<script>'" in p for p in problems)


def test_keras_form_round_trip():
    """A run in Keras's form is in the link (adam.form=keras) and comes back; a form an optimizer does
    not have is refused in words."""
    setup = Setup(runs=(RunSpec("adam", optimizers.rule("adam").defaults(), form="keras"), run_spec("adam"),
                        RunSpec("adagrad", optimizers.rule("adagrad").defaults(), form="keras")))
    q = to_query(setup)
    assert q["adam.form"] == "keras" and "adam2.form" not in q and q["adagrad.form"] == "keras"
    assert from_query(q) == (setup, [])
    assert setup.runs[0].optimizer().rule.form == "keras"
    again, problems = from_query({"optimizers": "momentum,adam", "momentum.form": "keras", "adam.form": "tf"})
    assert [r.form for r in again.runs] == ["pytorch", "pytorch"]
    assert any("momentum.form" in p for p in problems) and any("adam.form" in p for p in problems)


def test_spelt_out_is_the_same_setup_with_start_and_surface_written():
    """A Learn page's Playground link is the address the Playground writes for it (spelt_out), so following
    it adds one history entry; spelling out changes nothing the runs use."""
    from descent_lab.presets import PRESETS, from_link
    from descent_lab.setup import spelt_out

    for p in PRESETS.values():
        setup = p.setup()
        out = spelt_out(setup)
        assert out.start is not None and out.start_point() == setup.start_point()
        assert out.make_surface().params == setup.make_surface().params
        assert out.runs == setup.runs and out.steps == setup.steps and out.lesson == setup.lesson
        assert spelt_out(out) == out
        q = to_query(out)
        assert "start" in q and all(k in q for k in out.surface_params)
        assert from_link(q) == (out, [])
