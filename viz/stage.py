"""The stage's payload: one contract for the three places the stage is shown (the Playground's
component, an exported page, the notebook widget). ``stage_payload`` builds it; FIELDS and RUN_FIELDS
below say what each field is and how its arrays are laid out; viz/stage.js (beside this file, one
module for the three hosts) reads it.

The payload is binary (``pack``): a JSON header and the arrays' bytes. The browser draws everything
from it: the map, the loss chart, the 3-D view and the playback. Each run comes twice: exactly, at
full resolution (every step reachable, with its gradients for the arrows), and as its family, the
same run at every learning rate of its slider (thinned to every k-th step when all families together
would exceed FAMILY_POINTS), so that dragging a learning-rate slider switches paths in the browser.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import plotly

from descent_lab import compute
from descent_lab.compute import RunView
from descent_lab.families import Family, lr_family, lr_grid, own_run, row
from descent_lab.setup import STEPS_PER_SECOND, RunSpec, Setup
from landscapes import Surface
from optimizers import Trajectory

from .explain import explain_data
from .landscape import (
    COLORMAP,
    display_transform,
    global_minima,
    landscape_floor,
    landscape_grid,
    log_title,
    rounded_floor,
    toned_colorscale,
)
from .style import f32

#: the stage's ES module and style, shipped with this package (pyproject package-data)
STAGE_JS = Path(__file__).with_name("stage.js")
STAGE_CSS = Path(__file__).with_name("stage.css")
#: what every stage's module starts with, in this order (module_text): unpack, loadPlotly and el, the playback
PAYLOAD_JS = Path(__file__).with_name("payload.js")
PLAYBACK_JS = Path(__file__).with_name("playback.js")
#: path points of all runs' learning-rate families together, beyond which families are thinned
FAMILY_POINTS = 60_000
#: the smallest f - f* the loss chart shows (a log axis); values below are drawn at this floor
GAP_FLOOR = 1e-16
#: largest value sent for a loss (float32 holds 3.4e38; a diverging run's loss goes beyond)
LOSS_CEILING = 1e30
HOVER_GRID = 61  # f on an n x n grid, for the map's hover read-out
GRID_3D = 100  # nodes a side of the 3-D surface (viz.landscape.rounded_floor)
LIFT_3D = 0.02  # the paths float this fraction of the 3-D heights' range above their points, over the surface


#: how ``pack`` names the NumPy dtypes it sends (the browser's typed arrays: Float32Array, Float64Array)
DTYPES = {"<f4": "f4", "<f8": "f8"}
ARRAY = "$a"  # a header's reference to an array: {"$a": [dtype, byte offset into the body, length]}


def module_text(module: Path) -> str:
    """The text of a stage's ES module as every host loads it (the app's components, the exported page,
    the notebook widget): viz/payload.js (``unpack``, ``loadPlotly``, ``el``), viz/playback.js (keys, steps,
    Play and its pace), then ``module``. An inline Streamlit component cannot import another module,
    so the one copy goes in front of each."""
    return "\n".join(f.read_text() for f in (PAYLOAD_JS, PLAYBACK_JS, module))


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


# ---- the fields ------------------------------------------------------------------------------------
# Arrays are flat little-endian float32 ("f4") unless said; a layout such as (R, 2, K) is C order:
# R = the run's learning rates (len(lrs)), S = steps, K = kept (S + 1 when stride is 1), D = 2 (x, y).

#: the payload's top-level fields (those marked "optional" are absent when not sent)
FIELDS = {
    "steps": "int S: the runs' number of steps",
    "stride": "int k: the families keep every k-th step (1: every step)",
    "kept": "int K: the steps a family keeps (0, k, 2k, ..., and always S)",
    "domain": "[x0, x1, y0, y1]: the map's axes",
    "title": "str: the surface's name",
    "image": "str: the landscape picture as a data: URI (PNG), stretched exactly over the domain",
    "cmin": "float: the colour scale's low end (in the picture's displayed value)",
    "cmax": "float: its high end",
    "colorscale": "[[position, colour], ...]: the colour bar's scale",
    "cbtitle": "str: the colour bar's title",
    "minima": "[[x, y], ...]: the surface's known minima",
    "minima_global": "[bool, ...]: which of them are global",
    "hover_n": "int n: the hover grid's size",
    "hover_f": "(n, n) f4: f on an n x n grid over the domain, row j = y_j, for the hover read-out",
    "gap_title": "str: the loss chart's axis title",
    "runs": "[run, ...]: one per run, in the runs' order (RUN_FIELDS)",
    "arrows": "bool: gradient and step arrows shown",
    "multiples": "bool: one panel per run",
    "speed": "str: playback speed ('0.25x' ... '4x')",
    "steps_per_s": "float: steps a second at 1x",
    "show3d": "bool: the 3-D view shown",
    "explain": "bool: explain mode on",
    "every_lr": "bool: every learning rate of each family is step-exact (fam_loss, fam_grad, fam_xp)",
    "every_lr_note": "optional str: why every_lr is off on a standalone stage (said in the explain panel)",
    "grid3d": "optional {n, z: (n, n) f4 displayed value, ztitle, colorscale, zrange: [lo, hi], lift}: "
              "the 3-D view's surface (sent when it is shown, or on a standalone stage)",
    "version": "str: a digest of everything above (the browser redraws only what changed)",
    "map_version": "str: a digest of what the map's axes show",
    "present": "bool: presenter mode (the app's; a page's is the browser's full screen)",
    "plotly_version": "str: the plotly.js the host serves (the app's static file is loaded with it)",
}

#: the fields of each entry of ``runs``
RUN_FIELDS = {
    "label": "str: the run's label ('1. GD (η=0.001)')",
    "color": "str: its colour",
    "lrs": "[float] of length R: its learning-rate slider's values, ascending",
    "index": "int: the run's own lr in lrs",
    "labels": "[str] of length R: the run's label at each lr",
    "stable_lr": "float or None: the largest stable lr at the start (a tick on the slider)",
    "diverged": "[int] of length R: the step each lr diverged at (-1: never)",
    "fam_path": "(R, 2, K) f4: the path at each lr, x row then y row, at the kept steps",
    "fam_gap": "(R, K) f4: f - f* at each lr at the kept steps (GAP_FLOOR .. LOSS_CEILING, NaN kept)",
    "path": "(2, S + 1) f4: the run's own path, x row then y row",
    "loss": "(S + 1,) f4: its f (clipped to +-LOSS_CEILING)",
    "gap": "(S + 1,) f4: its f - f*",
    "grad": "(2, S) f4: its gradient at each update, x row then y row",
    "explain": "optional {forms, values: (columns, 2, S) f8, columns, arrows, hover}: explain mode's "
               "formulas and numbers (viz.explain.explain_data; sent when explain is on, or standalone)",
    "fam_loss": "optional (R, S + 1) f4: f at each lr (when every_lr)",
    "fam_grad": "optional (R, 2, S) f4: the gradient at each lr (when every_lr)",
    "fam_xp": "optional (R, columns, 2, S) f4: explain mode's numbers at each lr (every_lr and explain data)",
    "fam_code": "optional [str] of length R: the torch (or Keras) code at each lr (with fam_xp)",
    "z": "optional (S + 1,) f4: the run's displayed value in the 3-D view (with grid3d)",
    "fam_z": "optional (R, K) f4: the same at each lr at the kept steps (with grid3d)",
}


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
        return surface.global_min, "J − J* (log scale)"
    seen = np.concatenate([np.ravel(a) for a in losses]) if len(losses) else np.zeros(0)
    seen = seen[np.isfinite(seen)]
    return (float(seen.min()) if seen.size else 0.0,
            "J − lowest J shown (log scale; no minimum in this domain)")


def _labels(slot: int, tr: Trajectory, lrs: Sequence[float]) -> list[str]:
    """The run's label at each learning rate, as compute.label writes it ('1. GD (η=0.001)')."""
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
    standalone: bool = False,
) -> dict:
    """Everything the stage draws (the fields of FIELDS), for ``views`` (the exact runs) and
    ``families`` (each a descent_lab.families.Family of the same run, in the same order).

    Digests of the content (``version``) and of what the map's axes show (``map_version``) let the
    browser skip redrawing what it already shows. ``explain``: each run also carries the numbers of
    explain mode (viz.explain), float64 and so sent only when the mode is on. ``standalone``: for a
    stage with nothing behind it (an exported page): the 3-D data and explain numbers whatever
    ``show3d`` and ``explain`` say, and every learning rate of each family step-exact (``every_lr``)
    when the families are at full resolution.
    """
    uri, cmin, cmax = image
    (x0, x1), (y0, y1) = surface.domain
    steps = views[0].trajectory.steps if views else 0
    k = stride(steps, [len(f.lrs) for f in families])
    fg = landscape_grid(surface, HOVER_GRID)[2]
    fstar, gap_title = loss_reference(surface, [fg, *(f.trajectory.loss for f in families)])
    show3d = show3d and not multiples
    with3d = (show3d or standalone) and not multiples
    z3 = landscape_floor(surface, GRID_3D) if with3d else None
    show, ztitle = display_transform(surface, z3) if with3d else (None, "")
    every_lr = standalone and k == 1
    runs = [_run_data(slot, view, fam, fstar, kept_steps(steps, k), explain=explain or standalone,
                      every_lr=every_lr, show=show)
            for slot, (view, fam) in enumerate(zip(views, families, strict=True))]
    data = {
        "steps": steps, "stride": k, "kept": len(kept_steps(steps, k)),
        "domain": [x0, x1, y0, y1], "title": surface.title,
        "image": uri, "cmin": cmin, "cmax": cmax, "colorscale": toned_colorscale(),
        "cbtitle": log_title(surface) if surface.log_scale else "J",
        "minima": np.asarray(surface.minima, dtype=float).round(6).tolist(),
        "minima_global": global_minima(surface),
        "hover_n": HOVER_GRID, "hover_f": f32(fg),
        "gap_title": gap_title,
        "runs": runs, "arrows": bool(arrows), "multiples": bool(multiples), "speed": speed,
        "show3d": bool(show3d), "explain": bool(explain), "every_lr": every_lr,
        "steps_per_s": STEPS_PER_SECOND,
    }
    if standalone and not every_lr:
        data["every_lr_note"] = (
            f"At {steps} steps and {sum(len(f.lrs) for f in families)} learning rates this page keeps every "
            f"{k}th step of the other learning rates, so their numbers are not in it: the app computes them.")
    if with3d:
        data["grid3d"] = _grid3d(rounded_floor(surface, GRID_3D, show, bend=LIFT_3D), ztitle)
    data["version"] = digest(data)
    # what the map's axes show (surface, picture, colour bar): the browser redraws them only when it changes
    data["map_version"] = digest([data[k] for k in ("domain", "image", "cmin", "cmax", "cbtitle", "minima",
                                                      "minima_global")])
    return data


