"""Exponentially weighted moving averages (EWMA), the average inside Momentum, RMSProp and Adam.

    V_0 = 0,  V_t = beta V_{t-1} + (1 - beta) theta_t
            = (1 - beta) sum_{k=0}^{t-1} beta^k theta_{t-k}

The weights beta^k (1 - beta) sum to 1 - beta^t, not 1: the missing beta^t is the
weight of V_0 = 0, so early averages lean towards zero. Dividing by 1 - beta^t
(bias correction, as in Adam) makes the weights sum to 1. Pure NumPy.
"""

from __future__ import annotations

import numpy as np


def ewma(theta, beta: float, corrected: bool = False) -> np.ndarray:
    """V_1 .. V_n of the series ``theta`` (axis 0 is time) from V_0 = 0; with ``corrected``,
    V_t / (1 - beta^t) instead."""
    theta = np.asarray(theta, dtype=float)
    out = np.empty_like(theta)
    v = np.zeros_like(theta[0]) if theta.size else 0.0
    for t in range(len(theta)):
        v = beta * v + (1 - beta) * theta[t]
        out[t] = v
    return bias_corrected(out, beta) if corrected else out


def bias_corrected(v, beta: float) -> np.ndarray:
    """V_t / (1 - beta^t) for t = 1, 2, ... along axis 0 (beta = 0 leaves V unchanged)."""
    v = np.asarray(v, dtype=float)
    t = np.arange(1, len(v) + 1, dtype=float).reshape((-1,) + (1,) * (v.ndim - 1))
    return v / (1 - beta**t)


def weights(beta: float, t: int) -> np.ndarray:
    """The weight V_t gives to theta_{t-k}, for k = 0 .. t-1: (1 - beta) beta^k."""
    return (1 - beta) * beta ** np.arange(int(t), dtype=float)


def window(beta: float) -> float:
    """The effective window 1 / (1 - beta): roughly how many recent values the average is over."""
    # rounded: 1 / (1 - 0.9) is 10.000000000000002 in floats, and 10 values is what is meant
    return float("inf") if beta >= 1 else round(1.0 / (1.0 - beta), 9)


def window_share(beta: float, t: int) -> float:
    """The share of V_t's weight on the values inside the effective window (k < 1 / (1 - beta))."""
    w = weights(beta, t)
    return float(w[np.arange(len(w)) < window(beta)].sum())


def demo_series(n: int = 120, seed: int = 0, noise: float = 4.0) -> np.ndarray:
    """A seeded noisy series to average: a slow seasonal curve (like daily temperatures) plus
    Gaussian noise, starting well away from zero so the start-up bias shows."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    return 20.0 + 6.0 * np.sin(2 * np.pi * t / n) + noise * rng.standard_normal(n)
