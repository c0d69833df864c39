"""Named setups: the lessons of the Learn pages and the classic comparisons, each a Playground
link with a question and its answer (tests/test_lessons.py checks every answer on the runs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import optimizers

from .setup import LESSON_TEXT, VIEW_FLAGS, Setup, from_query, to_query


@dataclass(frozen=True)
class Preset:
    """A lesson as a link: its title, one line on what it shows, its query, the question it asks,
    the answer the runs give, where it comes from (a Learn page, or "" for a classic comparison)
    and, where its Learn page names the runs, those names."""

    key: str
    title: str
    shows: str
    query: dict
    question: str = ""
    answer: str = ""
    page: str = ""
    names: tuple[str, ...] = ()
    speed: str = Setup.speed  # its playback speed (setup.SPEEDS): a pace to talk over for its steps

    def setup(self) -> Setup:
        setup, problems = from_query(self.full_query(), (self.key,))
        assert not problems, problems  # presets are ours: they must parse cleanly
        return setup

    def full_query(self) -> dict:
        """The query with the lesson itself (lesson=key): the Playground shows its question; and its speed."""
        pace = {"speed": self.speed} if self.speed != Setup.speed else {}
        return {**self.query, **pace, "lesson": self.key}

    def link(self) -> str:
        """Relative URL of the Playground showing this preset."""
        return "/?" + urlencode(self.full_query())

    def run_names(self) -> tuple[str, ...]:
        """Each run's name as the lesson's page says it: its own names, else the optimizers'."""
        if self.names:
            return self.names
        return tuple(optimizers.rule(r.name).label for r in self.setup().runs)

    def matches(self, setup: Setup) -> bool:
        """Whether ``setup`` computes the lesson's runs (view settings aside), compared as links
        (so a run's schedule {"kind": "constant"} equals its widgets' {"kind": "constant", "warmup": 0})."""
        def runs_part(s: Setup) -> dict:
            q = to_query(s)
            texts = [f"lesson.{k}" for k in LESSON_TEXT]  # the lecturer's own lesson
            for k in (*VIEW_FLAGS, "speed", "panel", "lesson", "start", *texts):
                q.pop(k, None)
            return q

        own = self.setup()
        return runs_part(own) == runs_part(setup) and own.start_point() == setup.start_point()