def _grid3d(zs: np.ndarray, ztitle: str) -> dict:
    zlo, zhi = float(np.nanmin(zs)), float(np.nanmax(zs))
    return {"n": GRID_3D, "z": f32(zs), "ztitle": ztitle, "colorscale": COLORMAP.capitalize(),
            "zrange": [zlo, zhi + 0.05 * (zhi - zlo)], "lift": LIFT_3D * (zhi - zlo)}


def _run_data(slot: int, view: RunView, fam: Family, fstar: float, keep: np.ndarray, *,
              explain: bool, every_lr: bool, show) -> dict:
    """One run's entry of ``runs`` (RUN_FIELDS)."""
    tr, ft = view.trajectory, fam.trajectory
    run = {
        "label": view.label, "color": view.color, "lrs": list(fam.lrs), "index": fam.index,
        "labels": _labels(slot, tr, fam.lrs),
        "stable_lr": fam.stable_lr,
        "diverged": [int(d) for d in np.atleast_1d(ft.diverged_at)],
        "fam_path": f32(np.moveaxis(ft.path[keep], 0, -1)),
        "fam_gap": f32(gap(ft.loss[keep], fstar).T),
        "path": f32(tr.path.T), "loss": f32(np.clip(tr.loss, -LOSS_CEILING, LOSS_CEILING)),
        "gap": f32(gap(tr.loss, fstar)), "grad": f32(tr.grad.T),
    }
    if explain:
        run["explain"] = explain_data(tr)
    if every_lr:
        run.update(_every_lr(fam, explain))
    if show is not None:
        with np.errstate(all="ignore"):
            run["z"] = f32(show(tr.loss))
            run["fam_z"] = f32(show(ft.loss[keep]).T)
    return run


