"""Benchmark the NumPy core against the torch.optim loop a user would write.

    .venv/bin/python scripts/bench_core.py [--full] [--repeat N]

Both sides get the same gradients: our analytic ``surface.grad`` on the NumPy view
of the parameter. Every ratio is measured in this run (no stored timings); each
timing is the best of N after a warm-up call.

(a) A sweep of 1,600 Adam configurations (40 learning rates log-spaced 1e-4..1 x
    40 beta1 values 0.5..0.99) x 500 steps on Rosenbrock: one vectorized
    ``optimizers.run`` call versus torch.optim looping over the configurations.
    Torch over all 1,600 takes tens of seconds, so by default it is timed on a
    random subset of configurations and scaled linearly (--full times all).
(b) One 1,000-step Adam run (record=True, the default) versus one torch.optim
    loop of 1,000 steps; a naive NumPy loop on (2,) arrays is shown for context.
(c) What ``rounding=True`` costs (one more run per run, from the start moved by one ulp, not
    recorded: optimizers.rounding): the sweep, the single run, and the Playground's default
    learning-rate families (3 runs x 22 rates x 500 steps, descent_lab.families; the run at
    its own rate is checked: families.own_run), each with and without it, as a ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import landscapes  # noqa: E402
import optimizers  # noqa: E402

SWEEP_STEPS = 500
SINGLE_STEPS = 1000
N_LR = N_BETA1 = 40
REQUIRED_SWEEP = 300.0
REQUIRED_SINGLE = 20.0


def best_of(fn, repeat: int, warmup=None) -> float:
    """Seconds of the fastest of ``repeat`` calls, after one warm-up call (of ``warmup`` if given)."""
    (warmup or fn)()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def sweep_grid() -> tuple[np.ndarray, np.ndarray]:
    lr, beta1 = np.meshgrid(np.logspace(-4, 0, N_LR), np.linspace(0.5, 0.99, N_BETA1), indexing="ij")
    return lr.ravel(), beta1.ravel()


def torch_adam_loop(surface, start, steps: int, lr: float, beta1: float, path=None) -> torch.Tensor:
    """The torch.optim loop: our gradient on the parameter's NumPy view, then opt.step()."""
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr, betas=(beta1, 0.999), eps=1e-8)
    view = p.detach().numpy()  # shares memory with p
    for t in range(steps):
        p.grad = torch.from_numpy(surface.grad(view))
        opt.step()
        if path is not None:
            path[t + 1] = view
    return p


def numpy_adam_loop(surface, start, steps: int, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8) -> np.ndarray:
    """The naive NumPy loop on (2,) arrays, recording the path."""
    w = np.array(start, dtype=float)
    m, v = np.zeros(2), np.zeros(2)
    path = np.empty((steps + 1, 2))
    path[0] = w
    for t in range(1, steps + 1):
        g = surface.grad(w)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        path[t] = w
    return path


def check_agreement(surface, start) -> None:
    """The loops being timed compute the same thing (so the comparison is fair)."""
    ours = optimizers.run(optimizers.get("adam", lr=0.01), surface, start, steps=200).path
    path = np.empty((201, 2))
    path[0] = start
    torch_adam_loop(surface, start, 200, 0.01, 0.9, path)
    naive = numpy_adam_loop(surface, start, 200)
    assert np.allclose(ours, path, rtol=1e-9, atol=1e-12), "ours and torch disagree"
    assert np.allclose(ours, naive, rtol=1e-9, atol=1e-12), "ours and the NumPy loop disagree"


