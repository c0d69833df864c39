"""Record reference trajectories with PyTorch into tests/fixtures/torch_reference.npz.

    .venv/bin/python scripts/make_references.py

Each case runs a float64 parameter of shape (2,) under the torch.optim optimizer
(and lr_scheduler) that our optimizer of the same name claims to match. The
gradient fed to torch is our own analytic one, ``surface.grad(p)``, so the
comparison isolates the update rules and schedules from the surfaces.

The fixture holds ``cases`` (a JSON list of specs with everything needed to
rerun a case with our API: surface and its parameters, start, optimizer name,
every hyperparameter, every schedule setting), ``path`` (N, STEPS+1, 2) and
``lr`` (N, STEPS): the positions and the learning rate used by each update, and
``sensitivity`` (N,): how far each path moves when lr and start are nudged by 1e-12.
tests/test_reference.py replays every case with ``optimizers.run``.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import landscapes  # noqa: E402
import optimizers  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "torch_reference.npz"
STEPS = 300
#: Starts of the cases off Rosenbrock, pinned so that a new default start in the catalog
#: does not make the fixture stale (Rosenbrock cases use its default start, as the brief says).
PINNED_STARTS = {
    "elongated_bowl": (-2.8, 1.5),
    "himmelblau": (-0.5, -0.5),
    "wells": (-3.2, -1.6),
    "beale": (-1.0, 1.5),
    "goldstein_price": (-1.5, 1.5),
}


def _case(surface, optimizer, start=None, surface_params=None, schedule=None, chaotic=False,
          **hyper) -> dict:
    """A full spec: defaults filled in, so the fixture does not depend on today's defaults."""
    s = landscapes.get(surface, **(surface_params or {}))
    full = optimizers.rule(optimizer).defaults() | hyper
    sched = optimizers.Schedule(**(schedule or {}))
    sched_spec = {k: getattr(sched, k) for k in ("kind", *optimizers.schedules.PARAMS)}
    first = start if start is not None else PINNED_STARTS.get(surface, s.start)
    spec = dict(
        surface=surface,
        surface_params=surface_params or {},
        start=[float(v) for v in first],
        optimizer=optimizer,
        hyper={k: float(v) for k, v in full.items()},
        schedule=sched_spec,
        chaotic=chaotic,
    )
    spec["id"] = _case_id(spec, hyper, schedule or {}, start)
    return spec


def _case_id(spec, hyper, schedule, start) -> str:
    parts = [spec["optimizer"], spec["surface"]]
    parts += [f"{k}={v:g}" for k, v in spec["surface_params"].items()]
    parts += [f"{k}={v:g}" for k, v in hyper.items()] or ["defaults"]
    if start is not None:
        parts.append("start=({:g},{:g})".format(*start))
    if schedule:
        parts.append("+".join(f"{k}={v}" for k, v in schedule.items()))
    return "-".join(parts)


