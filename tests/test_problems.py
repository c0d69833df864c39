"""optimizers.run on problems of any dimension D that own their data and mini-batch gradient.

The problem here is written in the tests, with nothing but the protocol (dim, start, scale,
title, f, grad, data.n, batch_grad), so a run cannot lean on anything 2-D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import optimizers


@dataclass(frozen=True)
class Data:
    a: np.ndarray  # (n, D) rows of a least-squares problem
    b: np.ndarray  # (n,)

    @property
    def n(self) -> int:
        return len(self.b)


@dataclass(frozen=True)
class LeastSquares:
    """f(w) = mean_i (a_i . w - b_i)^2 / 2 over n samples, in D dimensions."""

    data: Data
    title: str = "least squares"
    scale: float = 10.0

    @property
    def dim(self) -> int:
        return self.data.a.shape[1]

    @property
    def start(self) -> np.ndarray:
        return np.zeros(self.dim)

    # sums along the last axis only, so each row of a batch is computed as it would be alone
    def f(self, w):
        w = np.asarray(w)[..., None, :]
        r = (self.data.a * w).sum(-1) - self.data.b  # (..., n)
        return 0.5 * (r * r).mean(-1)

    def grad(self, w):
        return self.batch_grad(w, np.arange(self.data.n))

    def batch_grad(self, w, idx):
        w = np.asarray(w)[..., None, :]
        a, b = self.data.a[idx], self.data.b[idx]  # (B, D) or (..., B, D)
        r = (a * w).sum(-1) - b  # (..., B)
        terms = np.ascontiguousarray(np.swapaxes(r[..., None] * a, -1, -2))  # (..., D, B)
        return terms.sum(-1) / r.shape[-1]


def problem(D=40, n=64, seed=0) -> LeastSquares:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, D)) * np.linspace(0.2, 2.0, D)  # badly scaled weights
    return LeastSquares(Data(a, a @ rng.normal(size=D) + 0.1 * rng.normal(size=n)))


@pytest.mark.parametrize("name", optimizers.names())
def test_every_rule_runs_in_many_dimensions_and_a_batch_row_is_the_single_run(name):
    p = problem()
    lrs = np.array([0.003, 0.01, 0.03])
    batch = optimizers.run(optimizers.get(name, lr=lrs), p, steps=60)
    assert batch.path.shape == (61, 3, p.dim) and batch.grad.shape == (60, 3, p.dim)
    for r, lr in enumerate(lrs):
        one = optimizers.run(optimizers.get(name, lr=lr), p, steps=60)
        assert one.path.shape == (61, p.dim)
        assert np.array_equal(batch.path[:, r], one.path) and np.array_equal(batch.loss[:, r], one.loss)
        for k, v in one.state.items():
            assert np.array_equal(batch.state[k][:, r], v)
    assert np.all(batch.loss[-1] < batch.loss[0])  # every rule descends at these rates


def test_gd_on_a_d_dim_problem_is_the_textbook_update():
    p = problem(D=7, n=20)
    tr = optimizers.run(optimizers.get("gd", lr=0.05), p, steps=30)
    w = p.start.copy()
    for t in range(30):
        w = w - 0.05 * p.grad(w)
        np.testing.assert_allclose(tr.path[t + 1], w, rtol=1e-13, atol=1e-15)


def test_mini_batches_come_from_the_problem_and_rows_keep_their_seeds():
    p = problem(D=12, n=30)
    seeds = np.array([4, 9])
    batch = optimizers.run(optimizers.get("adam", lr=0.01), p, steps=40, batch_size=5, seed=seeds)
    for r, s in enumerate(seeds):
        one = optimizers.run(optimizers.get("adam", lr=0.01), p, steps=40, batch_size=5, seed=int(s))
        assert np.array_equal(batch.path[:, r], one.path)
    full = optimizers.run(optimizers.get("adam", lr=0.01), p, steps=40)
    assert not np.allclose(batch.path[:, 0], full.path)  # mini-batch gradients differ from the full one
    # the gradient of update t is the problem's batch gradient at that point
    one = optimizers.run(optimizers.get("gd", lr=0.01), p, steps=10, batch_size=30)
    np.testing.assert_array_equal(one.path, optimizers.run(optimizers.get("gd", lr=0.01), p, steps=10).path)


def test_noise_and_divergence_in_many_dimensions():
    p = problem(D=9, n=16)
    tr = optimizers.run(optimizers.get("gd", lr=5.0), p, steps=200)
    assert 0 < tr.diverged_at < 200 and np.isnan(tr.loss[tr.diverged_at:]).all()
    assert np.all(np.isfinite(tr.path))  # frozen at the last point before it left the bound
    noisy = optimizers.run(optimizers.get("gd", lr=0.01), p, steps=20, noise=np.array([0.0, 1.0]),
                           seed=np.array([0, 0]))
    clean = optimizers.run(optimizers.get("gd", lr=0.01), p, steps=20)
    assert np.array_equal(noisy.path[:, 0], clean.path) and not np.allclose(noisy.path[:, 1], clean.path)
    with pytest.raises(ValueError, match=r"start must have shape \(9,\) or \(R, 9\)"):
        optimizers.run(optimizers.get("gd"), p, start=np.zeros(2), steps=5)


def test_zero_steps_in_a_batch_is_just_the_starts():
    p = problem(D=5, n=10)
    tr = optimizers.run(optimizers.get("adam", lr=np.array([0.1, 0.2])), p, steps=0)
    assert tr.path.shape == (1, 2, 5) and tr.lr.shape == (0, 2) and np.array_equal(tr.path[0, 1], p.start)
