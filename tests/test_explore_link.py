"""Explore's link: state -> query -> state is exact, hostile links never raise and say what was ignored."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
import optimizers
from descent_lab import explore as dx
from descent_lab import explore_link as el
from descent_lab.explore_link import ExploreView, from_query, to_query


def test_empty_link_is_the_default_view():
    assert from_query({}) == (ExploreView(), [])


VIEWS = [
    ExploreView(section="sweep", surface="elongated_bowl", surface_params={"condition": 37.5},
                start=(-2.25, 1.125), steps=300, sweep_opt="momentum", sweep_x="beta", sweep_y="lr",
                x_range=(0.5, 0.999), y_range=(0.001, 0.1), cells=25, metric="steps", sweep_tol=0.05),
    ExploreView(section="fair", surface="himmelblau", steps=150, fair=("adam", "nesterov", "gd")),
    ExploreView(section="basins", surface="wells", basins=("gd", "adam"), starts=50, basin_tol=0.01,
                basin_lrs={"gd": 0.0123, "adam": 0.05}),
    ExploreView(section="noise", surface="regression", noise_opt="adam", noise_lr=0.003, sigma=0.3, batch=16,
                runs=35),
    ExploreView(section="noise", surface="rastrigin", noise_opt="gd", noise_lr=0.02, sigma=3.0, runs=200),
]


def test_round_trip_is_exact():
    for view in VIEWS:
        again, problems = from_query(to_query(view))
        assert problems == [] and again == view, view.section


def test_a_link_keeps_only_the_open_section():
    view = ExploreView(section="fair", fair=("adam",), cells=15, starts=25)
    q = to_query(view)
    assert "cells" not in q and "starts" not in q and q["optimizers"] == "adam"
    assert from_query(q) == (ExploreView(section="fair", fair=("adam",)), [])  # other sections at defaults


def test_sweep_link_example():
    view, problems = from_query({"section": "sweep", "opt": "gd", "x": "lr", "y": "noise",
                                 "xrange": "0.001,1", "yrange": "10,0.01", "cells": "20"})
    assert problems == []
    assert (view.sweep_opt, view.sweep_x, view.sweep_y, view.cells) == ("gd", "lr", "noise", 20)
    assert view.x_range == (0.001, 1.0) and view.y_range == (0.01, 10.0)  # lower first


def test_hostile_values_are_reported_and_replaced():
    view, problems = from_query({
        "section": "basins", "surface": "nope", "steps": "abc", "start": "nan,1",
        "optimizers": "adam,evil(),gd",
        "starts": "1e9", "tol": "NaN", "adam.lr": "1e300", "junk": "1",
    })
    text = " | ".join(problems)
    for fragment in ("surface='nope'", "steps='abc'", "start=nan,1", "'evil()'", "starts=1e9 (outside",
                     "tol=NaN", "adam.lr=1e300 (outside", "unknown parameters: junk"):
        assert fragment in text, (fragment, text)
    assert view.surface == el.BASIN_SURFACE and view.steps == optimizers.STEPS.default and view.start is None
    assert view.basins == ("adam", "gd") and view.starts == el.STARTS.hi
    assert view.basin_lrs == {"adam": optimizers.rule("adam").lr.hi}


def test_values_off_the_sliders_are_snapped_with_a_note():
    view, problems = from_query({"section": "sweep", "cells": "23", "tol": "0.02", "opt": "adam", "x": "lr",
                                 "y": "lr", "xrange": "0.00033,2"})
    text = " | ".join(problems)
    assert view.cells == 25 and "cells=23" in text
    assert view.sweep_tol in el.TOLS and "tol=0.02" in text
    assert view.sweep_y != "lr" and "y='lr'" in text  # both axes the same setting: y falls back
    opts = dx.sweep_param("adam", "lr").sweep_options()
    assert set(view.x_range) <= set(opts) and "xrange=" in text


def test_noise_settings_that_need_a_dataset():
    view, problems = from_query({"section": "noise", "surface": "rosenbrock", "batch": "8", "sigma": "0"})
    assert view.batch == ExploreView.batch and view.sigma > 0
    assert any("batch" in p for p in problems) and any("sigma=0" in p for p in problems)


keys = st.sampled_from(["section", "surface", "steps", "start", "condition", "opt", "x", "y", "xrange",
                        "yrange", "cells", "metric", "tol", "optimizers", "starts", "gd.lr", "adam.lr", "lr",
                        "sigma", "batch", "runs", "n"])
values = st.one_of(st.text(max_size=40), st.floats(allow_nan=True, allow_infinity=True).map(str),
                   st.sampled_from(["sweep", "fair", "basins", "noise", "adam,gd", "regression", "wells",
                                    "lr", "beta1", "noise", "0.001,1", "1e308,-1e308", "nan,nan", "inf", "-0",
                                    "1e308", ",", "steps"]))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.one_of(keys, st.text(max_size=20)), values, max_size=20))
def test_any_link_gives_a_usable_view(query):
    view, problems = from_query(query)
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
    assert view.section in el.SECTIONS
    surface = landscapes.get(view.surface, **view.surface_params)
    if view.start is not None:
        (x0, x1), (y0, y1) = surface.domain
        x, y = view.start
        assert math.isfinite(x) and math.isfinite(y) and x0 <= x <= x1 and y0 <= y <= y1
    optimizers.STEPS.check(view.steps)
    names = {p.name: p for p in dx.sweep_settings(view.sweep_opt)}
    assert view.sweep_x in names and view.sweep_y in names and view.sweep_x != view.sweep_y
    for setting, pair in ((view.sweep_x, view.x_range), (view.sweep_y, view.y_range)):
        if pair is not None:
            assert pair[0] <= pair[1] and set(pair) <= set(names[setting].sweep_options())
    assert view.cells in el.CELLS.grid and view.metric in el.METRICS and view.sweep_tol in el.TOLS
    assert view.starts in el.STARTS.grid and view.basin_tol in el.TOLS and view.runs in el.RUNS.grid
    for n in (*view.fair, *view.basins):
        optimizers.rule(n)
    assert len(view.fair) <= 6 and len(view.basins) <= 6
    for n, lr in view.basin_lrs.items():
        optimizers.rule(n).lr.check(lr)
    if view.noise_lr is not None:
        optimizers.rule(view.noise_opt).lr.check(view.noise_lr)
    assert view.sigma is None or view.sigma in el.SIGMA.grid
    assert from_query(to_query(view)) == (view, [])


def test_basins_without_a_surface_open_on_several_minima():
    view, problems = from_query({"section": "basins"})
    assert problems == [] and view.surface == el.BASIN_SURFACE
    assert len(landscapes.get(view.surface).minima) >= 2
    assert from_query({"section": "basins", "surface": "rosenbrock"})[0].surface == "rosenbrock"  # asked for
    assert from_query({"section": "sweep"})[0].surface == "rosenbrock"