def _every_lr(fam, with_explain: bool) -> dict:
    """A family at full resolution made step-exact at each of its learning rates: its loss and
    gradient, and (``with_explain``) explain mode's numbers and code at every lr."""
    ft = fam.trajectory
    out = {"fam_loss": f32(np.clip(ft.loss, -LOSS_CEILING, LOSS_CEILING).T),
           "fam_grad": f32(np.moveaxis(ft.grad, 0, -1))}
    if with_explain:
        rows = [explain_data(row(ft, j)) for j in range(len(fam.lrs))]
        out["fam_xp"] = f32(np.stack([r["values"] for r in rows]))
        out["fam_code"] = [r["forms"]["torch"]["code"] for r in rows]
    return out


def stage_runs(setup: Setup, family: Callable[[Setup, RunSpec], Family] | None = None,
               colors: Sequence[str] | None = None,
               own: Callable = own_run) -> tuple[list[Family], list[RunView]]:
    """Each run of ``setup`` as its learning-rate family (``family(setup, spec)``; by default
    descent_lab.families.lr_family over its slider's grid) and as the run itself: its family's row
    at its own lr (equal to the single run, checked for rounding: ``own(setup, family, surface)``,
    families.own_run or a cache of it), labelled and coloured (``colors``)."""
    family = family or (lambda s, spec: lr_family(s, spec, lr_grid(spec)))
    families = [family(setup, spec) for spec in setup.runs]
    each, surface = iter(families), setup.make_surface()
    views = compute.runs(setup, run=lambda _s, _spec: own(setup, next(each), surface), colors=colors)
    return families, views


def stage_payload(setup: Setup, surface: Surface, families: Sequence[Family], views: Sequence[RunView],
                  image: tuple[str, float, float], *, present: bool = False,
                  standalone: bool = False) -> bytes:
    """The bytes the stage receives (the one payload of the app, the exported page and the notebook
    widget): ``stage_data`` of ``setup``'s runs with its view settings, packed. ``standalone``: for a
    stage with nothing behind it (see stage_data)."""
    data = stage_data(surface, views, families, image, arrows=setup.arrows, show3d=setup.show3d,
                      multiples=setup.multiples, speed=setup.speed, explain=setup.explain,
                      standalone=standalone)
    return pack({**data, "present": bool(present), "plotly_version": plotly.__version__})


def digest(obj) -> str:
    """A short digest of ``obj``'s content (arrays by their type, shape and bytes): a payload's version."""
    text = json.dumps(obj, sort_keys=True, default=_array_digest)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _array_digest(a: np.ndarray) -> str:
    """An array's place in a digest: its type, shape and a digest of its bytes."""
    digest = hashlib.blake2b(np.ascontiguousarray(a).tobytes(), digest_size=16).hexdigest()
    return f"{a.dtype.str}{a.shape}:{digest}"
