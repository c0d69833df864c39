"""Trajectories as data files: CSV for spreadsheets and pandas, JSON with the setup that made them.

``runs`` is what descent_lab.compute.runs returns: objects with ``label``,
``color`` and a single-run ``trajectory``.

CSV (``trajectories_csv``): one row per run and step, runs in order, steps 0..N:

    step, run, optimizer, x, y, loss, <settings...>, schedule, <schedule settings...>

``run`` is the run's key as in a link (``adam``, ``adam2`` for the second Adam),
``optimizer`` its optimizer name. Then one column per setting any run has
(``lr``, ``beta``, ``beta1``, ...; empty for runs without it), ``schedule`` (the
schedule's kind) and the schedule settings that kind uses (plus ``warmup`` and
``warmup_start`` when a warm-up is on). Numbers are written exactly (Python's
shortest round-tripping form). An empty ``loss`` means the run had diverged by
that step; its x and y then stay at the last point before the divergence.

JSON (``trajectories_json``): ``{"format", "version", "setup", "surface", "runs"}``
where ``setup`` is the Playground link's query (descent_lab.setup.to_query) and
each run is ``{"run", "label", "optimizer", "settings", "schedule",
"diverged_at", "sensitive_from", "steps", "step", "x", "y", "loss"}``; ``diverged_at`` is null for a
run that did not diverge, ``sensitive_from`` the step from which the run is sensitive to rounding
(optimizers.rounding: its start moved by one unit in the last place moves its end by more than 1e-6,
relative; another program, or this one on another machine, may end elsewhere), null for a run that
is not, and a loss that is not a finite number is null.
Keys are always in this order.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence

import numpy as np

from optimizers import Trajectory
from optimizers.schedules import USES
from specs import Param

from .setup import Setup, prefixes, to_query

FORMAT = "descent-lab/trajectories"
VERSION = 1
FIXED_COLUMNS = ("step", "run", "optimizer", "x", "y", "loss")

# the animated picture for a slide (viz.animation draws it; the Export panel and the command line offer these)
GIF_FRAMES = Param("frames", 60, 1, 1000, "Frames (at most)", scale="integer", grid=(20, 30, 45, 60, 90, 120),
                   help="this many GIF frames, evenly spread from step 0 to the last (every step when the "
                        "runs have fewer)")
GIF_FPS = Param("fps", 10, 1, 50, "Pace (frames a second)", scale="integer", grid=(2, 4, 5, 10, 20, 25),
                help="GIF frames a second (a GIF times frames in hundredths of a second: 2, 4, 5, 10, 20, "
                     "25 are exact, others rounded)")
#: picture sizes in pixels, the default first: 16:9, two thirds of a 1920x1080 slide (1.5x fills it)
SLIDE_SIZES = ((1280, 720), (1920, 1080), (960, 540), (640, 360))


def _single(tr: Trajectory) -> Trajectory:
    if np.ndim(tr.diverged_at) != 0:
        raise ValueError("exports take single runs, not batches")
    return tr


def settings(tr: Trajectory) -> dict:
    """The run's optimizer settings by name, as plain numbers."""
    return {k: _plain(v) for k, v in tr.optimizer.hyper.items()}


def schedule(tr: Trajectory) -> dict:
    """The run's schedule: its kind and the settings that kind uses (warm-up ones when on)."""
    s = tr.optimizer.schedule
    out = {"kind": s.kind}
    keys = list(USES[s.kind]) + (["warmup", "warmup_start"] if s.warmup else [])
    out.update({k: _plain(getattr(s, k)) for k in keys})
    return out


def _plain(v):
    v = np.asarray(v).item()
    return v if isinstance(v, int) else float(v)


def _number(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def trajectories_csv(runs: Sequence) -> str:
    """Every step of every run as CSV text (see the module doc for the columns)."""
    trs = [_single(r.trajectory) for r in runs]
    keys = prefixes([tr.optimizer for tr in trs])
    hyper_cols: dict[str, None] = {}
    sched_cols: dict[str, None] = {}
    for tr in trs:
        hyper_cols.update(dict.fromkeys(settings(tr)))
        sched_cols.update(dict.fromkeys(k for k in schedule(tr) if k != "kind"))
    header = [*FIXED_COLUMNS, *hyper_cols, "schedule", *sched_cols]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for key, tr in zip(keys, trs, strict=True):
        hyper, sched = settings(tr), schedule(tr)
        tail = [*(_cell(hyper.get(k)) for k in hyper_cols), sched["kind"],
                *(_cell(sched.get(k)) for k in sched_cols)]
        name = tr.optimizer.name
        xs, ys, loss = tr.path[:, 0].tolist(), tr.path[:, 1].tolist(), tr.loss.tolist()
        for t in range(tr.steps + 1):
            w.writerow([t, key, name, repr(xs[t]), repr(ys[t]), _cell(loss[t]), *tail])
    return buf.getvalue()


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    return repr(v)


def trajectories_json(setup: Setup, runs: Sequence) -> str:
    """The setup and every run's path and loss as JSON text (see the module doc)."""
    trs = [_single(r.trajectory) for r in runs]
    surface = setup.make_surface()
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "setup": to_query(setup),
        "surface": {
            "name": surface.name,
            "title": surface.title,
            "params": {k: _plain(v) for k, v in sorted(surface.params.items())},
            "domain": [[float(a), float(b)] for a, b in surface.domain],
            "minima": [[float(x), float(y)] for x, y in surface.minima],
        },
        "runs": [],
    }
    for key, r, tr in zip(prefixes([tr.optimizer for tr in trs]), runs, trs, strict=True):
        d = int(tr.diverged_at)
        doc["runs"].append({
            "run": key,
            "label": r.label,
            "optimizer": tr.optimizer.name,
            "settings": settings(tr),
            "schedule": schedule(tr),
            "diverged_at": d if d >= 0 else None,
            "sensitive_from": tr.sensitive_from,
            "steps": tr.steps,
            "step": list(range(tr.steps + 1)),
            "x": [_number(v) for v in tr.path[:, 0].tolist()],
            "y": [_number(v) for v in tr.path[:, 1].tolist()],
            "loss": [_number(v) for v in tr.loss.tolist()],
        })
    return json.dumps(doc, allow_nan=False, separators=(",", ":"))
