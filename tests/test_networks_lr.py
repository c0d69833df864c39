"""The Networks stage's − / + on the shown run's η: the stage is sent each run's η and the values its
card's slider offers (descent_lab.runlist.lr_options, one definition), and what it sends back is put into
the run's slider key by RunList.set_lr only when it is one of those values (else a message, nothing lost)."""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_networks_app import SMALL, page, stage

import optimizers
from descent_lab import networks as dn
from descent_lab.runlist import RunList, lr_options
from descent_lab.setup import run_spec

RUNS = RunList("net.")
SPECS = (run_spec("gd", lr=0.5), run_spec("momentum", lr=0.1), run_spec("adam", lr=0.013))  # 0.013: off-grid


def state() -> dict:
    return RUNS.to_state(SPECS)


def lr_of(s: dict, slot: int) -> float:
    return s[RUNS.key(RUNS.ids(s)[slot], "lr")]


def test_lr_options_are_the_optimizers_grid_with_the_runs_own_value_in_order():
    grid = list(optimizers.rule("gd").lr.grid)
    assert lr_options(SPECS[0]) == grid and 0.5 in grid
    off = lr_options(SPECS[2])
    assert 0.013 in off and off == sorted(off) and set(off) - {0.013} == set(optimizers.rule("adam").lr.grid)


@pytest.mark.parametrize("slot", [0, 1, 2])
def test_a_step_to_a_neighbour_on_the_grid_sets_that_runs_slider_key_only(slot):
    s = state()
    options = lr_options(SPECS[slot])
    j = options.index(SPECS[slot].hyper["lr"])
    for value in (options[j + 1], options[j - 1]):
        before = copy.deepcopy(s)
        assert RUNS.set_lr(s, {"run": slot, "value": value}) == ""
        assert lr_of(s, slot) == value and isinstance(lr_of(s, slot), float)
        assert {k for k in s if s[k] != before[k]} <= {RUNS.key(RUNS.ids(s)[slot], "lr")}
        assert RUNS.from_state(s)[slot].hyper["lr"] == value  # what the page trains and writes to the link


def test_a_step_finds_the_run_by_its_place_after_a_run_was_removed():
    s = state()
    RUNS.remove(s, 0)  # ids [1, 2]: place 0 is the momentum run
    assert RUNS.set_lr(s, {"run": 0, "value": 0.2}) == ""
    assert s[RUNS.key(1, "lr")] == 0.2 and s[RUNS.key(2, "lr")] == 0.013


@pytest.mark.parametrize(("choice", "words"), [
    ({"run": 0, "value": 0.3}, "is not one of run 1's learning rates"),  # between 0.2 and 0.5
    ({"run": 0, "value": 0.013}, "is not one of run 1's"),  # run 3's own value, not run 1's
    ({"run": 0, "value": 100.0}, "1e-06 to 10)"),  # beyond the grid: the message gives its ends
    ({"run": 3, "value": 0.5}, "no run of the 3"),
    ({"run": -1, "value": 0.5}, "no run of the 3"),
    ({"run": 1.0, "value": 0.5}, "no run"),
    ({"run": True, "value": 0.5}, "no run"),
    ({"run": "0", "value": 0.5}, "no run"),
    ({"run": 0, "value": "0.5"}, "η must be a number"),
    ({"run": 0, "value": math.nan}, "η must be a number"),
    ({"run": 0, "value": math.inf}, "η must be a number"),
    ({"run": 0, "value": None}, "η must be a number"),
    ({"run": 0}, "η must be a number"),
    ("<b>0.5</b>", "no run and learning rate"),
    (None, "no run and learning rate"),
    ([0, 0.5], "no run and learning rate"),
])
def test_a_bad_step_is_refused_in_words_and_changes_nothing(choice, words):
    s = state()
    before = copy.deepcopy(s)
    problem = RUNS.set_lr(s, choice)
    assert words in problem
    assert s == before


def test_the_message_gives_the_grids_ends():
    problem = RUNS.set_lr(state(), {"run": 0, "value": 0.3})
    grid = optimizers.rule("gd").lr.grid
    assert f"{grid[0]:g} to {grid[-1]:g}" in problem


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    JSONISH,
    st.fixed_dictionaries({"run": JSONISH, "value": JSONISH}),
    st.fixed_dictionaries({"run": st.integers(-3, 5),
                           "value": st.floats() | st.sampled_from(lr_options(SPECS[2]))}),
))
def test_any_value_the_browser_could_send_is_applied_or_refused_in_words(choice):
    s = state()
    before = copy.deepcopy(s)
    problem = RUNS.set_lr(s, choice)
    changed = {k for k in s if s[k] != before[k]}
    if problem:
        assert s == before and problem.isprintable()
    else:
        slot = choice["run"]
        assert changed <= {RUNS.key(slot, "lr")}
        assert lr_of(s, slot) == choice["value"] and choice["value"] in lr_options(SPECS[slot])


def test_the_stage_is_sent_each_runs_eta_and_its_card_sliders_values():
    at = page({**SMALL, "adam.lr": "0.013"})  # adam's η off the grid: its slider and the stage add it
    runs = stage(at)["runs"]
    for slot, (key, lr) in enumerate([("net.r0.lr", 0.5), ("net.r1.lr", 0.013)]):
        slider = at.select_slider(key=key)
        assert runs[slot]["lr"] == lr == slider.value
        assert runs[slot]["lrs"] == lr_options(dn.from_query(SMALL | {"adam.lr": "0.013"})[0].runs[slot])
        assert [f"{v:g}" for v in runs[slot]["lrs"]] == list(slider.options)  # the card's slider's values
