"""Benchmark the NumPy networks against the PyTorch loop a user would write.

    .venv/bin/python scripts/bench_network.py [--activation tanh|relu] [--repeat N]
                                              [--torch-threads T] [--full] [--roofline]

The problem: landscapes.network("moons", hidden=(16, 16)), a 2-16-16-1 MLP (337 weights)
on 400 points, full-batch Adam (lr 0.01), 500 steps. Every ratio is measured in this run,
NumPy and torch timed alternately, each the best of N; wall-clock and process CPU time are
both reported (on a machine shared with other jobs, CPU time is the steadier of the two).

(a) one run: our loop (net.grad + the Adam rule on (D,) arrays, then the loss along the
    path in one batched call) versus the torch loop (forward, BCEWithLogitsLoss, backward,
    torch.optim.Adam step) on the same float64 model;
(b) 64 runs (64 seeded initializations) in one loop on (64, D) arrays versus 64 torch loops
    (timed on 8 of them and scaled, unless --full); and the same 64 runs through
    optimizers.run (what the Networks page calls: it also checks divergence and records the
    loss), against the same torch timing;
(c) a 41 x 41 slice of the loss on a filter-normalized plane (1,681 full-data losses in one
    batched evaluation) versus torch evaluating the same 1,681 weight vectors one by one.

--roofline adds where a step of the 64 runs goes, measured in this run: the matrix products
(their FLOPs and a 1000 x 1000 matmul's rate), np.tanh (ns a value), the other passes and
Python, against the 64-run loop's CPU time (the GFLOP/s it reaches).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from make_network_references import torch_model  # noqa: E402

import landscapes  # noqa: E402
import optimizers  # noqa: E402
from landscapes import planes  # noqa: E402

STEPS = 500
RUNS = 64
SAMPLED = 8  # torch loops timed for (b) unless --full
GRID = 41
REQUIRED = {"one run": 3.0, f"{RUNS} runs": 8.0}
SLICE_SECONDS = 0.5


def numpy_runs(net, starts, steps=STEPS, lr=0.01):
    """Adam from starts (D,) or (R, D): the rule's step on arrays; the loss at each step comes
    with its gradient (value_and_grad), the last one from f."""
    rule = optimizers.rule("adam")
    h = SimpleNamespace(**optimizers.get("adam", lr=lr).hyper)
    w = starts.copy()
    state = rule.start_state(w.shape)
    path = np.empty((steps + 1, *w.shape))
    loss = np.empty((steps + 1, *w.shape[:-1]))
    path[0] = w
    for t in range(steps):
        loss[t], g = net.value_and_grad(w)
        u, state = rule.step(g, state, h, lr, np, w)
        w = w + u
        path[t + 1] = w
    loss[steps] = net.f(w)
    return path, loss


def torch_run(net, start, steps=STEPS, lr=0.01):
    """The torch loop: losses (steps + 1,) and final weights."""
    model = torch_model(net, start)
    x, y = torch.from_numpy(net.data.x), torch.from_numpy(net.data.y)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x).squeeze(-1), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        losses.append(loss_fn(model(x).squeeze(-1), y).item())
    return np.array(losses), parameters_to_vector(model.parameters()).detach().numpy()


def torch_slice(net, points):
    """The loss at each weight vector (k, D), one forward pass each."""
    model = torch_model(net, points[0])
    x, y = torch.from_numpy(net.data.x), torch.from_numpy(net.data.y)
    out = np.empty(len(points))
    with torch.no_grad():
        for i, w in enumerate(points):
            vector_to_parameters(torch.from_numpy(w), model.parameters())
            out[i] = torch.nn.functional.binary_cross_entropy_with_logits(model(x).squeeze(-1), y).item()
    return out


def timed(fn) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def compare(ours, theirs, repeat: int, scale: float = 1.0) -> dict:
    """Best wall and CPU seconds of each side, timed alternately after one warm-up each. ``ours``:
    a function, or a dict of named functions (each against the same torch timing)."""
    mine = ours if isinstance(ours, dict) else {"ours": ours}
    sides = {**mine, "torch": theirs}
    for fn in sides.values():
        fn()
    best = {name: [np.inf, np.inf] for name in sides}
    for _ in range(repeat):
        for name, fn in sides.items():
            t = timed(fn)
            best[name] = [min(b, v) for b, v in zip(best[name], t, strict=True)]
    best["torch"] = [v * scale for v in best["torch"]]
    return best


def step_flops(net) -> float:
    """Floating-point operations of one gradient step of one run: the matrix products of the
    forward pass ([W | b] @ [a; 1]), of the weight gradients (d @ [a; 1]^T) and of the gradients
    sent back (W^T d), 2 per multiply-add."""
    m = net.data.n
    layers = net.layers
    forward = sum(la.out * (la.inp + 1) for la in layers)
    back = sum(la.out * la.inp for la in layers[1:])
    return 2.0 * m * (2 * forward + back)


def per_value(fn, values: int, repeat: int = 20) -> float:
    """Best CPU nanoseconds a value of fn (run ``repeat`` times), over 5 tries."""
    best = np.inf
    for _ in range(5):
        c = time.process_time()
        for _ in range(repeat):
            fn()
        best = min(best, (time.process_time() - c) / repeat)
    return best / values * 1e9


class TimedNumpy:
    """NumPy with its calls timed (process CPU time, summed per function name): put in place of
    landscapes.mlp's ``np`` to see where the network's own code spends its time."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def __getattr__(self, name):
        fn = getattr(np, name)
        if not callable(fn) or isinstance(fn, type):
            return fn
        return TimedCall(fn, name, self.seconds)


