"""Two-class data sets in the plane, generated and seeded (no downloads).

    from landscapes import datasets
    train, test = datasets.train_test("moons", n=400, noise=0.2, seed=0)
    train.x  # (400, 2) float64 points
    train.y  # (400,) float64 labels, 0.0 or 1.0

Each set is a clean shape plus Gaussian noise of standard deviation ``noise`` on
both coordinates (as scikit-learn's make_moons). The classes are balanced
(n // 2 of class 0, the rest class 1) and the samples come in shuffled order.
Shapes are centred on the origin and span about [-2, 2] x [-2, 2].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Samples:
    """Labelled points: x (n, 2), y (n,) with values 0.0 and 1.0."""

    x: np.ndarray
    y: np.ndarray

    @property
    def n(self) -> int:
        return len(self.x)


def _moons(rng, n0, n1):
    """Two interleaved half circles of radius 1 (scikit-learn's make_moons, centred)."""
    t0, t1 = rng.uniform(0.0, math.pi, n0), rng.uniform(0.0, math.pi, n1)
    outer = np.stack([np.cos(t0), np.sin(t0)], -1)
    inner = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], -1)
    return np.concatenate([outer, inner]) - [0.5, 0.25]


def _circles(rng, n0, n1):
    """A circle of radius 1.5 around one of radius 0.75."""
    t0, t1 = rng.uniform(0.0, 2 * math.pi, n0), rng.uniform(0.0, 2 * math.pi, n1)
    return np.concatenate([1.5 * np.stack([np.cos(t0), np.sin(t0)], -1),
                           0.75 * np.stack([np.cos(t1), np.sin(t1)], -1)])


def _spirals(rng, n0, n1):
    """Two interleaved spiral arms, 1.5 turns each, out to radius 2."""
    arms = []
    for k, m in enumerate((n0, n1)):
        s = np.sqrt(rng.uniform(0.0, 1.0, m))  # even density along the arm's area
        angle = s * 3 * math.pi + k * math.pi
        arms.append(2.0 * s[:, None] * np.stack([np.cos(angle), np.sin(angle)], -1))
    return np.concatenate(arms)


def _xor(rng, n0, n1):
    """Points in the four quadrants of [-2, 2]^2 (0.1 away from the axes); class 1 where x * y > 0."""
    def quadrants(m, signs):
        pts = rng.uniform(0.1, 2.0, (m, 2))
        which = rng.integers(0, 2, m)
        return pts * np.asarray(signs, dtype=float)[which]

    return np.concatenate([quadrants(n0, [[1, -1], [-1, 1]]), quadrants(n1, [[1, 1], [-1, -1]])])


def _blobs(rng, n0, n1):
    """Two discs of radius 0.8 around (-1, -1) and (1, 1): linearly separable without noise."""
    def disc(m, centre):
        r, t = 0.8 * np.sqrt(rng.uniform(0.0, 1.0, m)), rng.uniform(0.0, 2 * math.pi, m)
        return centre + r[:, None] * np.stack([np.cos(t), np.sin(t)], -1)

    return np.concatenate([disc(n0, -1.0), disc(n1, 1.0)])


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    shape: Callable  # (rng, n0, n1) -> (n0 + n1, 2), class 0 first


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("moons", "Two moons", _moons),
    Kind("circles", "Circles", _circles),
    Kind("spirals", "Spirals", _spirals),
    Kind("xor", "XOR", _xor),
    Kind("blobs", "Two blobs (linearly separable)", _blobs),
)}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(KINDS)}") from None


def make(name: str, n: int = 400, noise: float = 0.2, seed=0) -> Samples:
    """``n`` samples of data set ``name``; ``seed`` is an int or a sequence of ints."""
    shape = kind(name).shape
    n = int(n)
    if n < 2:
        raise ValueError(f"a data set needs at least 2 samples, got {n}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    n0 = n // 2
    x = shape(rng, n0, n - n0) + rng.normal(0.0, noise, (n, 2))
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)])
    order = rng.permutation(n)
    return Samples(np.ascontiguousarray(x[order]), y[order])


def train_test(name: str, n: int = 400, noise: float = 0.2, seed: int = 0,
               n_test: int | None = None) -> tuple[Samples, Samples]:
    """A training set of ``n`` samples and an independent test set (default n // 4, at least 2),
    drawn from two streams of ``seed``."""
    n_test = max(2, int(n) // 4) if n_test is None else int(n_test)
    return make(name, n, noise, (int(seed), 0)), make(name, n_test, noise, (int(seed), 1))
