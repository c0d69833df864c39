"""Small read-outs of recorded runs for the Learn pages: look-ahead points, Adam's moments
with and without bias correction, Adam's first step, oscillation counts. Pure NumPy.

Shapes follow optimizers.Trajectory: a step axis first, then (for a batch) R, then 2.
"""

from __future__ import annotations

import numpy as np


def previous(state: np.ndarray) -> np.ndarray:
    """A state slot as it was *before* each update: zero before the first, then state[t - 1]."""
    state = np.asarray(state, dtype=float)
    return np.concatenate([np.zeros_like(state[:1]), state[:-1]])


def lookahead_points(path: np.ndarray, velocity: np.ndarray, beta: float) -> np.ndarray:
    """w_t + beta v_{t-1} for t = 0 .. steps-1: where the look-ahead form of Nesterov takes its
    gradient (``velocity`` is the look-ahead rule's state after each update, v = w_{t+1} - w_t)."""
    return np.asarray(path, dtype=float)[:-1] + beta * previous(velocity)


def sign_flips(x: np.ndarray) -> np.ndarray | int:
    """How often ``x`` changes sign along axis 0 (exact zeros are skipped, NaNs end the count)."""
    x = np.asarray(x, dtype=float)
    s = np.sign(np.where(np.isfinite(x), x, 0.0))
    flat = s.reshape(len(s), -1)
    out = np.empty(flat.shape[1], dtype=int)
    for j in range(flat.shape[1]):
        nz = flat[:, j][flat[:, j] != 0]
        out[j] = int(np.sum(nz[1:] != nz[:-1]))
    out = out.reshape(s.shape[1:])
    return int(out) if out.ndim == 0 else out


def _steps_axis(a: np.ndarray) -> np.ndarray:
    """1, 2, ..., n shaped to broadcast against ``a`` along its first axis."""
    return np.arange(1, len(a) + 1, dtype=float).reshape((-1,) + (1,) * (a.ndim - 1))


def bias_corrected(m: np.ndarray, v: np.ndarray, beta1: float, beta2: float):
    """Adam's m_hat = m_t / (1 - beta1^t) and v_hat = v_t / (1 - beta2^t), t = 1, 2, ..."""
    m, v = np.asarray(m, dtype=float), np.asarray(v, dtype=float)
    t = _steps_axis(m)
    return m / (1 - beta1**t), v / (1 - beta2**t)


def _per_step(lr, a: np.ndarray):
    lr = np.asarray(lr, dtype=float)
    return lr.reshape(lr.shape + (1,) * (a.ndim - lr.ndim)) if lr.ndim else lr


def adam_updates(m, v, lr, beta1: float, beta2: float, eps: float, corrected: bool = True) -> np.ndarray:
    """Adam's update w_{t+1} - w_t from recorded moments m_t, v_t: -lr m_hat / (sqrt(v_hat) + eps),
    or, with ``corrected=False``, what m and v alone would give: -lr m / (sqrt(v) + eps).
    ``lr`` is a number or one rate per step."""
    m, v = np.asarray(m, dtype=float), np.asarray(v, dtype=float)
    if corrected:
        m, v = bias_corrected(m, v, beta1, beta2)
    return -_per_step(lr, m) * m / (np.sqrt(v) + eps)


def adam_first_step(g, lr: float, beta1: float, beta2: float, eps: float, corrected: bool = True):
    """Size of Adam's first step on gradient g (from m_0 = v_0 = 0).

    Corrected: lr |g| / (|g| + eps), about lr whatever the scale of g.
    Uncorrected: lr (1 - beta1) |g| / (sqrt(1 - beta2) |g| + eps), about lr (1 - beta1) / sqrt(1 - beta2).
    """
    a = np.abs(np.asarray(g, dtype=float))
    if corrected:
        return lr * a / (a + eps)
    return lr * (1 - beta1) * a / (np.sqrt(1 - beta2) * a + eps)
