"""What the Playground's stage (its map component) is sent: the landscape, the runs and their
learning-rate families, as one binary payload (``pack``): a JSON header and the float32 arrays' bytes.

The browser draws everything from this (viz/stage.js, beside this file: one module for the app, the
exported page and the notebook widget): the map, the loss chart, the 3-D
view and the playback. Each run comes twice: exactly, at full resolution (every step reachable,
with its gradients for the arrows), and as its family, the same run at every learning rate of
its slider (thinned to every k-th step when all families together would exceed FAMILY_POINTS),
so that dragging a learning-rate slider switches paths in the browser.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from descent_lab.setup import STEPS_PER_SECOND
from landscapes import Surface
from optimizers import Trajectory
from optimizers.analysis import stable_lr

from .explain import explain_data
from .landscape import (
    COLORMAP,
    display_transform,
    global_minima,
    landscape_floor,
    landscape_grid,
    log_title,
    toned_colorscale,
)
from .playground import RunView

#: the stage's ES module and style, shipped with this package (pyproject package-data)
STAGE_JS = Path(__file__).with_name("stage.js")
STAGE_CSS = Path(__file__).with_name("stage.css")
#: path points of all runs' learning-rate families together, beyond which families are thinned
FAMILY_POINTS = 60_000
#: the smallest f - f* the loss chart shows (a log axis); values below are drawn at this floor
GAP_FLOOR = 1e-16
#: largest value sent for a loss (float32 holds 3.4e38; a diverging run's loss goes beyond)
LOSS_CEILING = 1e30
HOVER_GRID = 61  # f on an n x n grid, for the map's hover read-out
GRID_3D = 100


F32_MAX = float(np.finfo(np.float32).max)


def f32(a) -> np.ndarray:
    """``a`` as sent: little-endian float32, flat. NaN stays NaN; values beyond float32's range
    (a diverging run's gradient) are sent as its largest value, with their sign."""
    a = np.clip(np.asarray(a, dtype=float), -F32_MAX, F32_MAX)
    return np.ascontiguousarray(a, dtype="<f4").ravel()


#: how ``pack`` names the NumPy dtypes it sends (the browser's typed arrays: Float32Array, Float64Array)
DTYPES = {"<f4": "f4", "<f8": "f8"}
ARRAY = "$a"  # a header's reference to an array: {"$a": [dtype, byte offset into the body, length]}


def pack(data: dict) -> bytes:
    """``data`` as the stage receives it (no base64, no JSON of numbers): a uint32 (little-endian)
    header length n, the header (UTF-8 JSON of ``data`` with every NumPy array replaced by a
    reference), zero padding to a multiple of 8, then the body: the arrays' bytes, each padded to a
    multiple of 8 (viz/stage.js ``unpack`` reads it as typed-array views)."""
    blobs: list[bytes] = []
    size = 0

    def ref(a):
        nonlocal size
        if not isinstance(a, np.ndarray) or a.dtype.str not in DTYPES:
            raise TypeError(f"the stage cannot send {type(a).__name__}")
        raw = np.ascontiguousarray(a).tobytes()
        blobs.append(raw + bytes(-len(raw) % 8))
        size, offset = size + len(blobs[-1]), size
        return {ARRAY: [DTYPES[a.dtype.str], offset, a.size]}

    head = json.dumps(data, default=ref, separators=(",", ":")).encode()
    return b"".join([struct.pack("<I", len(head)), head, bytes(-(4 + len(head)) % 8), *blobs])


def unpack(payload: bytes) -> dict:
    """``pack``'s inverse: the data with its arrays as read-only NumPy views of ``payload``."""
    (n,) = struct.unpack_from("<I", payload)
    start = 4 + n + (-(4 + n) % 8)
    dtypes = {v: k for k, v in DTYPES.items()}

    def revive(obj: dict):
        if set(obj) == {ARRAY}:
            dtype, offset, length = obj[ARRAY]
            return np.frombuffer(payload, dtypes[dtype], length, start + offset)
        return obj

    return json.loads(payload[4:4 + n], object_hook=revive)


def stride(steps: int, family_sizes: Sequence[int], budget: int = FAMILY_POINTS) -> int:
    """Every how many steps the families keep a point so that all of them hold at most ``budget``
    points (1: every step)."""
    total = (steps + 1) * sum(family_sizes)
    return max(1, -(-total // budget))


def kept_steps(steps: int, k: int) -> np.ndarray:
    """The steps a family thinned to every ``k``-th step keeps: 0, k, 2k, ... and always the last."""
    return np.unique(np.append(np.arange(0, steps + 1, k), steps))


def gap(loss, fstar: float) -> np.ndarray:
    """f - f* as the loss chart shows it: floored at GAP_FLOOR, capped at LOSS_CEILING, NaN kept."""
    with np.errstate(invalid="ignore"):
        return np.clip(np.asarray(loss, dtype=float) - fstar, GAP_FLOOR, LOSS_CEILING)


def loss_reference(surface: Surface, losses: Sequence) -> tuple[float, str]:
    """What the loss chart measures from and its axis title: f* where the surface has a global
    minimum, else the lowest finite f among ``losses`` (arrays: f on the map, the runs' losses)."""
    if surface.has_global_min:
        return surface.global_min, "f - f* (log scale)"
    seen = np.concatenate([np.ravel(a) for a in losses]) if len(losses) else np.zeros(0)
    seen = seen[np.isfinite(seen)]
    return (float(seen.min()) if seen.size else 0.0,
            "f - lowest f shown (log scale; no minimum in this domain)")


def _labels(slot: int, tr: Trajectory, lrs: Sequence[float]) -> list[str]:
    """The run's label at each learning rate, as compute.label writes it ('1. GD (lr=0.001)')."""
    opt = tr.optimizer
    return [f"{slot + 1}. {replace(opt, hyper={**opt.hyper, 'lr': lr}).describe(short=True)}" for lr in lrs]


def stage_data(
    surface: Surface,
    views: Sequence[RunView],
    families: Sequence,
    image: tuple[str, float, float],
    *,
    arrows: bool = True,
    show3d: bool = False,
    multiples: bool = False,
    speed: str = "1x",
    explain: bool = False,
) -> dict:
    """Everything the stage draws, for ``views`` (the exact runs) and ``families`` (each a
    descent_lab.families.Family of the same run, in the same order).

    Digests of the content (``version``) and of what the map's axes show (``map_version``) let the
    browser skip redrawing what it already shows. ``explain``: each run also carries the numbers of
    explain mode (viz.explain), float64 and so sent only when the mode is on.
    """
    uri, cmin, cmax = image
    (x0, x1), (y0, y1) = surface.domain
    steps = views[0].trajectory.steps if views else 0
    k = stride(steps, [len(f.lrs) for f in families])
    keep = kept_steps(steps, k)
    fg = landscape_grid(surface, HOVER_GRID)[2]
    fstar, gap_title = loss_reference(surface, [fg, *(f.trajectory.loss for f in families)])
    show3d = show3d and not multiples
    if show3d:
        z3 = landscape_floor(surface, GRID_3D)
        show, ztitle = display_transform(surface, z3)
    runs = []
    for slot, (view, fam) in enumerate(zip(views, families, strict=True)):
        tr, ft = view.trajectory, fam.trajectory
        run = {
            "label": view.label, "color": view.color, "lrs": list(fam.lrs), "index": fam.index,
            "labels": _labels(slot, tr, fam.lrs),
            # the largest stable lr at the start (GD, momentum, Nesterov on a surface with a Hessian), or None
            "stable_lr": stable_lr(surface, tr.path[0], tr.optimizer.name, tr.optimizer.hyper),
            "diverged": [int(d) for d in np.atleast_1d(ft.diverged_at)],
            # family: (R, 2, kept) path, (R, kept) f - f*
            "fam_path": f32(np.moveaxis(ft.path[keep], 0, -1)),
            "fam_gap": f32(gap(ft.loss[keep], fstar).T),
            # the run itself: (2, steps + 1) path, (steps + 1,) f and f - f*, (2, steps) gradient
            "path": f32(tr.path.T), "loss": f32(np.clip(tr.loss, -LOSS_CEILING, LOSS_CEILING)),
            "gap": f32(gap(tr.loss, fstar)), "grad": f32(tr.grad.T),
        }
        if explain:
            run["explain"] = explain_data(tr)
        if show3d:
            with np.errstate(all="ignore"):
                run["z"] = f32(show(tr.loss))
                run["fam_z"] = f32(show(ft.loss[keep]).T)
        runs.append(run)
    data = {
        "steps": steps, "stride": k, "kept": len(keep),
        "domain": [x0, x1, y0, y1], "title": surface.title,
        "image": uri, "cmin": cmin, "cmax": cmax, "colorscale": toned_colorscale(),
        "cbtitle": log_title(surface) if surface.log_scale else "f",
        "minima": np.asarray(surface.minima, dtype=float).round(6).tolist(),
        "minima_global": global_minima(surface),
        "hover_n": HOVER_GRID, "hover_f": f32(fg),
        "gap_title": gap_title,
        "runs": runs, "arrows": bool(arrows), "multiples": bool(multiples), "speed": speed,
        "show3d": bool(show3d), "explain": bool(explain), "steps_per_s": STEPS_PER_SECOND,
    }
    if show3d:
        zs = show(z3)
        zlo, zhi = float(np.nanmin(zs)), float(np.nanmax(zs))
        data["grid3d"] = {"n": GRID_3D, "z": f32(zs), "ztitle": ztitle, "colorscale": COLORMAP.capitalize(),
                          "zrange": [zlo, zhi + 0.05 * (zhi - zlo)], "lift": 0.02 * (zhi - zlo)}
    data["version"] = _digest(data)
    # what the map's axes show (surface, picture, colour bar): the browser redraws them only when it changes
    data["map_version"] = _digest([data[k] for k in ("domain", "image", "cmin", "cmax", "cbtitle", "minima",
                                                      "minima_global")])
    return data


def _digest(obj) -> str:
    text = json.dumps(obj, sort_keys=True, default=_array_digest)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _array_digest(a: np.ndarray) -> str:
    """An array's place in a digest: its type, shape and a digest of its bytes."""
    digest = hashlib.blake2b(np.ascontiguousarray(a).tobytes(), digest_size=16).hexdigest()
    return f"{a.dtype.str}{a.shape}:{digest}"
