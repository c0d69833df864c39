"""Record PyTorch references for the NumPy networks into tests/fixtures/network_reference.npz.

    .venv/bin/python scripts/make_network_references.py

The torch model is nn.Sequential(Linear, Tanh | ReLU, ..., Linear) in float64 with
BCEWithLogitsLoss (mean), on the data set of ``landscapes.network(...)`` and with its
weights loaded by ``vector_to_parameters`` (our weight layout is torch's parameter order).

Two kinds of references, each a JSON spec plus arrays:
- points: loss, autograd gradient, a mini-batch gradient and a Hessian-vector product
  (double backward) at the network's start and at a seeded perturbation of it;
- runs: torch.optim on the torch model for STEPS steps (full batch, or the stored
  mini-batch indices), keeping the loss at every step and the weights at KEEP steps
  (the whole path would make the fixture large).
tests/test_network.py replays every case with the NumPy code and our optimizers.

The Networks page's options get a second fixture, tests/fixtures/network_options_reference.npz
(OPTION_NETS, option_cases): input features (x², xy, sin x, ...) computed by torch from the
points, and the L2 term: points add (l2 / 2) |w|² to the torch loss; runs train plain
BCEWithLogitsLoss with torch.optim's ``weight_decay=l2`` (SGD, Adam), which our optimizers on the
network with ``l2`` match, and AdamW (decoupled decay) on the network.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from make_references import torch_optimizer  # noqa: E402

import landscapes  # noqa: E402
import optimizers  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "network_reference.npz"
OPTIONS_FIXTURE = ROOT / "tests" / "fixtures" / "network_options_reference.npz"
STEPS = 100
KEEP = (1, 10, 100)  # steps whose weights are stored
BATCH = 16  # samples per mini-batch in the mini-batch cases

POINT_NETS = [
    dict(data="moons", hidden=[16, 16], activation="tanh", n=400, noise=0.2, seed=0),
    dict(data="spirals", hidden=[8, 8, 8], activation="relu", n=100, noise=0.1, seed=3),
]
RUN_NET = dict(data="moons", hidden=[8, 8], activation="tanh", n=64, noise=0.2, seed=1)
RELU_NET = dict(data="xor", hidden=[8, 8], activation="relu", n=64, noise=0.1, seed=2)
OPTION_NETS = [
    dict(data="circles", hidden=[6, 5], activation="tanh", n=80, noise=0.1, seed=5,
         features=["x", "y", "x2", "y2", "xy", "sinx", "siny"], l2=0.01),
    dict(data="xor", hidden=[6], activation="relu", n=80, noise=0.1, seed=6, features=["xy", "sinx"], l2=0.0),
]
FEATURE_NET = dict(data="circles", hidden=[8], activation="tanh", n=64, noise=0.1, seed=1,
                   features=["x2", "y2", "xy"])


def _run(optimizer, net=RUN_NET, minibatch=False, **hyper) -> dict:
    full = optimizers.rule(optimizer).defaults() | hyper
    parts = [optimizer, net["data"], net["activation"], *(f"{k}={v:g}" for k, v in hyper.items())]
    if minibatch:
        parts.append(f"batch={BATCH}")
    return dict(id="-".join(parts), net=net, optimizer=optimizer,
                hyper={k: float(v) for k, v in full.items()}, minibatch=minibatch)


def run_cases() -> list[dict]:
    c = _run
    return [
        c("gd", lr=0.5),
        c("momentum", lr=0.1, beta=0.9),
        c("nesterov", lr=0.1, beta=0.9),
        c("adagrad", lr=0.05),
        c("rmsprop", lr=0.01),
        c("adam", lr=0.01),
        c("nadam", lr=0.01),
        c("adam", net=RELU_NET, lr=0.01),
        c("momentum", minibatch=True, lr=0.05, beta=0.9),
        c("adam", minibatch=True, lr=0.01),
    ]


def option_cases() -> list[dict]:
    """Runs with weight decay and features: torch's weight_decay=l2 against our net with l2."""
    def decayed(case, l2):
        return {**case, "id": f"{case['id']}-weight_decay={l2:g}", "weight_decay": l2}

    return [
        decayed(_run("adam", net=FEATURE_NET, lr=0.01), 0.01),
        decayed(_run("gd", net=FEATURE_NET, lr=0.5), 0.01),
        _run("adamw", net=FEATURE_NET, lr=0.01, weight_decay=0.1),
    ]


