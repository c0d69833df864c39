"""What every layer shares: the specification of a setting, and float math for the fast path.

A ``Param`` is the one place a setting's name, symbol, label, default, range, scale, slider grid,
help text and role are written. The core checks values with it, the link parser clamps
with it, the widgets, the sweeps, the command line and the reference card read it.

    from specs import Param
    lr = Param("lr", 0.01, 1e-6, 10.0, "Learning rate", scale="log", grid=grid_125(1e-6, 10.0),
               role="learning rate")
    lr.check(0.1); lr.clamp(100.0) -> 10.0; lr.snap(0.03) -> 0.02; lr.sweep(1e-4, 1, 5)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

#: How a setting's values are laid out on a slider or a sweep axis.
SCALES = ("linear", "log", "log1m", "integer")  # log1m: log(1 - value), for betas near 1
#: What each scale means, for help texts and axis titles.
SCALE_TEXT = {
    "linear": "evenly spaced values",
    "log": "a log scale (equal ratios, e.g. 0.001, 0.01, 0.1)",
    "log1m": "a log scale of 1 - value (0.9, 0.99, 0.999 are equally far apart)",
    "integer": "whole numbers",
}


def grid_125(lo: float, hi: float) -> tuple[float, ...]:
    """1-2-5 values from lo to hi (and 0 first when lo is 0): the stops of a log slider."""
    out = [0.0] if lo <= 0 else []
    for e in range(-12, 7):
        for m in (1, 2, 5):
            v = float(f"{m}e{e}")
            if max(lo, 1e-12) <= v <= hi:
                out.append(v)
    return tuple(out)


@dataclass(frozen=True)
class Param:
    """A numeric setting: name, label, default, bounds, scale, slider grid, help and role.

    grid: the values a slider offers (None: a number box). role: what the setting is for
    other code, e.g. "learning rate" (so nobody has to assume it comes first).
    """

    name: str
    default: float
    lo: float
    hi: float
    label: str
    scale: str = "linear"
    grid: tuple[float, ...] | None = None
    help: str = ""
    role: str = ""
    symbol: str = ""  # the course's symbol (η, β, β₁, ...): what run labels show instead of the name

    def __post_init__(self):
        if self.scale not in SCALES:
            raise ValueError(f"{self.name}: unknown scale {self.scale!r}")
        if not self.lo <= self.default <= self.hi:
            raise ValueError(f"{self.name}: default {self.default} outside {self.lo}..{self.hi}")

    @property
    def integer(self) -> bool:
        return self.scale == "integer"

    def check(self, value) -> float | int | np.ndarray:
        """``value`` (a number or an array) inside [lo, hi]; raise ValueError otherwise."""
        v = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(v)) or np.any(v < self.lo) or np.any(v > self.hi):
            raise ValueError(f"{self.label} must be a number from {self.lo:g} to {self.hi:g}, got {value!r}")
        if self.integer:
            if np.any(v != np.round(v)):
                raise ValueError(f"{self.label} must be a whole number, got {value!r}")
            return int(v) if v.ndim == 0 else v.astype(int)
        return float(v) if v.ndim == 0 else v

    def clamp(self, value: float) -> float | int:
        """A finite number moved into [lo, hi] (rounded for whole numbers): what a link gets."""
        v = min(max(float(value), self.lo), self.hi)
        return round(v) if self.integer else v

    def options(self, value=None) -> list[float] | None:
        """The slider's values (with ``value`` inserted in order if it is not one), or None."""
        if self.grid is None:
            return None
        opts = list(self.grid)
        return opts if value is None or value in opts else sorted([*opts, value])

    def snap(self, value) -> float | int:
        """``value`` moved onto the grid (nearest in log terms on log scales), or clamped."""
        v = float(value)
        if self.grid is None:
            return self.clamp(v)
        arr = np.array(self.grid)
        if self.scale == "log" and v > 0 and (arr > 0).any():
            pos = arr[arr > 0]
            return float(pos[np.argmin(np.abs(np.log(pos) - math.log(v)))])
        return float(arr[np.argmin(np.abs(arr - v))])

    def to_axis(self, values) -> np.ndarray:
        """Values as positions on this setting's sweep axis."""
        v = np.asarray(values, dtype=float)
        if self.scale == "log":
            return np.log10(v)
        if self.scale == "log1m":
            return np.log10(1 - v)
        return v

    def from_axis(self, u) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        if self.scale == "log":
            return 10.0**u
        if self.scale == "log1m":
            return 1 - 10.0**u
        return u

    def sweep(self, lo: float, hi: float, n: int) -> np.ndarray:
        """``n`` values from ``lo`` to ``hi`` evenly spaced on the sweep axis, inside the bounds."""
        v = self.from_axis(np.linspace(*self.to_axis([lo, hi]), n))
        v[0], v[-1] = lo, hi  # exact ends (no round trip through logs)
        v = np.clip(v, self.lo, self.hi)
        return np.round(v) if self.integer else v

    def sweep_options(self) -> list[float]:
        """The values a sweep's range slider offers: the grid (positive ones on log axes, below 1
        on log(1 - value) axes), or 11 even steps."""
        if self.grid is None:
            opts = sorted({self.lo, *np.linspace(self.lo, self.hi, 11).round(6).tolist(), self.hi})
        else:
            opts = list(self.grid)
        if self.scale == "log":
            opts = [v for v in opts if v > 0]
        elif self.scale == "log1m":
            opts = [v for v in opts if v < 1]
        return [float(v) for v in opts]


def _scalar(ufunc):
    return lambda v: float(ufunc(v))


#: Math for plain floats. Transcendental functions go through NumPy so that a single run and a
#: row of a batch see exactly the same values; sqrt is correctly rounded everywhere, so
#: Python's is used.
SCALAR_MATH = SimpleNamespace(
    sqrt=math.sqrt,
    sin=_scalar(np.sin),
    cos=_scalar(np.cos),
    exp=_scalar(np.exp),
    tanh=_scalar(np.tanh),
    log=_scalar(np.log),
    abs=abs,
    pi=math.pi,
    e=math.e,
)

__all__ = ["SCALAR_MATH", "SCALES", "SCALE_TEXT", "Param", "grid_125"]
