"""One run-list: a page's runs (optimizer, settings, schedule, form, colour) as flat widget state.

A page keeps its runs in a flat mapping (Streamlit's session state) under one prefix:

    <prefix>run_ids            the runs' ids, in order (an id is never reused while the page lives)
    <prefix>next_run           the next id
    <prefix>r<id>.opt          the optimizer's name
    <prefix>r<id>.<setting>    each of its settings (lr, beta, eps, ...)
    <prefix>r<id>.form         its form (optimizers.FORMS)
    <prefix>r<id>.sched        its schedule's kind, and <prefix>r<id>.sched.<setting> its settings
    <prefix>run.colors         the colours last given: {id: (optimizer, colour)}

``to_state`` writes RunSpecs there and ``from_state`` reads them back (every value checked
against the optimizer's and the schedule's Param specs), so the Playground and the Networks page
share one codec and the link setup (descent_lab.setup) stays the one place runs are parsed.
Colours: one per optimizer, and a run that keeps its optimizer keeps its colour, so switching one
run's optimizer never recolours another run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass

import optimizers
from optimizers import schedules

from .setup import MAX_RUNS, RunSpec, forms

#: Okabe-Ito, safe for colour-blind viewers (yellow left out: invisible on white)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: the optimizer of a run added with "Add run"
NEW_RUN = "nesterov"


def run_colors(names: Sequence[str], previous=None) -> list[str]:
    """The colour of each run of optimizers ``names`` (in order): one colour per optimizer, stable
    across edits. ``previous``: the last assignment, one ``(optimizer, colour)`` per run in the same
    order (None for a run that is new). A run that keeps its optimizer keeps its colour; any other
    run takes its optimizer's colour if no run holds it, else the first free palette colour.
    Without ``previous`` the earlier run of a repeated optimizer gets its colour."""
    previous = list(previous or ())
    previous += [None] * (len(names) - len(previous))
    colors: list[str | None] = [None] * len(names)
    for i, (name, prev) in enumerate(zip(names, previous, strict=False)):
        if prev is not None and prev[0] == name and prev[1] not in colors:
            colors[i] = prev[1]
    for i, name in enumerate(names):
        if colors[i] is None:
            own = optimizers.rule(name).color
            colors[i] = own if own not in colors else next((c for c in PALETTE if c not in colors), own)
    return colors


def lr_options(spec: RunSpec) -> list[float]:
    """The learning rates run ``spec``'s η slider offers, in order (its optimizer's η grid, with the run's
    own η put in place when it is off the grid): the run card's slider and the Networks stage's − / +."""
    return optimizers.rule(spec.name).lr.options(spec.hyper["lr"])


def schedule_settings(kind: str, warmup) -> tuple[str, ...]:
    """The settings a schedule of ``kind`` holds: its own, the warm-up, and the warm-up's start
    factor when there is a warm-up."""
    return (*schedules.USES[kind], "warmup", *(("warmup_start",) if warmup else ()))


def normal(spec: RunSpec) -> RunSpec:
    """``spec`` with every setting its optimizer and schedule have (defaults for those not given,
    each clamped to its range) and a form it can run in: the run as the widgets hold it."""
    rule = optimizers.rule(spec.name)
    hyper = {p.name: p.clamp(spec.hyper.get(p.name, p.default)) for p in rule.params}
    kind = spec.schedule.get("kind", "constant")
    warmup = schedules.PARAMS["warmup"].clamp(spec.schedule.get("warmup", 0))
    sched = {"kind": kind}
    for k in schedule_settings(kind, warmup):
        sched[k] = schedules.PARAMS[k].clamp(spec.schedule.get(k, schedules.PARAMS[k].default))
    return RunSpec(spec.name, hyper, sched, spec.form if spec.form in forms(spec.name) else "pytorch")


@dataclass(frozen=True)
class RunList:
    """The runs of one page, kept in a flat state under ``prefix`` (see the module's doc)."""

    prefix: str = ""

    @property
    def ids_key(self) -> str:
        return f"{self.prefix}run_ids"

    @property
    def colors_key(self) -> str:
        return f"{self.prefix}run.colors"

    def key(self, i: int, name: str) -> str:
        """The state key of run ``i``'s ``name`` (e.g. "opt", "lr", "sched", "sched.t_max")."""
        return f"{self.prefix}r{i}.{name}"

    def ids(self, state: Mapping) -> list[int]:
        return state[self.ids_key]

    def to_state(self, runs: Sequence[RunSpec]) -> dict:
        """``runs`` as state: ids 0, 1, ..., and every setting of each (see ``normal``)."""
        state: dict = {self.ids_key: list(range(len(runs))), f"{self.prefix}next_run": len(runs)}
        for i, r in enumerate(map(normal, runs)):
            state[self.key(i, "opt")] = r.name
            state.update({self.key(i, k): v for k, v in r.hyper.items()})
            state[self.key(i, "form")] = r.form
            state[self.key(i, "sched")] = r.schedule["kind"]
            state.update({self.key(i, f"sched.{k}"): v for k, v in r.schedule.items() if k != "kind"})
        return state

    def load(self, state: MutableMapping, runs: Sequence[RunSpec]) -> None:
        """Put ``runs`` into ``state``: the old runs' settings go, the colours start afresh."""
        old = f"{self.prefix}r"
        for k in [k for k in state if str(k).startswith(old) and str(k)[len(old):].split(".")[0].isdigit()]:
            del state[k]
        state.pop(self.colors_key, None)
        state.update(self.to_state(runs))

    def spec(self, state: Mapping, i: int, name: str | None = None) -> RunSpec:
        """Run ``i`` as ``state`` holds it (with optimizer ``name`` if given); missing or out-of-range
        values are the defaults or clamped."""
        name = name or state[self.key(i, "opt")]
        rule = optimizers.rule(name)
        hyper = {p.name: state.get(self.key(i, p.name), p.default) for p in rule.params}
        kind = state.get(self.key(i, "sched"), "constant")
        warmup = state.get(self.key(i, "sched.warmup"), 0)
        sched = {"kind": kind, **{k: state.get(self.key(i, f"sched.{k}"), schedules.PARAMS[k].default)
                                  for k in schedule_settings(kind, warmup)}}
        return normal(RunSpec(name, hyper, sched, state.get(self.key(i, "form"), "pytorch")))

    def from_state(self, state: Mapping) -> tuple[RunSpec, ...]:
        """Every run ``state`` holds, in order."""
        return tuple(self.spec(state, i) for i in self.ids(state))

    def set_lr(self, state: MutableMapping, choice) -> str:
        """Put ``choice`` {run: the run's place (0 first), value: η}, as a browser sent it, into
        ``state`` as that run's η (the key its card's slider reads) when η is one of the run's
        lr_options; returns "", or what was wrong in words (and then ``state`` is unchanged)."""
        ids = self.ids(state)
        if not isinstance(choice, Mapping):
            return "the stage sent no run and learning rate"
        slot, lr = choice.get("run"), choice.get("value")
        if isinstance(slot, bool) or not isinstance(slot, int) or slot not in range(len(ids)):
            return f"the stage named no run of the {len(ids)} here (it sent {str(slot)[:20]!r})"
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not math.isfinite(lr):
            return f"η must be a number, not {str(lr)[:20]!r}"
        options = lr_options(self.spec(state, ids[slot]))
        if lr not in options:
            return (f"η = {lr:g} is not one of run {slot + 1}'s learning rates (its slider's steps, "
                    f"{options[0]:g} to {options[-1]:g})")
        state[self.key(ids[slot], "lr")] = float(lr)
        return ""

    def add(self, state: MutableMapping, name: str = NEW_RUN) -> None:
        """A new run of ``name`` at the end (its settings the defaults), up to MAX_RUNS."""
        ids, nxt = self.ids(state), f"{self.prefix}next_run"
        if len(ids) < MAX_RUNS:
            state[self.key(state[nxt], "opt")] = name
            ids.append(state[nxt])
            state[nxt] += 1

    def remove(self, state: MutableMapping, i: int) -> None:
        """Run ``i`` goes (the last run stays)."""
        if len(self.ids(state)) > 1:
            self.ids(state).remove(i)

    def colors(self, state: MutableMapping) -> list[str]:
        """Each run's colour (run_colors, given the last assignment), remembered in ``state``."""
        ids = self.ids(state)
        names = [state[self.key(i, "opt")] for i in ids]
        last = state.get(self.colors_key, {})
        colors = run_colors(names, [last.get(i) for i in ids])
        state[self.colors_key] = dict(zip(ids, zip(names, colors, strict=True), strict=True))
        return colors