def network(spec: dict) -> landscapes.Network:
    return landscapes.network(**{**spec, "hidden": tuple(spec["hidden"]),
                                 **({"features": tuple(spec["features"])} if "features" in spec else {})})


def torch_inputs(net: landscapes.Network, x: np.ndarray) -> torch.Tensor:
    """The network's input features of points x (m, 2), computed by torch."""
    u, v = torch.from_numpy(x).unbind(-1)
    make = {"x": lambda: u, "y": lambda: v, "x2": lambda: u**2, "y2": lambda: v**2, "xy": lambda: u * v,
            "sinx": lambda: torch.sin(u), "siny": lambda: torch.sin(v)}
    return torch.stack([make[k]() for k in net.features], -1)


def torch_model(net: landscapes.Network, w: np.ndarray) -> torch.nn.Sequential:
    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[net.activation]
    mods = []
    for k, layer in enumerate(net.layers):
        mods.append(torch.nn.Linear(layer.inp, layer.out, dtype=torch.float64))
        if k < len(net.layers) - 1:
            mods.append(act())
    model = torch.nn.Sequential(*mods)
    vector_to_parameters(torch.tensor(w, dtype=torch.float64), model.parameters())
    return model


def torch_loss(model, net, idx=None):
    x, y = net.data.x, net.data.y
    if idx is not None:
        x, y = x[idx], y[idx]
    logits = model(torch_inputs(net, x)).squeeze(-1)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y))


def penalty(net, params) -> torch.Tensor | float:
    """The L2 term (l2 / 2) |w|² over every parameter."""
    return 0.5 * net.l2 * sum((p**2).sum() for p in params) if net.l2 else 0.0


def _grad(model) -> np.ndarray:
    return parameters_to_vector([p.grad for p in model.parameters()]).detach().numpy().copy()


def points(spec: dict) -> dict[str, np.ndarray]:
    """Loss, gradient, mini-batch gradient and Hessian-vector product at two points."""
    net = network(spec)
    rng = np.random.default_rng(7)
    ws = np.stack([net.start, net.start + 0.5 * rng.standard_normal(net.dim)])
    idx = rng.choice(net.data.n, 32, replace=False)
    v = rng.standard_normal(net.dim)
    out = dict(w=ws, idx=idx, v=v, loss=[], grad=[], batch_grad=[], hvp=[])
    for w in ws:
        model = torch_model(net, w)
        loss = torch_loss(model, net) + penalty(net, model.parameters())
        loss.backward()
        out["loss"].append(loss.item())
        out["grad"].append(_grad(model))
        model.zero_grad()
        (torch_loss(model, net, idx) + penalty(net, model.parameters())).backward()
        out["batch_grad"].append(_grad(model))
        _, hv = torch.autograd.functional.hvp(lambda theta, model=model: _flat_loss(model, net, theta),
                                              torch.tensor(w), torch.tensor(v))
        out["hvp"].append(hv.numpy().copy())
    return {k: np.asarray(a) for k, a in out.items()}


def _flat_loss(model, net, theta):
    """The loss as a function of the flat weight vector (for double backward)."""
    named = dict(model.named_parameters())
    sizes = [p.numel() for p in named.values()]
    parts = [t.view(p.shape) for t, p in zip(torch.split(theta, sizes), named.values(), strict=True)]
    logits = torch.func.functional_call(model, dict(zip(named, parts, strict=True)),
                                        (torch_inputs(net, net.data.x),)).squeeze(-1)
    return (torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(net.data.y))
            + penalty(net, parts))


