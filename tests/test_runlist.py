"""The run-list (descent_lab.runlist): runs to a page's widget state and back, against the link setup
(descent_lab.setup), and its colours; the Networks page keeps colours on a switch as the Playground does."""

from __future__ import annotations

from pathlib import Path

from conftest import ok
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

import optimizers
from descent_lab import networks as dn
from descent_lab.runlist import PALETTE, RunList, normal, run_colors
from descent_lab.setup import MAX_RUNS, QueryReader, RunSpec, forms, read_runs, runs_query
from optimizers import schedules
from viz.stage import unpack

ROOT = Path(__file__).resolve().parent.parent


@st.composite
def run_specs(draw) -> RunSpec:
    """Any run the widgets can hold: a known optimizer, every setting inside its range (on or off its
    slider's grid), any schedule with or without a warm-up, any form it has."""
    name = draw(st.sampled_from(optimizers.names()))
    rule = optimizers.rule(name)

    def value(p):
        v = draw(st.floats(p.lo, p.hi, allow_nan=False))
        return p.clamp(v)

    hyper = {p.name: value(p) for p in rule.params}
    kind = draw(st.sampled_from(schedules.KINDS))
    sched = {"kind": kind, **{k: value(schedules.PARAMS[k]) for k in schedules.USES[kind]}}
    if draw(st.booleans()):
        sched["warmup"] = draw(st.integers(1, 200))
        sched["warmup_start"] = value(schedules.PARAMS["warmup_start"])
    return RunSpec(name, hyper, sched, draw(st.sampled_from(forms(name))))


run_lists = st.lists(run_specs(), min_size=1, max_size=MAX_RUNS)


@settings(max_examples=150, deadline=None)
@given(run_lists, st.sampled_from(["", "net."]))
def test_state_round_trip_through_the_link(runs, prefix):
    """runs -> widget state -> runs -> link -> runs: every step gives the same runs back."""
    rl = RunList(prefix)
    held = rl.from_state(rl.to_state(runs))
    assert held == tuple(normal(r) for r in runs)
    r = QueryReader(runs_query(held))
    linked = read_runs(r.q["optimizers"], r)
    assert r.problems == []
    assert tuple(normal(s) for s in linked) == held
    assert rl.from_state(rl.to_state(linked)) == held


@settings(max_examples=60, deadline=None)
@given(run_lists, run_lists)
def test_loading_replaces_every_setting_of_the_runs_before(before, after):
    """A setup loaded over another keeps nothing of it (a warm-up, a schedule, a form left behind
    would change the loaded runs)."""
    rl, state = RunList("p."), {"p.other": 1}
    rl.load(state, before)
    state[rl.colors_key] = {0: ("gd", "#123456")}
    rl.load(state, after)
    assert state == {"p.other": 1, **rl.to_state(after)}


def test_add_and_remove():
    rl = RunList()
    state = rl.to_state([RunSpec("gd"), RunSpec("adam")])
    rl.remove(state, 0)
    rl.add(state)
    assert rl.ids(state) == [1, 2] and state["r2.opt"] == "nesterov"
    assert rl.from_state(state)[1] == normal(RunSpec("nesterov"))  # a new run: its defaults
    for _ in range(MAX_RUNS):
        rl.add(state)
    assert len(rl.ids(state)) == MAX_RUNS
    for i in list(rl.ids(state)):
        rl.remove(state, i)
    assert rl.ids(state) == [6]  # the last run stays


def test_a_switch_recolours_no_other_run():
    rl = RunList()
    state = rl.to_state([RunSpec("gd"), RunSpec("momentum"), RunSpec("adam")])
    first = rl.colors(state)
    assert first == run_colors(["gd", "momentum", "adam"]) == [
        optimizers.rule(n).color for n in ("gd", "momentum", "adam")]
    state["r0.opt"] = "adam"
    switched = rl.colors(state)
    assert switched[1:] == first[1:] and switched[0] in PALETTE and switched[0] not in first[1:]
    state["r0.opt"] = "gd"
    assert rl.colors(state) == first


def test_a_switch_on_the_networks_page_recolours_no_other_run():
    """The Networks page's runs: Run 1 GD -> Adam keeps Run 3's Adam colour on the stage."""
    query = {"data": "xor", "n": "100", "hidden": "6", "steps": "20", "optimizers": "gd,momentum,adam"}
    at = AppTest.from_file(str(ROOT / "app_pages" / "networks.py"), default_timeout=120)
    at.query_params.update(query)
    ok(at)

    def path_colors() -> list[str]:
        (element,) = at.get("bidi_component")  # the Networks stage and the runs it was sent
        return [r["color"] for r in unpack(element.proto.bytes)["runs"]]

    before = path_colors()
    assert before == run_colors(["gd", "momentum", "adam"])
    at.selectbox(key="net.r0.opt").set_value("adam")
    ok(at)
    after = path_colors()
    assert after[1:] == before[1:] and after[0] not in before[1:]
    link = {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert [r.name for r in dn.from_query(link)[0].runs] == ["adam", "momentum", "adam"]