def rounding_costs(surface, repeat: int) -> list[tuple[str, float, float]]:
    """(case, seconds without rounding, seconds with it), each the best of ``repeat``."""
    from descent_lab.families import lr_family, own_run
    from descent_lab.setup import Setup

    lr, beta1 = sweep_grid()
    sweep = optimizers.get("adam", lr=lr, beta1=beta1)
    single = optimizers.get("adam", lr=0.01)
    setup = Setup()
    grids = [optimizers.rule(spec.name).lr.options(float(spec.hyper["lr"])) for spec in setup.runs]

    def families(rounding: bool):
        for spec, lrs in zip(setup.runs, grids, strict=True):
            fam = lr_family(setup, spec, lrs)
            if rounding:
                own_run(setup, fam, surface)

    cases = [
        (f"sweep {lr.size} Adam x {SWEEP_STEPS} steps, record=False",
         lambda r: optimizers.run(sweep, surface, steps=SWEEP_STEPS, record=False, rounding=r)),
        (f"one Adam run x {SINGLE_STEPS} steps, record=True",
         lambda r: optimizers.run(single, surface, steps=SINGLE_STEPS, rounding=r)),
        (f"Playground default: 3 lr families ({', '.join(str(len(g)) for g in grids)} rates) "
         f"x {setup.steps} steps", families),
    ]
    return [(name, best_of(lambda f=f: f(False), repeat), best_of(lambda f=f: f(True), repeat))
            for name, f in cases]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="time torch over all 1,600 configurations")
    ap.add_argument("--subset", type=int, default=64, help="torch configurations timed without --full")
    ap.add_argument("--repeat", type=int, default=5, help="timed calls per measurement (best is kept)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random torch subset")
    args = ap.parse_args()

    torch.set_default_dtype(torch.float64)
    s = landscapes.get("rosenbrock")
    start = s.start.copy()
    check_agreement(s, start)
    rows = []

    # (a) the sweep ------------------------------------------------------------
    lr, beta1 = sweep_grid()
    n = lr.size
    sweep = optimizers.get("adam", lr=lr, beta1=beta1)
    ours_fast = best_of(lambda: optimizers.run(sweep, s, steps=SWEEP_STEPS, record=False), args.repeat)
    ours_rec = best_of(lambda: optimizers.run(sweep, s, steps=SWEEP_STEPS, record=True), args.repeat)
    tr = optimizers.run(sweep, s, steps=SWEEP_STEPS, record=False)
    diverged = int(np.sum(tr.diverged_at >= 0))

    if args.full:
        subset = np.arange(n)
        repeat = 1
    else:
        subset = np.random.default_rng(args.seed).choice(n, size=min(args.subset, n), replace=False)
        repeat = max(1, min(args.repeat, 3))

    def torch_sweep():
        for i in subset:
            torch_adam_loop(s, start, SWEEP_STEPS, float(lr[i]), float(beta1[i]))

    def torch_warmup():
        for i in subset[:4]:
            torch_adam_loop(s, start, SWEEP_STEPS, float(lr[i]), float(beta1[i]))

    torch_part = best_of(torch_sweep, repeat, warmup=torch_warmup)
    torch_all = torch_part * n / len(subset)
    how = (f"all {n} configs timed" if args.full else
           f"{len(subset)} random configs timed, scaled linearly x{n / len(subset):g} to {n}")
    label = f"(a) sweep {n} Adam x {SWEEP_STEPS} steps"
    rows.append((f"{label}, record=False", ours_fast, torch_all, REQUIRED_SWEEP))
    rows.append((f"{label}, record=True", ours_rec, torch_all, None))

    # (b) one run --------------------------------------------------------------
    single = optimizers.get("adam", lr=0.01)
    reps = max(args.repeat, 10)
    ours_one = best_of(lambda: optimizers.run(single, s, steps=SINGLE_STEPS), reps)
    ours_one_fast = best_of(lambda: optimizers.run(single, s, steps=SINGLE_STEPS, record=False), reps)
    path = np.empty((SINGLE_STEPS + 1, 2))
    torch_one = best_of(lambda: torch_adam_loop(s, start, SINGLE_STEPS, 0.01, 0.9, path), reps)
    naive_one = best_of(lambda: numpy_adam_loop(s, start, SINGLE_STEPS), reps)
    label = f"(b) one Adam run x {SINGLE_STEPS} steps"
    rows.append((f"{label}, record=True", ours_one, torch_one, REQUIRED_SINGLE))
    rows.append((f"{label}, record=False", ours_one_fast, torch_one, None))
    rows.append((f"{label}: naive NumPy loop (in 'ours')", naive_one, torch_one, None))

    # report -------------------------------------------------------------------
    threads = torch.get_num_threads()
    print(f"Descent Lab core vs torch.optim {torch.__version__} (float64, {threads} threads), "
          f"NumPy {np.__version__}, Python {sys.version.split()[0]}")
    print(f"timings: best of {args.repeat} (torch sweep: {repeat}; (b): {reps}) after a warm-up; "
          f"torch sweep: {how}; "
          f"{diverged} of {n} sweep runs diverge")
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'ours (ms)':>10}  {'torch (ms)':>11}  {'ratio':>8}  {'required':>8}  result")
    ok = True
    for name, ours_t, torch_t, required in rows:
        ratio = torch_t / ours_t
        verdict = "-" if required is None else ("PASS" if ratio >= required else "FAIL")
        ok &= verdict != "FAIL"
        req = "-" if required is None else f">= {required:g}x"
        print(f"{name:<{width}}  {ours_t * 1e3:>10.2f}  {torch_t * 1e3:>11.1f}  {ratio:>7.1f}x  "
              f"{req:>8}  {verdict}")
    per_step, ours_step = torch_one / SINGLE_STEPS * 1e6, ours_one / SINGLE_STEPS * 1e6
    print(f"torch.optim costs {per_step:.1f} us per step; ours {ours_step:.2f} us per step "
          f"single, {ours_fast / (SWEEP_STEPS * n) * 1e9:.1f} ns per run-step in the sweep")
    costs = rounding_costs(s, args.repeat)
    width = max(len(c[0]) for c in costs)
    print(f"\n(c) rounding=True\n{'case':<{width}}  {'without (ms)':>12}  {'with (ms)':>10}  {'ratio':>6}")
    for name, without, with_ in costs:
        print(f"{name:<{width}}  {without * 1e3:>12.2f}  {with_ * 1e3:>10.2f}  {with_ / without:>5.2f}x")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