def batches(case: dict, n: int) -> np.ndarray | None:
    """Mini-batch indices (STEPS, BATCH): a seeded reshuffle every epoch, last partial batch dropped."""
    if not case["minibatch"]:
        return None
    rng = np.random.default_rng(11)
    per_epoch = n // BATCH
    epochs = -(-STEPS // per_epoch)
    order = np.concatenate([rng.permutation(n)[: per_epoch * BATCH] for _ in range(epochs)])
    return order.reshape(-1, BATCH)[:STEPS]


def torch_run(case: dict, start=None) -> tuple[np.ndarray, np.ndarray]:
    """torch.optim on the torch model: weights (STEPS + 1, D) and full-data loss (STEPS + 1,)."""
    net = network(case["net"])
    model = torch_model(net, net.start if start is None else start)
    opt = torch_optimizer(list(model.parameters()), case["optimizer"], case["hyper"])
    if "weight_decay" in case:  # torch's L2 term, for the net with l2 = weight_decay
        opt.param_groups[0]["weight_decay"] = case["weight_decay"]
    idx = batches(case, net.data.n)
    path, loss = [], []
    for t in range(STEPS + 1):
        with torch.no_grad():
            path.append(parameters_to_vector(model.parameters()).numpy().copy())
            loss.append(torch_loss(model, net).item())
        if t == STEPS:
            break
        opt.zero_grad()
        torch_loss(model, net, None if idx is None else idx[t]).backward()
        opt.step()
    return np.array(path), np.array(loss)


def sensitivity(case: dict, path: np.ndarray, rel: float = 1e-12) -> float:
    """Largest relative move of the torch path when lr and the start are nudged by ``rel``:
    a well-conditioned run answers about ``rel``, so 1e-7 comparisons are fair."""
    nudged = copy.deepcopy(case)
    nudged["hyper"]["lr"] *= 1 + rel
    start = network(case["net"]).start
    other, _ = torch_run(nudged, start * (1 + rel))
    return float((np.abs(other - path) / np.maximum(np.abs(path), 1e-3)).max())


def make(point_nets=POINT_NETS, cases=None) -> dict[str, np.ndarray]:
    torch.set_default_dtype(torch.float64)
    out = {}
    for i, spec in enumerate(point_nets):
        for k, a in points(spec).items():
            out[f"points{i}_{k}"] = a
    cases = run_cases() if cases is None else cases
    keep, losses, idx, sens = [], [], [], []
    for case in cases:
        path, loss = torch_run(case)
        s = sensitivity(case, path)
        if not np.all(np.isfinite(path)) or s > 1e-8:
            raise RuntimeError(f"{case['id']}: not a fair reference (sensitivity {s:.1e})")
        if loss[-1] > 0.9 * loss[0]:
            raise RuntimeError(f"{case['id']}: the torch run barely learns ({loss[0]:.3f} -> {loss[-1]:.3f})")
        keep.append(path[list(KEEP)])
        losses.append(loss)
        sens.append(s)
        b = batches(case, network(case["net"]).data.n)
        idx.append(np.full((STEPS, BATCH), -1) if b is None else b)
    out.update(
        point_nets=np.array(json.dumps(point_nets)),
        cases=np.array(json.dumps(cases)),
        keep=np.array(KEEP),
        path=np.stack(keep),
        loss=np.stack(losses),
        idx=np.stack(idx).astype(np.int16),
        sensitivity=np.array(sens),
        torch_version=np.array(torch.__version__),
    )
    return out


def main() -> None:
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    for path, nets, cases in ((FIXTURE, POINT_NETS, run_cases()),
                              (OPTIONS_FIXTURE, OPTION_NETS, option_cases())):
        np.savez_compressed(path, **make(nets, cases))
        print(f"wrote {len(cases)} runs x {STEPS} steps and {len(nets)} point sets to "
              f"{path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} KiB, torch {torch.__version__})")


if __name__ == "__main__":
    main()
