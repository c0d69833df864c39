"""Two-class data sets in the plane, generated and seeded (no downloads).

    from landscapes import datasets
    train, test = datasets.train_test("moons", n=400, noise=0.2, seed=0)
    train.x  # (400, 2) float64 points
    train.y  # (400,) float64 labels, 0.0 or 1.0

Each set is a clean shape plus Gaussian noise of standard deviation ``noise`` on
both coordinates (as scikit-learn's make_moons). The classes are balanced
(n // 2 of class 0, the rest class 1) and the samples come in shuffled order.
Shapes are centred on the origin and span about [-2, 2] x [-2, 2].

Your own points: ``drawn(x, y)`` checks a list of at most MAX_POINTS labelled points in
[-4, 4) x [-4, 4); ``encode_points`` / ``decode_points`` write it as a short text for a
link and read it back (bad text raises ValueError with a plain message, never anything else).
``split`` holds out a seeded share of them for testing.
"""

from __future__ import annotations

import base64
import binascii
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


#: points a user may draw
MAX_POINTS = 500
#: drawn points lie in [LIMIT[0], LIMIT[1]) on both axes, on a grid of step 1 / QUANTUM
LIMIT = (-4.0, 4.0)
QUANTUM = 256
_LEVELS = int((LIMIT[1] - LIMIT[0]) * QUANTUM)  # 2048 positions per axis: 11 bits
#: characters per point in the link: 3 bytes (11 bits x, 11 bits y, 1 bit class, 1 bit zero)
#: are 4 base64url characters with no padding
POINT_CHARS = 4


def drawn(x, y) -> Samples:
    """Drawn points as Samples: x (m, 2) finite and inside LIMIT, y (m,) of 0 and 1, m <= MAX_POINTS.
    Coordinates snap to the link's grid (step 1 / QUANTUM), so a link gives back the same set."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 2 or x.shape[1:] != (2,) or y.shape != x.shape[:1]:
        raise ValueError(f"points must be (m, 2) coordinates with m labels, got {x.shape} and {y.shape}")
    if len(x) > MAX_POINTS:
        raise ValueError(f"at most {MAX_POINTS} points can be drawn, got {len(x):,}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("points must be finite numbers (no NaN or infinity)")
    if np.any(x < LIMIT[0]) or np.any(x >= LIMIT[1]):
        raise ValueError(f"points must lie in [{LIMIT[0]:g}, {LIMIT[1]:g}) on both axes")
    if np.any((y != 0) & (y != 1)):
        raise ValueError("point labels must be 0 or 1")
    snapped = np.minimum(np.round(x * QUANTUM), LIMIT[1] * QUANTUM - 1) / QUANTUM
    return Samples(np.ascontiguousarray(snapped), y.copy())


def encode_points(points: Samples) -> str:
    """Drawn points (see ``drawn``) as base64url text, POINT_CHARS characters a point, in order."""
    p = drawn(points.x, points.y)
    q = (np.round(p.x * QUANTUM) - LIMIT[0] * QUANTUM).astype(np.uint32)
    bits = (q[:, 0] << 13) | (q[:, 1] << 2) | (p.y.astype(np.uint32) << 1)
    raw = np.stack([bits >> 16, bits >> 8, bits], -1).astype(np.uint8)
    return base64.urlsafe_b64encode(raw.tobytes()).decode("ascii")


def decode_points(text: str) -> Samples:
    """The points ``encode_points`` wrote; ValueError with a plain message for anything else
    (too long, not base64url, a length that is not whole points, a set padding bit)."""
    if not isinstance(text, str):
        raise ValueError("points must be given as text")
    if len(text) > MAX_POINTS * POINT_CHARS:
        raise ValueError(f"too many points: at most {MAX_POINTS} ({MAX_POINTS * POINT_CHARS} characters), "
                         f"got {len(text):,} characters")
    if len(text) % POINT_CHARS:
        raise ValueError(f"points text must have {POINT_CHARS} characters a point, got {len(text)}")
    if not text.isascii() or not all(c.isalnum() or c in "-_" for c in text):
        raise ValueError("points text may hold only letters, digits, - and _ (base64url)")
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, ValueError):
        raise ValueError("points text is not valid base64url") from None
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.uint32)
    bits = (b[:, 0] << 16) | (b[:, 1] << 8) | b[:, 2]
    if np.any(bits & 1):
        raise ValueError("points text is not one this app wrote (a padding bit is set)")
    q = np.stack([bits >> 13, (bits >> 2) & (_LEVELS - 1)], -1)
    return Samples(q / QUANTUM + LIMIT[0], ((bits >> 1) & 1).astype(float))


def split(points: Samples, fraction: float, seed: int = 0) -> tuple[Samples, Samples]:
    """Training and test points: round(m * fraction) of the m points, chosen by ``seed``, held
    out for testing (none for m < 2; at least one training point), both in drawn order."""
    m = points.n
    k = min(round(m * fraction), m - 1) if m >= 2 else 0
    held = np.zeros(m, dtype=bool)
    held[np.random.default_rng((int(seed), 3)).permutation(m)[:k]] = True  # streams 0-2 are taken
    return Samples(points.x[~held], points.y[~held]), Samples(points.x[held], points.y[held])


def join(a: Samples, b: Samples) -> Samples:
    """The points of a, then those of b."""
    return Samples(np.concatenate([a.x.reshape(-1, 2), b.x.reshape(-1, 2)]), np.concatenate([a.y, b.y]))


EMPTY = Samples(np.empty((0, 2)), np.empty(0))