PRESETS = {p.key: p for p in (
    Preset("learning-rate", "Too small, too large, just under the limit",
           "Three learning rates for gradient descent on the same bowl.",
           {"surface": "elongated_bowl", "condition": "5", "optimizers": "gd,gd,gd", "steps": "60",
            "gd.lr": "0.02", "gd2.lr": "0.38", "gd3.lr": "0.41", "start": "-2.8,1.5"},
           speed="0.5x",
           question="Three learning rates for gradient descent on the same bowl: which one arrives, and "
           "what do the other two do?",
           answer="Just under 2/L (η = 0.38, under 2/L = 0.4) zig-zags across the bowl, each zig "
           "smaller than the last, and arrives, though slowly: η = 1/3 would arrive sooner. Too small "
           "(0.02) is safe but still far from the minimum after 60 "
           "steps. Too large (0.41, just over 2/L) overshoots by more at every step: the zig-zag grows and "
           "the run flies off.",
           page="Learn 1", names=("Too small", "Just under 2/L", "Too large")),
    Preset("one-rate", "One learning rate for all parameters",
           "On a long, narrow bowl the steep direction caps the rate and the flat one crawls; "
           "per-parameter rates fix it.",
           {"surface": "elongated_bowl", "condition": "50", "optimizers": "gd,rmsprop,adam", "steps": "80",
            "gd.lr": "0.038", "rmsprop.lr": "0.05", "adam.lr": "0.1", "start": "-2.8,1.5"},
           speed="0.5x",
           question="After 80 steps on a long, narrow bowl, which runs have reached the minimum?",
           answer="RMSProp and Adam: each parameter gets its own rate, and both end within 0.03 of the "
           "minimum. Gradient descent, at 0.038, just under the largest stable rate 2/50, is still more "
           "than 0.1 away: the steep direction caps its rate, so it crawls along the flat one.",
           page="Learn 1"),
    Preset("local-minima", "Local minima",
           "Gradient descent settles in the nearest well; momentum rolls over the rim into the deepest.",
           {"surface": "wells", "optimizers": "gd,momentum", "steps": "400", "gd.lr": "0.1",
            "momentum.lr": "0.1", "momentum.beta": "0.9", "start": "3.4,-1.6", "multiples": "1"},
           speed="2x",
           question="Same start, same learning rate: which well does each run end in?",
           answer="Gradient descent settles in the shallow well nearest its start and stays. Momentum "
           "arrives there with speed, rolls over the rim and ends in the deepest well (the star at the top "
           "right).",
           page="Learn 1 and 4"),
    Preset("saddle", "Saddle points",
           "Near a saddle the gradient almost vanishes: gradient descent lingers, momentum and "
           "Adam escape sooner.",
           {"surface": "saddle", "optimizers": "gd,momentum,adam", "steps": "300", "gd.lr": "0.05",
            "momentum.lr": "0.05", "adam.lr": "0.05", "start": "0.001,1.8"},
           speed="2x",
           question="All three start just beside a saddle point: which one leaves it first?",
           answer="Adam, at step 11 (more than 0.5 from the saddle along x), then momentum at step 37. "
           "Gradient descent lingers until step 131, more than three times longer: where the slope is "
           "almost zero, so are its steps.",
           page="Learn 1"),
    Preset("ravine", "Momentum in a ravine",
           "Gradient descent at its best single rate zig-zags from wall to wall of a narrow valley; "
           "momentum's velocity builds up along the floor while the swings across cancel, and it "
           "arrives about four times sooner.",
           {"surface": "elongated_bowl", "condition": "50", "optimizers": "gd,momentum", "steps": "150",
            "gd.lr": "0.0392", "momentum.lr": "0.035", "momentum.beta": "0.7", "start": "-2.8,1.5"},
           speed="0.5x",
           question="Which run reaches the minimum first, and how does each cross the valley?",
           answer="Momentum, about four times sooner: within 0.01 of the minimum from step 34, gradient "
           "descent only from step 144. Gradient descent zig-zags from wall to wall at every step; "
           "momentum's swings across never grow past its first and die out within about 20 steps, and its "
           "loss is below gradient descent's at every step.",
           page="Learn 4"),
    Preset("nesterov", "Nesterov looks ahead",
           "At the same η and β momentum and Nesterov both swing past the floor of a narrow valley; "
           "Nesterov's look-ahead brakes each swing.",
           {"surface": "elongated_bowl", "condition": "50", "optimizers": "momentum,nesterov_lookahead",
            "steps": "150", "momentum.lr": "0.01", "momentum.beta": "0.9", "nesterov_lookahead.lr": "0.01",
            "nesterov_lookahead.beta": "0.9", "start": "-2.8,1.5"},
           speed="0.5x",
           question="Same learning rate, same β: both swing past the valley floor. Which swings less, and "
           "which reaches the minimum first?",
           answer="Nesterov. Counting crossings of the floor by more than 0.02 either side, momentum crosses "
           "it 19 times and swings down to y = −1.26; Nesterov crosses it 2 times and only to y = −0.30. "
           "Nesterov is within 0.01 of the minimum from step 92, momentum from step 111.",
           page="Learn 5", names=("Momentum", "Nesterov")),
    Preset("adagrad-fades", "AdaGrad's rate fades, RMSProp's does not",
           "AdaGrad divides by the sum of all squared gradients so far; RMSProp by a moving average.",
           {"surface": "rosenbrock", "optimizers": "adagrad,rmsprop", "steps": "800", "adagrad.lr": "0.5",
            "rmsprop.lr": "0.01"},
           speed="4x",
           question="Which optimizer's step size keeps shrinking, and which ends closer to the minimum?",
           answer="AdaGrad's: its per-parameter rate only ever falls, and after 800 steps it is below "
           "RMSProp's in both directions. RMSProp ends closer to the minimum (about 0.55 away, AdaGrad "
           "about 1.7).",
           page="Learn 6 and 7"),
    Preset("adam-nadam", "Adam and Nadam on Rosenbrock",
           "Adam's bias-corrected steps start at about lr; Nadam's look-ahead on the first moment "
           "keeps it ahead of Adam at the same lr.",
           {"surface": "rosenbrock", "optimizers": "adam,nadam", "steps": "600",
            "adam.lr": "0.03", "nadam.lr": "0.03"},
           speed="2x",
           question="Same learning rate: which one is ahead, and from when?",
           answer="Nadam: its loss is below Adam's from step 11 to the end, and after 600 steps it is "
           "closer to the minimum (about 0.46 away, Adam about 0.88).",
           page="Learn 8"),

    Preset("first-look", "Gradient descent, momentum and Adam on Rosenbrock",
           "The Playground's opening comparison: the three best-known optimizers in a long, curved valley.",
           {"surface": "rosenbrock", "optimizers": "gd,momentum,adam", "steps": "500", "gd.lr": "0.001",
            "momentum.lr": "0.001", "adam.lr": "0.1"},
           speed="2x",
           question="Which run is closest to the minimum after 500 steps, and who leads on the way?",
           answer="Momentum, about 0.15 away, and it is closer than both others at steps 100, 200, 300 and "
           "500. Adam follows, about 0.2 away. Gradient descent, at the same rate as momentum, has "
           "moved only a little along the valley: still about 2.1 away."),
    Preset("beale-plateau", "Off Beale's plateau",
           "Beale's function is flat over a wide plateau and steep at its walls.",
           {"surface": "beale", "optimizers": "gd,momentum,adam", "steps": "500", "gd.lr": "0.01",
            "momentum.lr": "0.02", "adam.lr": "0.5"},
           speed="2x",
           question="Which run reaches the minimum first, and can gradient descent get there at all?",
           answer="Momentum, within 0.01 from step 118; Adam from step 248. Gradient descent never "
           "does: at every rate of its slider it ends at least 4 from the minimum, and from 0.05 up "
           "it diverges within 4 steps."),
)}


def from_link(query: Mapping) -> tuple[Setup, list[str]]:
    """The Playground setup a link describes, its lesson one of PRESETS (descent_lab.setup.from_query)."""
    return from_query(query, PRESETS)


def with_lesson(query: Mapping) -> dict:
    """A link's query; a bare lesson link (lesson= without optimizers= and surface=, like
    /?lesson=ravine) gets the lesson's own runs, surface and speed, as its full link and the picker
    give (what else the link says wins)."""
    q = dict(query)
    p = PRESETS.get(q.get("lesson", ""))
    if p is not None and "optimizers" not in q and "surface" not in q:
        return {**p.full_query(), **q}
    return q


def lesson_question(setup: Setup) -> str:
    """The heading of a slide of ``setup``: its lesson's title and question (the lecturer's own lesson
    if the link has one, else its PRESETS lesson), "" for no lesson."""
    own = setup.own_lesson
    p = PRESETS.get(setup.lesson)
    title, question = (own.title, own.question) if own else (p.title, p.question) if p else ("", "")
    return ": ".join(t for t in (title, question) if t)