def cases() -> list[dict]:
    """The reference cases (ids are unique and readable)."""
    c = _case
    out = [
        # Every optimizer on Rosenbrock from its default start: defaults, then other settings.
        c("rosenbrock", "gd"),
        c("rosenbrock", "gd", lr=5e-4),
        c("rosenbrock", "momentum"),
        c("rosenbrock", "momentum", lr=3e-4, beta=0.95),
        c("rosenbrock", "nesterov"),
        c("rosenbrock", "nesterov", lr=2e-4, beta=0.97),
        c("rosenbrock", "adagrad"),
        c("rosenbrock", "adagrad", lr=0.5, eps=1e-6),
        # RMSProp's defaults zig-zag across the valley with steps of about lr: a chaotic run
        # (declared, see check()). It still matches torch because the arithmetic is the same.
        c("rosenbrock", "rmsprop", chaotic=True),
        c("rosenbrock", "rmsprop", lr=0.003, beta=0.999),
        c("rosenbrock", "rmsprop", lr=0.002, beta=0.999, eps=1e-4),
        c("rosenbrock", "adam"),
        c("rosenbrock", "adam", lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6),
        c("rosenbrock", "nadam"),
        c("rosenbrock", "nadam", lr=0.02, beta1=0.95, beta2=0.99, momentum_decay=0.02),
        c("rosenbrock", "nadam", momentum_decay=0.1),
        c("rosenbrock", "adamw"),
        c("rosenbrock", "adamw", lr=0.05, weight_decay=0.1),
        c("rosenbrock", "radam"),
        c("rosenbrock", "radam", lr=0.002, beta1=0.8, beta2=0.99, eps=1e-6),
        c("himmelblau", "radam", lr=0.01, beta2=0.9, start=(1.0, -3.5)),
        # Other surfaces (wells goes through exp; Goldstein-Price has huge gradients).
        c("elongated_bowl", "gd", lr=0.08),
        c("elongated_bowl", "momentum", lr=0.02, beta=0.8, surface_params={"condition": 50.0}),
        c("himmelblau", "nesterov", lr=0.005, beta=0.8),
        c("himmelblau", "adam", lr=0.05, start=(1.0, -3.5)),
        c("wells", "momentum", lr=0.1, beta=0.9),
        # A large eps, so that where eps sits (outside the root, after bias correction) shows.
        c("wells", "adam", lr=0.1, eps=0.3),
        c("wells", "nadam", lr=0.1, eps=0.5),
        c("wells", "adagrad", lr=0.5, eps=0.1),
        c("beale", "adam", lr=0.01),
        c("beale", "rmsprop", lr=0.002),
        c("goldstein_price", "adam", lr=0.02, start=(0.5, -0.3)),
        c("goldstein_price", "nadam", lr=0.01, start=(-0.5, 0.5)),
        c("himmelblau", "adamw", lr=0.05, weight_decay=0.3, start=(1.0, -3.5)),
        # Schedules.
        c("rosenbrock", "momentum", schedule=dict(kind="step", step_size=50, gamma=0.5)),
        c("rosenbrock", "adam", lr=0.03, schedule=dict(kind="exponential", gamma=0.99)),
        c("himmelblau", "rmsprop", lr=0.05, schedule=dict(kind="cosine", eta_min=1e-3)),
        c("rosenbrock", "nadam", lr=0.02, schedule=dict(kind="cosine", t_max=120, eta_min=2e-3)),
        c("rosenbrock", "adam", lr=0.05, schedule=dict(kind="cosine", warmup=30, warmup_start=0.1)),
        c("rosenbrock", "nesterov", schedule=dict(kind="step", step_size=100, gamma=0.5, warmup=20,
                                                  warmup_start=0.25)),
        c("wells", "gd", lr=0.5, schedule=dict(kind="exponential", gamma=0.995, warmup=10)),
        c("elongated_bowl", "adagrad", lr=0.3, schedule=dict(warmup=50, warmup_start=0.05)),
    ]
    ids = [x["id"] for x in out]
    assert len(set(ids)) == len(ids), "case ids must be unique"
    return out


def torch_optimizer(params, name: str, h: dict) -> torch.optim.Optimizer:
    """The torch.optim optimizer that our ``name`` with hyperparameters ``h`` claims to be: the
    class and keyword arguments its registry entry names (the same ones its code panel shows)."""
    rule = optimizers.rule(name)
    return getattr(torch.optim, rule.torch_class)(params, **rule.torch_args(SimpleNamespace(**h)))


def torch_scheduler(opt, sched: dict, steps: int):
    """The lr_scheduler for our Schedule settings, or None for a constant rate."""
    lrs = torch.optim.lr_scheduler
    kind = sched["kind"]
    main = None
    if kind == "step":
        main = lrs.StepLR(opt, step_size=sched["step_size"], gamma=sched["gamma"])
    elif kind == "exponential":
        main = lrs.ExponentialLR(opt, gamma=sched["gamma"])
    elif kind == "cosine":
        main = lrs.CosineAnnealingLR(opt, T_max=sched["t_max"] or steps, eta_min=sched["eta_min"])
    if sched["warmup"] > 0:
        # Built before the main schedule, as ChainedScheduler([LinearLR, main]) is written.
        warm = lrs.LinearLR(opt, start_factor=sched["warmup_start"], end_factor=1.0,
                            total_iters=sched["warmup"])
        return warm if main is None else lrs.ChainedScheduler([warm, main])
    return main