class TimedCall:
    """A NumPy function (or ufunc: its methods too, as ``add.reduce``) that adds its CPU time to
    seconds[name]."""

    def __init__(self, fn, name: str, seconds: dict):
        self.fn, self.name, self.seconds = fn, name, seconds

    def __call__(self, *args, **kwargs):
        c = time.process_time()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds[self.name] = self.seconds.get(self.name, 0.0) + time.process_time() - c

    def __getattr__(self, attr):
        return TimedCall(getattr(self.fn, attr), f"{self.name}.{attr}", self.seconds)


def roofline(net, starts, runs_cpu: float, steps: int = 50) -> None:
    """Where the 64 runs' time goes: the network's NumPy calls timed inside its own code over
    ``steps`` Adam steps (scaled to STEPS), against the floor of the machine measured now (matrix
    products at a 1000 x 1000 matmul's rate, np.tanh at its cost a value)."""
    a = np.random.default_rng(0).standard_normal((1000, 1000))
    gflops = 2.0 / per_value(lambda: a @ a, 10**9, 3)  # 2e9 FLOPs a product, over its seconds, in G
    x = np.random.default_rng(1).uniform(-2, 2, (8, 16, net.data.n))
    tanh_ns = per_value(lambda: np.tanh(x, out=x), x.size, 200)
    flops = step_flops(net) * RUNS * STEPS
    tanhs = RUNS * STEPS * net.data.n * sum(net.hidden)
    spy = TimedNumpy()
    landscapes.mlp.np = spy
    try:
        c = time.process_time()
        numpy_runs(net, starts, steps=steps)
        spent = (time.process_time() - c) * STEPS / steps
    finally:
        landscapes.mlp.np = np
    calls = {k: v * STEPS / steps for k, v in spy.seconds.items()}
    groups = {"matmul": "matrix products", "tanh": "np.tanh",
              "multiply subtract": "other elementwise passes (slope, W^T d, ...)",
              "exp abs log1p maximum add.reduce where": "loss and sigmoid (400 values a run)",
              "take concatenate empty": "gathering [W | b] and the gradient"}
    print(f"\nWhere the {RUNS} runs x {STEPS} steps go (CPU seconds; the network's calls timed in its "
          f"own code over {steps} steps, scaled; the timers add some):")
    print(f"  {'':>46} {'measured':>9} {'floor':>7}")
    floors = {"matrix products": flops / gflops / 1e9, "np.tanh": tanhs * tanh_ns / 1e9}
    for names, label in groups.items():
        sec = sum(calls.pop(k, 0.0) for k in names.split())
        floor = f"{floors[label]:6.2f}s" if label in floors else ""
        print(f"  {label:>46} {sec:8.2f}s {floor:>7}")
    rest = spent - sum(spy.seconds.values()) * STEPS / steps + sum(calls.values())
    print(f"  {'the Adam update, Python and the rest':>46} {rest:8.2f}s")
    print(f"  {'the loop (timers in)':>46} {spent:8.2f}s {sum(floors.values()):6.2f}s")
    print(f"  matrix products: {flops / 1e9:.1f} GFLOP, {gflops:.0f} GFLOP/s for a 1000 x 1000 matmul here; "
          f"np.tanh: {tanhs / 1e6:.0f} M values at {tanh_ns:.2f} ns")
    print(f"  the loop timed above: {runs_cpu:.2f} s CPU, {flops / runs_cpu / 1e9:.1f} GFLOP/s reached")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--activation", default="tanh", choices=landscapes.mlp.ACTIVATIONS)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--torch-threads", type=int, default=1)
    ap.add_argument("--full", action="store_true", help=f"time all {RUNS} torch loops in (b)")
    ap.add_argument("--roofline", action="store_true", help="where a step of the 64 runs goes")
    args = ap.parse_args()
    torch.set_num_threads(args.torch_threads)
    torch.set_default_dtype(torch.float64)
    net = landscapes.network("moons", hidden=(16, 16), activation=args.activation, n=400, noise=0.2, seed=0)
    starts = net.init(range(RUNS))

    # the two sides agree before they are timed
    path, loss = numpy_runs(net, net.start, steps=50)
    ref, end = torch_run(net, net.start, steps=50)
    assert np.allclose(loss, ref, rtol=1e-7) and np.allclose(path[-1], end, rtol=1e-7, atol=1e-12)

    sampled = starts if args.full else starts[:: RUNS // SAMPLED]
    plane = planes.random(net, net.start, seed=0)
    a, b = np.meshgrid(np.linspace(-1, 1, GRID), np.linspace(-1, 1, GRID))
    grid_points = plane.point(a, b).reshape(-1, net.dim)
    rows = {
        "one run": compare(lambda: numpy_runs(net, net.start), lambda: torch_run(net, net.start),
                           args.repeat),
        f"{RUNS} runs": compare({"ours": lambda: numpy_runs(net, starts), "run": lambda: optimizers.run(
                                    optimizers.get("adam", lr=0.01), net, start=starts, steps=STEPS,
                                    record=False)},
                                lambda: [torch_run(net, s) for s in sampled], max(1, args.repeat - 1),
                                RUNS / len(sampled)),
        f"{GRID}x{GRID} slice": compare(lambda: planes.grid(net, plane, (-1, 1), (-1, 1), GRID),
                                        lambda: torch_slice(net, grid_points), args.repeat),
    }
    print(f"{net.title}, {net.dim} weights; Adam, {STEPS} steps; torch {torch.__version__} with "
          f"{args.torch_threads} thread(s), float64; best of {args.repeat}")
    print(f"{'':>12} {'NumPy wall':>11} {'torch wall':>11} {'ratio':>7} {'NumPy CPU':>10} {'torch CPU':>10} "
          f"{'ratio':>7} {'target':>7}")
    for name, r in rows.items():
        (tw, tc) = r["torch"]
        target = f"{REQUIRED[name]:g}x" if name in REQUIRED else f"<{SLICE_SECONDS:g} s"
        for side in (k for k in r if k != "torch"):
            (ow, oc) = r[side]
            label = name if side == "ours" else "  (.run)"
            print(f"{label:>12} {ow:10.3f}s {tw:10.3f}s {tw / ow:6.1f}x {oc:9.3f}s {tc:9.3f}s "
                  f"{tc / oc:6.1f}x {target:>7}")
    if not args.full:
        print(f"({RUNS} torch loops: {len(sampled)} timed, scaled by {RUNS // len(sampled)}; (.run): the "
              "same runs through optimizers.run)")
    if args.roofline:
        roofline(net, starts, rows[f"{RUNS} runs"]["ours"][1])


if __name__ == "__main__":
    main()
