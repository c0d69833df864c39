"""Named setups: the lessons of the Learn pages, each a Playground link."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from .setup import Setup, from_query


@dataclass(frozen=True)
class Preset:
    """A lesson as a link: its title, one line on what it shows, and its query."""

    key: str
    title: str
    shows: str
    query: dict

    def setup(self) -> Setup:
        setup, problems = from_query(self.query)
        assert not problems, problems  # presets are ours: they must parse cleanly
        return setup

    def link(self) -> str:
        """Relative URL of the Playground showing this preset."""
        return "/?" + urlencode(self.query)


PRESETS = {p.key: p for p in (
    Preset("learning-rate", "Too small, too large, just right",
           "Three learning rates for gradient descent on the same bowl.",
           {"surface": "elongated_bowl", "condition": "5", "optimizers": "gd,gd,gd", "steps": "60",
            "gd.lr": "0.02", "gd2.lr": "0.38", "gd3.lr": "0.41", "start": "-2.8,1.5"}),
    Preset("one-rate", "One learning rate for all parameters",
           "On a long, narrow bowl the steep direction caps the rate and the flat one crawls; "
           "per-parameter rates fix it.",
           {"surface": "elongated_bowl", "condition": "50", "optimizers": "gd,rmsprop,adam", "steps": "80",
            "gd.lr": "0.038", "rmsprop.lr": "0.05", "adam.lr": "0.1", "start": "-2.8,1.5"}),
    Preset("local-minima", "Local minima",
           "Gradient descent settles in the nearest well; momentum rolls over the rim into the deepest.",
           {"surface": "wells", "optimizers": "gd,momentum", "steps": "400", "gd.lr": "0.1",
            "momentum.lr": "0.1", "momentum.beta": "0.9", "start": "3.4,-1.6", "multiples": "1"}),
    Preset("saddle", "Saddle points",
           "Near a saddle the gradient almost vanishes: gradient descent lingers, momentum and "
           "Adam escape sooner.",
           {"surface": "saddle", "optimizers": "gd,momentum,adam", "steps": "300", "gd.lr": "0.05",
            "momentum.lr": "0.05", "adam.lr": "0.05", "start": "0.001,1.8"}),
    Preset("ravine", "Momentum in a ravine",
           "Gradient descent at its best single rate zig-zags from wall to wall of a narrow valley; "
           "momentum's velocity builds up along the floor while the swings across cancel, and it "
           "arrives about four times sooner.",
           {"surface": "elongated_bowl", "condition": "50", "optimizers": "gd,momentum", "steps": "150",
            "gd.lr": "0.0392", "momentum.lr": "0.035", "momentum.beta": "0.7", "start": "-2.8,1.5"}),
    Preset("nesterov", "Nesterov looks ahead",
           "At the same beta, Nesterov's look-ahead gradient damps the oscillation of momentum.",
           {"surface": "elongated_bowl", "condition": "50", "optimizers": "momentum,nesterov", "steps": "150",
            "momentum.lr": "0.02", "momentum.beta": "0.95", "nesterov.lr": "0.02", "nesterov.beta": "0.95",
            "start": "-2.8,1.5"}),
    Preset("adagrad-fades", "AdaGrad's rate fades, RMSProp's does not",
           "AdaGrad divides by the sum of all squared gradients so far; RMSProp by a moving average.",
           {"surface": "rosenbrock", "optimizers": "adagrad,rmsprop", "steps": "800", "adagrad.lr": "0.5",
            "rmsprop.lr": "0.01"}),
    Preset("adam-nadam", "Adam and Nadam on Rosenbrock",
           "Adam's bias-corrected steps start at about lr; Nadam's look-ahead on the first moment "
           "keeps it ahead of Adam at the same lr.",
           {"surface": "rosenbrock", "optimizers": "adam,nadam", "steps": "600",
            "adam.lr": "0.03", "nadam.lr": "0.03"}),
)}
