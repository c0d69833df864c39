"""What the Networks page's stage (viz/net_stage.js, mounted by app_pages/net_stage.py) is sent: the
weight-space plane, the runs' weights and curves, the data and the projection's numbers, as
viz.stage.pack's binary payload.

The browser draws everything from this and plays every step without asking the server: the plane's
picture with the paths and markers, the train / test loss and accuracy curves with a cursor, the
output probability shaded over the input plane (TensorFlow Playground's colours) and the network
with a small map of every hidden unit's activation. The maps and the shading are the network's own
forward pass on a grid, in the browser, from the run's weights at that step, sent as float32 like every
other array here: the browser's maps equal the core's forward pass on those weights, and differ from it
on the float64 weights by about 1e-6 in P (tests measure both), some 3e-5 of one of the 30 shades, while
a change sends half the bytes (the default view 1.2 MB, not 2.4: the bytes, not the drawing, were most
of a change's time in the browser). Weights for every step while the paths' weights stay within
WEIGHT_VALUES; beyond that every k-th step (the curves and markers stay at every step).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly

from descent_lab.networks import DRAWN_UNITS, axis_norms, distance_units
from descent_lab.runlist import lr_options
from descent_lab.setup import STEPS_PER_SECOND
from landscapes import datasets

from .landscape import band_colors
from .networks import log_loss, plane_picture
from .stage import digest, kept_steps
from .style import f32

NET_STAGE_JS = Path(__file__).with_suffix(".js")
NET_STAGE_CSS = Path(__file__).with_suffix(".css")
#: weights sent along the paths at most (float32: 4 bytes each), beyond which every k-th step is kept
WEIGHT_VALUES = 400_000
#: grid points per side of the output shading, and of every run's small panel and the unit maps
#: (TensorFlow Playground: 100 and 10)
DENSITY = 64
THUMB_DENSITY = 32
#: the landscape picture's bands (viz.landscape.bands_png's levels - 1): one band is what its colour
#: scale resolves (descent_lab.networks.projection_words' band)
BANDS = 29
#: TensorFlow Playground's colours: class 0 / negative (orange), zero, class 1 / positive (blue)
CLASS_COLORS = ("#f59322", "#e8eaeb", "#0877bd")


def weight_stride(steps: int, runs: int, dim: int, budget: int = WEIGHT_VALUES) -> int:
    """Every how many steps the weights are sent so that all runs' paths hold at most ``budget``."""
    return max(1, -(-(steps + 1) * runs * dim // budget))


def resolution(lo: float, hi: float) -> float:
    """What the plane's colour scale resolves: one band of log10 loss."""
    return (hi - lo) / BANDS


def band_hex() -> list[str]:
    """The plane picture's band colours, lowest loss first, as its colour bar draws them."""
    return ["#" + "".join(f"{v:02x}" for v in c) for c in np.round(255 * band_colors(BANDS)).astype(int)]


def net_stage_data(runs, land, colors, proj, *, plane_title: str, drawn, over: bool = True, notes=(),
                   problem: str = "", lr_problem: str = "", show3d: bool = False) -> dict:
    """Everything the stage draws: ``runs`` (descent_lab.networks.Runs), ``land`` (its Landscape),
    each run's colour and ``proj`` (descent_lab.networks.Projection: J(w_t), J(proj w_t) and the
    distance from the plane). ``drawn``: the user's points (datasets.Samples), drawn ``over`` the
    data set or on a blank plane; ``problem``: what was wrong with the last points sent, ``lr_problem``
    with the last η step, in words. Each run's η and the values its card's slider offers (lr_options)
    go along: the stage's − / + step along them."""
    net, S, R = runs.net, runs.steps, len(runs.labels)
    k = weight_stride(S, R, net.dim)
    kept = kept_steps(S, k)
    image, lo, hi = plane_picture(land.a, land.b, land.loss)
    x0x1, y0y1 = net.bounds
    plane = land.plane
    data = {
        "steps": S, "stride": k, "kept": len(kept), "dim": net.dim, "steps_per_s": STEPS_PER_SECOND,
        "hidden": list(net.hidden), "activation": net.activation, "features": list(net.features),
        "drawn_units": DRAWN_UNITS, "density": DENSITY, "thumb_density": THUMB_DENSITY,
        "bounds": [list(x0x1), list(y0y1)], "limit": list(datasets.LIMIT),
        "class_colors": list(CLASS_COLORS), "l2": net.l2,
        "runs": [{"label": label, "color": c, "diverged_at": int(d), "lr": float(spec.hyper["lr"]),
                  "lrs": [float(v) for v in lr_options(spec)]}
                 for label, c, d, spec in zip(runs.labels, colors, runs.diverged_at.tolist(), runs.specs,
                                              strict=True)],
        "weights": f32(runs.path[kept]),
        "coords": f32(land.coords), "loss": f32(proj.loss), "projected": f32(proj.plane_loss),
        "off": f32(proj.distance), "train_loss": f32(runs.train_loss), "test_loss": f32(runs.test_loss),
        "acc": f32(runs.accuracy), "test_acc": f32(runs.test_accuracy),
        "train": {"x": f32(net.data.x), "y": f32(net.data.y)},
        "test": {"x": f32(net.test.x), "y": f32(net.test.y)},
        "plane": {"title": plane_title, "kind": plane.kind, "image": image, "lo": lo, "hi": hi,
                  "resolution": resolution(lo, hi), "bands": band_hex(),
                  "a": [float(land.a[0]), float(land.a[-1])], "b": [float(land.b[0]), float(land.b[-1])],
                  "explained": list(plane.explained) if plane.explained else None,
                  "norms": list(axis_norms(plane)), "units": distance_units(plane),
                  "marks": [list(m) for m in land.marks]},
        "notes": list(notes),
        "drawn": [[float(x), float(y), int(c)] for (x, y), c in zip(drawn.x, drawn.y, strict=True)],
        "over": bool(over), "max_points": datasets.MAX_POINTS, "problem": problem, "lr_problem": lr_problem,
    }
    if show3d:
        z = f32(log_loss(land.loss))
        data["surface"] = {"n": len(land.a), "a": f32(land.a), "b": f32(land.b), "z": z}
        data["plotly_version"] = plotly.__version__
    data["version"] = digest(data)
    return data
