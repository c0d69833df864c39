"""Time the Explore page's heavy pictures: core call, figure build, JSON size.

    .venv/bin/python scripts/bench_explore.py [--repeat 3]

Prints the best of ``--repeat`` timings of each (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import landscapes
import viz
from descent_lab import explore as ex
from viz import explore as vx
from viz.playground import typed_arrays


def best_of(repeat: int, fn):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def size_kb(fig: dict) -> float:
    return len(json.dumps(typed_arrays(fig), default=float)) / 1024


def report(name: str, t_core: float, t_fig: float, fig: dict) -> None:
    print(f"{name:<52} core {1000 * t_core:7.0f} ms   figure {1000 * t_fig:6.0f} ms   "
          f"total {1000 * (t_core + t_fig):7.0f} ms   JSON {size_kb(fig):7.0f} kB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    r = a.repeat

    for surface_name, opt, xname, yname in [("rosenbrock", "adam", "lr", "beta1"),
                                             ("rosenbrock", "momentum", "lr", "beta"),
                                             ("rastrigin", "gd", "lr", "noise")]:
        s = landscapes.get(surface_name)
        xp, yp = ex.sweep_param(opt, xname), ex.sweep_param(opt, yname)
        xs = xp.sweep(1e-4, 1.0, 40)
        ys = yp.sweep(*((0.01, 10.0) if yname == "noise" else (0.0, 0.999)), 40)
        for metric, tol in (("gap", None), ("steps", 0.01)):
            run = partial(ex.sweep, s, tuple(s.start), opt, xname, xs, yname, ys, 500, tol)
            t_core, res = best_of(r, run)
            values = res.gap if metric == "gap" else res.reached_at.astype(float)
            t_fig, fig = best_of(r, partial(vx.sweep_figure, values, res.diverged_at, xs, ys, x_label=xname,
                                            y_label=yname, x_scale=xp.scale, y_scale=yp.scale,
                                            metric=metric))
            report(f"sweep 40x40x500 {opt} {xname}x{yname} on {surface_name} ({metric})", t_core, t_fig, fig)

    for surface_name in ("rosenbrock", "wells", "himmelblau", "rastrigin", "goldstein_price"):
        s = landscapes.get(surface_name)
        maps = []
        for opt in ("gd", "momentum", "adam"):
            t_tune, lr = best_of(r, lambda s=s, opt=opt: ex.basin_lr(s, opt, 500, 0.1))
            t_core, (xs, ys, labels) = best_of(r, lambda s=s, opt=opt, lr=lr:
                                               ex.basin_labels(s, opt, {"lr": lr}, 100, 500, 0.1))
            maps.append((opt, labels))
            t_fig, fig = best_of(r, lambda s=s, xs=xs, ys=ys, labels=labels, opt=opt: vx.basin_figure(
                s, xs, ys, [(opt, labels)], tol=0.1))
            share = ", ".join(f"{v}:{c}" for v, c in zip(*np.unique(labels, return_counts=True), strict=True))
            report(f"basins 100x100x500 {opt} (lr {lr:g}) on {surface_name}", t_core, t_fig, fig)
            print(f"{'':<6}lr tuned in {1000 * t_tune:.0f} ms; labels (minimum: count; -1 diverged, "
                  f"-2 not converged): {share}")
        t_fig, fig = best_of(r, lambda s=s, xs=xs, ys=ys, maps=maps:
                             vx.basin_figure(s, xs, ys, maps, tol=0.1))
        print(f"{'':<6}all {len(maps)} maps in one figure: {1000 * t_fig:.0f} ms, JSON {size_kb(fig):.0f} kB")

    s = landscapes.get("rosenbrock")
    t_core, lr = best_of(r, lambda: ex.lr_sweep(s, tuple(s.start), "adam", 500))
    curves = [("Adam", viz.PALETTE[0], lr.gap, lr.diverged_at, lr.best)]
    t_fig, fig = best_of(r, lambda: vx.sensitivity_figure(lr.lrs, curves))
    report("fair comparison: 40 lrs x 500 steps, Adam, Rosenbrock", t_core, t_fig, fig)

    img = viz.landscape_png(s)
    t_core, cloud = best_of(r, lambda: ex.noise_cloud(s, tuple(s.start), "momentum", {"lr": 0.001}, 500, 50,
                                                      1.0, None))
    t_fig, fig = best_of(r, lambda: vx.cloud_figure(s, img, cloud.path, cloud.clean_path))
    report("noise cloud: 50 runs x 500 steps, Momentum, Rosenbrock", t_core, t_fig, fig)


if __name__ == "__main__":
    main()
