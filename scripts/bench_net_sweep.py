"""Explore's network sweep: the 8 x 8 learning-rate x beta map (64 runs of 200 full-batch steps of
the Networks page's 2-16-16-1 MLP on 200 points) in one batched call, against the same 64 runs one
by one (the reference, measured in the same run). Best of ``--repeat`` times.

    python scripts/bench_net_sweep.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import optimizers
from descent_lab import explore as dx


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def one_by_one(name: str) -> np.ndarray:
    setup = dx.net_sweep_setup()
    net = setup.network()
    beta = dx.net_beta(name).name
    out = [optimizers.run(optimizers.get(name, lr=lr, **{beta: b}), net, start=net.start, steps=setup.steps,
                          record=False).loss[-1] for b in dx.NET_BETAS for lr in dx.net_lrs(name)]
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print("| optimizer | batched 64 runs (s) | 64 single runs (s) | ratio |")
    print("|---|---|---|---|")
    for name in ("momentum", "adam"):
        batched = best(lambda name=name: dx.net_sweep(dx.net_sweep_setup(), name), args.repeat)
        single = best(lambda name=name: one_by_one(name), args.repeat)
        same = np.array_equal(np.nan_to_num(dx.net_sweep(dx.net_sweep_setup(), name).loss.ravel(), nan=-1),
                              np.nan_to_num(one_by_one(name), nan=-1))
        note = "" if same else " (results differ!)"
        print(f"| {name} | {batched:.2f} | {single:.2f} | {single / batched:.1f}x{note} |")


if __name__ == "__main__":
    main()