def torch_run(spec: dict, steps: int = STEPS) -> tuple[np.ndarray, np.ndarray]:
    """Run one case with torch.optim: positions (steps+1, 2) and the lr of each update (steps,)."""
    torch.set_default_dtype(torch.float64)
    surface = landscapes.get(spec["surface"], **spec["surface_params"])
    p = torch.tensor(spec["start"], dtype=torch.float64, requires_grad=True)
    opt = torch_optimizer([p], spec["optimizer"], spec["hyper"])
    sched = torch_scheduler(opt, spec["schedule"], steps)
    path = np.empty((steps + 1, 2))
    lr = np.empty(steps)
    path[0] = p.detach().numpy()
    for t in range(steps):
        lr[t] = opt.param_groups[0]["lr"]
        p.grad = torch.tensor(surface.grad(p.detach().numpy()), dtype=torch.float64)
        opt.step()
        if sched is not None:
            sched.step()
        path[t + 1] = p.detach().numpy()
    return path, lr


def sensitivity(spec: dict, path: np.ndarray, rel: float = 1e-12) -> float:
    """How far the torch run moves when lr and start are nudged by ``rel``: max |path change|.

    Our runs differ from torch's by rounding (e.g. beta^t as a running product, the
    recursive cosine schedule of torch), so a reference is only a fair test at 1e-7 if
    such tiny changes stay tiny. A well-conditioned run answers about ``rel``.
    """
    nudged = copy.deepcopy(spec)
    nudged["hyper"]["lr"] *= 1 + rel
    nudged["start"] = [v * (1 + rel) + rel for v in spec["start"]]
    return float(np.abs(torch_run(nudged)[0] - path).max())


def check(spec: dict, path: np.ndarray, sens: float) -> None:
    """A reference must stay finite, inside the domain, move, and be well-conditioned
    unless declared chaotic."""
    name = spec["id"]
    if not np.all(np.isfinite(path)):
        raise RuntimeError(f"{name}: the torch run is not finite")
    scale = landscapes.get(spec["surface"], **spec["surface_params"]).scale
    if np.abs(path).max() > scale:
        raise RuntimeError(f"{name}: the torch run leaves the domain (max |p| {np.abs(path).max():g})")
    moved = np.linalg.norm(path[-1] - path[0])
    if moved < 1e-2 * scale:
        raise RuntimeError(f"{name}: the torch run barely moves ({moved:g})")
    if (sens > 1e-8 * scale) != spec["chaotic"]:
        raise RuntimeError(f"{name}: a 1e-12 nudge moves the path by {sens:.1e}; "
                           f"chaotic={spec['chaotic']} is wrong")


def make() -> dict[str, np.ndarray]:
    specs = cases()
    paths, lrs, sens = [], [], []
    for spec in specs:
        path, lr = torch_run(spec)
        sens.append(sensitivity(spec, path))
        check(spec, path, sens[-1])
        paths.append(path)
        lrs.append(lr)
    return dict(
        cases=np.array(json.dumps(specs)),
        torch_version=np.array(torch.__version__),
        path=np.stack(paths),
        lr=np.stack(lrs),
        sensitivity=np.array(sens),
    )


def main() -> None:
    data = make()
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(FIXTURE, **data)
    print(f"wrote {len(data['path'])} cases x {STEPS} steps to {FIXTURE.relative_to(ROOT)} "
          f"({FIXTURE.stat().st_size / 1024:.0f} KiB, torch {torch.__version__})")


if __name__ == "__main__":
    main()
