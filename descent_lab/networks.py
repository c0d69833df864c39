"""The Networks page: optimizers training a small MLP, and the loss landscape they cross.

The page's whole view is a NetSetup, read from and written to URL query parameters with the
Playground's conventions (descent_lab.setup: QueryReader, the same run prefixes and settings).
Parsing never raises: what cannot be used is left at its default and reported in plain words.

Query form: ``data`` (moons, circles, spirals, xor, blobs; none: only drawn points), ``n``,
``noise`` (the data's), ``seed`` (data, initial weights, mini-batches), ``points`` (drawn points,
datasets.encode_points' text, 4 characters a point), ``test`` (the test fraction), ``features``
(the inputs, e.g. x,y,xy,sinx; default x,y), ``l2`` (weight decay λ: the loss adds (λ/2)|w|²),
``hidden=16,16``, ``act`` (tanh, relu),
``batch`` (0 = all samples), ``steps``, ``optimizers`` and ``<prefix>.<setting>`` as in the
Playground, ``plane`` (pca, random, through) with ``around=k`` (random: run k's end point)
or ``ends=j,k`` (through: the start and runs j and k's end points), ``show3d``, ``panel``.

The computations (all batched): ``train`` runs every optimizer of a setup on its network (one
optimizers.run call per optimizer and schedule kind, its runs as rows), with train and test loss
and accuracy at every step; ``landscape`` the chosen plane, the 41 x 41 loss slice on it and the
paths projected; ``interpolation`` the loss from the start to each end point; ``sharpness`` the
top Hessian eigenvalue along each run.

For the live page (TensorFlow Playground's pictures, all from a run's own weights at a step):
``output_maps`` P(class 1) over the input plane, ``feature_maps`` the inputs (x, x², sin x, ...)
and ``unit_maps`` each hidden unit's activation over the same grid (drawn for networks of at
most DRAWN_LAYERS x DRAWN_UNITS: ``drawable``), ``link_weights`` the weights the links are drawn
by; and the honest projection: ``projection``
gives at every step the run's real loss J(w_t), the plane's loss under its projection
J(proj(w_t)) and the distance from the plane; ``projection_words`` says in words where the two
losses differ by more than one colour band of the picture.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise
from urllib.parse import urlencode

import numpy as np

import landscapes
import optimizers
from landscapes import datasets, planes
from landscapes.mlp import ACTIVATIONS, BLANK, FEATURES
from optimizers import BATCH
from specs import Param

from .runlist import run_colors
from .setup import QueryReader, RunSpec, link_number, read_runs, run_spec, runs_query, two_numbers

#: the page's address in the app (Streamlit's url path of app_pages/networks.py)
PAGE = "networks"
DATA = tuple(datasets.KINDS)  # the generated sets; data=BLANK ("none") is a blank plane for drawn points
#: the Data set choices: the generated sets, then a blank plane (your points alone)
DATA_CHOICES = (*DATA, BLANK)
BLANK_TITLE = "None: your points only"
#: drawn points a blank plane needs, of both classes (viz/net_stage.js's BLANK_LEAST, tested to agree)
BLANK_LEAST = 4
PLANES = {
    "pca": "PCA of the paths",
    "random": "Random directions at an end point",
    "through": "Start and two end points",
}
PANELS = {"interpolation": "1-D interpolation", "sharpness": "Sharpness", "export": "Export"}
MAX_LAYERS = 3
#: weights the page trains (the core takes more; the page keeps its first view interactive)
MAX_WEIGHTS = 3000
#: weights kept along the paths (steps x runs x weights, 8 bytes each): the page's memory per view
MAX_VALUES = 12_000_000
N = Param("n", 200, 20, 2000, "Training points", scale="integer",
          grid=(20, 50, 100, 200, 300, 400, 600, 800, 1000, 1500, 2000),
          help="Samples in the training set; the test set has a quarter as many, drawn independently.")
NOISE = Param("noise", 0.2, 0.0, 1.0, "Data noise σ",
              grid=(0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0),
              help="Standard deviation of the Gaussian noise on every point's coordinates.")
TEST = Param("test", 0.2, 0.1, 0.5, "Test fraction", grid=(0.1, 0.2, 0.3, 0.4, 0.5),
             help="The share of all points held out to measure the test loss: drawn points are split by "
                  "the seed; a generated set draws its test points independently, as many as this share.")
L2 = Param("l2", 0.0, 0.0, 0.1, "Weight decay λ (L2)", grid=(0.0, 1e-4, 3e-4, 0.001, 0.003, 0.01, 0.03, 0.1),
           help="Adds (λ/2)|w|² over all weights and biases to the loss J: the landscape, the runs and the "
                "numbers are of that J (torch's weight_decay=λ in SGD and Adam adds the same λw to the "
                "gradient; AdamW decays the weights apart from the gradient instead).")
#: characters of the ``points`` value (MAX_POINTS points)
POINTS_TEXT = datasets.MAX_POINTS * datasets.POINT_CHARS
SEED = Param("seed", 0, 0, 1_000_000, "Seed", scale="integer",
             help="Draws the data, the initial weights (the same for every run) and the mini-batches.")
WIDTH = Param("width", 16, 1, 64, "Units", scale="integer", grid=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64),
              help="Units in this hidden layer.")
STEPS = Param("steps", 300, 10, 2000, "Steps", scale="integer",
              grid=(10, 20, 50, 100, 150, 200, 300, 400, 500, 800, 1000, 1500, 2000),
              help="How many updates each run makes.")
#: the step sizes the mini-batch slider offers (all samples is a separate choice)
BATCHES = tuple(int(b) for b in BATCH.grid)
GRID = 41  # points per side of the landscape slice
BOUNDARY_GRID = 41  # points per side of a decision-boundary grid
SHARPNESS_POINTS = 21  # steps along each run where the sharpness is measured
#: power-iteration products per sharpness value (tests/test_networks.py checks the values against
#: the eigenvalues of the full Hessian)
SHARPNESS_ITERS = 30
PCA_POINTS = 50  # steps per run the PCA plane is fitted to (evenly spread, both ends included)

DEFAULT_RUNS = (run_spec("gd", lr=0.5), run_spec("momentum", lr=0.1), run_spec("adam", lr=0.01))


@dataclass(frozen=True)
class NetSetup:
    """The whole Networks view."""

    data: str = "moons"
    n: int = N.default
    noise: float = NOISE.default
    seed: int = SEED.default
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "tanh"
    features: tuple[str, ...] = ("x", "y")  # the inputs, keys of landscapes.mlp.FEATURES in its order
    l2: float = L2.default  # weight decay: the loss adds (l2 / 2) |w|^2
    test: float = TEST.default  # the test fraction
    points: str = ""  # drawn points, datasets.encode_points' text
    batch: int = 0  # samples per gradient, 0 = all
    steps: int = STEPS.default
    runs: tuple[RunSpec, ...] = DEFAULT_RUNS
    plane: str = "pca"
    around: int = 1  # plane "random": centred on this run's end point (1 = the first run)
    ends: tuple[int, int] = (1, 2)  # plane "through": the start and these runs' end points
    show3d: bool = False
    panel: str = ""  # a key of PANELS, or "" for none open

    def network(self) -> landscapes.Network:
        return landscapes.network(self.data, self.hidden, self.activation, self.n, self.noise, self.seed,
                                  n_test=test_points(self.n, self.test), features=self.features, l2=self.l2,
                                  points=self.points, test_fraction=self.test)

    def drawn(self) -> datasets.Samples:
        """The drawn points (empty for none)."""
        return datasets.decode_points(self.points)


def data_title(name: str) -> str:
    """A Data set choice as the page names it ("Two moons", ..., BLANK_TITLE)."""
    return BLANK_TITLE if name == BLANK else datasets.kind(name).title


def test_points(n: int, fraction: float) -> int:
    """Test points of a generated set of n training points: a ``fraction`` of all points (n // 4
    at the default 0.2), at least 2."""
    return max(2, math.floor(n * fraction / (1 - fraction) + 1e-9))


def weights(hidden, inputs: int = 2) -> int:
    """Number of weights of an inputs -> hidden... -> 1 MLP."""
    sizes = (inputs, *hidden, 1)
    return sum(o * (i + 1) for i, o in pairwise(sizes))


def to_query(setup: NetSetup) -> dict[str, str]:
    """The setup as query parameters (all of it: a link reproduces the view)."""
    q = {"data": setup.data, "n": str(setup.n), "noise": link_number(setup.noise), "seed": str(setup.seed),
         "hidden": ",".join(map(str, setup.hidden)), "act": setup.activation}
    if setup.features != NetSetup.features:
        q["features"] = ",".join(setup.features)
    if setup.l2:
        q["l2"] = link_number(setup.l2)
    if setup.test != TEST.default:
        q["test"] = link_number(setup.test)
    if setup.points:
        q["points"] = setup.points
    if setup.batch:
        q["batch"] = str(setup.batch)
    q["steps"] = str(setup.steps)
    q.update(runs_query(setup.runs))
    q["plane"] = setup.plane
    if setup.plane == "random":
        q["around"] = str(setup.around)
    elif setup.plane == "through":
        q["ends"] = f"{setup.ends[0]},{setup.ends[1]}"
    if setup.show3d:
        q["show3d"] = "1"
    if setup.panel:
        q["panel"] = setup.panel
    return q


def link(setup: NetSetup) -> str:
    """The app-relative link that opens the Networks page on ``setup``: '/networks?data=...'."""
    return f"/{PAGE}?" + urlencode(to_query(setup))


def key(setup: NetSetup) -> tuple:
    """Hashable identity of the setup, for caches: its link's parameters."""
    return tuple(sorted(to_query(setup).items()))


def training_key(setup: NetSetup) -> tuple:
    """What the runs depend on (not the plane or the panels)."""
    q = to_query(replace(setup, plane="pca", show3d=False, panel=""))
    q.pop("plane")
    return tuple(sorted(q.items()))


def from_key(k: tuple) -> NetSetup:
    return from_query(dict(k))[0]


def from_query(query: Mapping) -> tuple[NetSetup, list[str]]:
    """The setup a query describes, and what was ignored or changed (never raises)."""
    r = QueryReader(query, long={"points": POINTS_TEXT})
    s = NetSetup()
    ch: dict = {}
    if (v := r.choice("data", DATA_CHOICES)) is not None:
        ch["data"] = v
    for k, p in (("n", N), ("noise", NOISE), ("seed", SEED), ("steps", STEPS), ("l2", L2), ("test", TEST)):
        if (v := r.number(k, p)) is not None:
            ch[k] = v
    if (raw := r.text("features")) is not None:
        names = tuple(v.strip() for v in raw.split(","))
        if names and len(set(names)) == len(names) and set(names) <= set(FEATURES):
            ch["features"] = tuple(k for k in FEATURES if k in names)
        else:
            r.problems.append(f"features={raw[:40]!r} (use some of {', '.join(FEATURES)}, "
                              "like features=x,y,xy)")
    if (raw := r.text("points")) is not None:
        try:
            datasets.decode_points(raw)
            ch["points"] = raw
        except ValueError as e:
            r.problems.append(f"points ({e}; the drawn points were left out)")
    if (raw := r.text("hidden")) is not None and (hidden := _hidden(raw, r.problems)) is not None:
        ch["hidden"] = hidden
    if (v := r.choice("act", ACTIVATIONS)) is not None:
        ch["activation"] = v
    if (v := r.number("batch", BATCH)) is not None:
        ch["batch"] = int(v)
    if (names := r.text("optimizers")) is not None:
        ch["runs"] = read_runs(names, r, DEFAULT_RUNS)
    runs = len(ch.get("runs", s.runs))
    if (v := r.choice("plane", tuple(PLANES))) is not None:
        ch["plane"] = v
    if (raw := r.text("around")) is not None:
        try:
            k = int(raw)
            if not 1 <= k <= runs:
                raise ValueError
            ch["around"] = k
        except ValueError:
            r.problems.append(f"around={raw[:40]!r} (use a run number from 1 to {runs})")
    if (raw := r.text("ends")) is not None and (pair := two_numbers("ends", raw, r.problems, "1,2")):
        j, k = pair
        if j != k and j == int(j) and k == int(k) and 1 <= min(j, k) <= max(j, k) <= runs:
            ch["ends"] = (int(j), int(k))
        else:
            r.problems.append(f"ends={raw[:40]} (use two different run numbers from 1 to {runs})")
    if (v := r.flag("show3d")) is not None:
        ch["show3d"] = v
    if (v := r.choice("panel", tuple(PANELS))) is not None:
        ch["panel"] = v
    r.leftovers()
    setup = replace(s, **ch)
    return fit(setup, r.problems), r.problems


def _hidden(raw: str, problems: list[str]) -> tuple[int, ...] | None:
    """Layer widths "16,16" as a tuple, or None (the problem noted)."""
    try:
        widths = tuple(float(v) for v in raw.split(",")) if raw else ()
    except ValueError:
        widths = None
    if (widths is None or not 1 <= len(widths) <= MAX_LAYERS
            or any(not math.isfinite(w) or w != int(w) or not WIDTH.lo <= w <= WIDTH.hi for w in widths)):
        problems.append(f"hidden={raw[:40]!r} (use 1 to {MAX_LAYERS} layer widths from {WIDTH.lo:g} to "
                        f"{WIDTH.hi:g}, like hidden=16,16)")
        return None
    return tuple(int(w) for w in widths)


def fit(setup: NetSetup, problems: list[str]) -> NetSetup:
    """``setup`` with what does not fit together fixed (a problem noted for each change): a blank
    plane only on drawn points it can train and test on (``blank_problem``), at most MAX_WEIGHTS
    weights and MAX_VALUES along the paths, a mini-batch smaller than the data, the plane's runs
    among the runs (and at their defaults for the other planes: one setup per view)."""
    ch: dict = {}
    if setup.data == BLANK and (why := blank_problem(setup.points, setup.test)):
        problems.append(f"data={BLANK} ({why}: used {NetSetup.data} with them)")
        ch["data"] = NetSetup.data
    if (d := weights(setup.hidden, len(setup.features))) > MAX_WEIGHTS:
        problems.append(f"hidden={','.join(map(str, setup.hidden))} ({d:,} weights; at most "
                        f"{MAX_WEIGHTS:,} here: used {','.join(map(str, NetSetup.hidden))})")
        ch["hidden"] = NetSetup.hidden
    per_step = len(setup.runs) * weights(ch.get("hidden", setup.hidden), len(setup.features))
    if (size := setup.steps * per_step) > MAX_VALUES:
        fewer = max(v for v in STEPS.grid if v * size // setup.steps <= MAX_VALUES)
        per_run = size // setup.steps // len(setup.runs)
        problems.append(f"steps={setup.steps} ({len(setup.runs)} runs of {per_run:,} weights: at most "
                        f"{MAX_VALUES // 10**6} million weights along the paths; used {fewer})")
        ch["steps"] = int(fewer)
    if setup.batch >= setup.n:
        problems.append(f"batch={setup.batch} (not smaller than the {setup.n} training points; used all)")
        ch["batch"] = 0
    runs = len(setup.runs)
    if setup.plane == "through" and runs < 2:
        problems.append("plane=through (needs two runs; used the PCA plane)")
        ch["plane"] = "pca"
    plane = ch.get("plane", setup.plane)
    if setup.around > runs or plane != "random":  # a plane's runs only with that plane (one form per view)
        ch["around"] = 1
    if max(setup.ends) > runs or plane != "through":
        ch["ends"] = (1, 2)
    return replace(setup, **ch) if ch else setup


def blank_problem(points: str, test: float) -> str:
    """Why the drawn ``points`` (a valid ``points`` text) cannot be a blank plane's whole data at the
    test fraction ``test``, in words; "" when they can: at least BLANK_LEAST points of both classes,
    and some held out to test on."""
    mine = datasets.decode_points(points)
    if mine.n < BLANK_LEAST or len(set(mine.y.tolist())) < 2:
        of = " of one class" if mine.n and len(set(mine.y.tolist())) < 2 else ""
        return (f"{mine.n or 'no'} drawn point{'' if mine.n == 1 else 's'}{of}; a blank plane needs at "
                f"least {BLANK_LEAST}, of both classes, to train on")
    try:
        landscapes.network(BLANK, hidden=(1,), points=points, test_fraction=test)
    except ValueError as e:  # none left to test on at this test fraction
        return str(e)
    return ""


# --- the computations -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Runs:
    """Every run of a setup, trained from the network's start: arrays (steps + 1, R, ...)."""

    net: landscapes.Network
    specs: tuple[RunSpec, ...]
    labels: tuple[str, ...]
    path: np.ndarray  # (steps + 1, R, D) weights
    loss: np.ndarray  # (steps + 1, R) the loss J the runs minimize (cross-entropy + the L2 term)
    train_loss: np.ndarray  # (steps + 1, R) mean cross-entropy on the training set (loss when l2 = 0)
    test_loss: np.ndarray  # (steps + 1, R) mean cross-entropy on the test set
    accuracy: np.ndarray  # (steps + 1, R) fraction of the training set classified right
    test_accuracy: np.ndarray
    lr: np.ndarray  # (steps, R) the learning rate of each update
    diverged_at: np.ndarray  # (R,) -1 for none

    @property
    def steps(self) -> int:
        return len(self.path) - 1


def after_divergence(diverged_at: np.ndarray, steps: int) -> np.ndarray:
    """(steps + 1, R): True from each diverged run's divergence step on."""
    return np.arange(steps + 1)[:, None] >= np.where(diverged_at >= 0, diverged_at, steps + 1)


def train(setup: NetSetup) -> Runs:
    """Run every optimizer of ``setup`` on its network: one batched optimizers.run per optimizer,
    form and schedule kind (the runs of one kind are rows of one batch; row r equals the single run)."""
    net = setup.network()
    R, T = len(setup.runs), setup.steps
    path = np.empty((T + 1, R, net.dim))
    loss = np.empty((T + 1, R))
    lr = np.empty((T, R))
    div = np.empty(R, dtype=int)
    groups: dict[tuple, list[int]] = {}
    for i, spec in enumerate(setup.runs):
        groups.setdefault((spec.name, spec.form, spec.schedule.get("kind", "constant")), []).append(i)
    for (name, form, kind), rows in groups.items():
        specs = [setup.runs[i] for i in rows]
        hyper = {k: np.array([s.hyper[k] for s in specs]) for k in specs[0].hyper}
        sched = {k: np.array([s.schedule.get(k, getattr(optimizers.Schedule, k)) for s in specs])
                 for k in optimizers.schedules.PARAMS}
        opt = optimizers.get(name, schedule=optimizers.Schedule(kind, **sched), form=form, **hyper)
        tr = optimizers.run(opt, net, start=np.tile(net.start, (len(rows), 1)), steps=T, seed=setup.seed,
                            batch_size=setup.batch or None, record=False)
        path[:, rows], loss[:, rows], lr[:, rows], div[rows] = tr.path, tr.loss, tr.lr, tr.diverged_at
    gone = after_divergence(div, T)
    with np.errstate(all="ignore"):
        test_loss = np.where(gone, np.nan, net.loss(path, net.test))
        train_loss = np.where(gone, np.nan, net.loss(path)) if net.l2 else loss
        acc = np.where(gone, np.nan, net.accuracy(path))
        test_acc = np.where(gone, np.nan, net.accuracy(path, net.test))
    labels = tuple(f"{i + 1}. {spec.optimizer().describe(short=True)}" for i, spec in enumerate(setup.runs))
    return Runs(net, setup.runs, labels, path, loss, train_loss, test_loss, acc, test_acc, lr, div)


@dataclass(frozen=True, eq=False)
class Landscape:
    """The loss on a plane through weight space, and the runs' paths projected onto it."""

    plane: planes.Plane
    title: str  # what the plane is, e.g. "PCA of the paths: 91.2% + 5.1% of their variance"
    a: np.ndarray  # (GRID,) first plane coordinate
    b: np.ndarray  # (GRID,)
    loss: np.ndarray  # (GRID, GRID), loss[i, j] at (a[j], b[i])
    coords: np.ndarray  # (steps + 1, R, 2) the paths in plane coordinates
    off_plane: np.ndarray  # (steps + 1, R) each point's distance from the plane
    marks: tuple[tuple[str, float, float], ...] = field(default=())  # named points: (text, a, b)


def landscape(setup: NetSetup, runs: Runs, num: int = GRID) -> tuple[Landscape, list[str]]:
    """The plane ``setup.plane`` (falling back to the PCA plane, or random directions, when it
    cannot be made: a problem noted), the loss on a num x num grid of it in one batched call,
    and the paths projected."""
    problems: list[str] = []
    net, path = runs.net, runs.path
    kind = setup.plane
    plane = None
    if kind == "through":
        j, k = setup.ends
        try:
            plane = planes.through(net.start, path[-1, j - 1], path[-1, k - 1])
            title = f"The plane through the start (0, 0) and the end points of runs {j} (1, 0) and {k} (0, 1)"
        except ValueError as e:
            problems.append(f"No plane through the start and runs {j} and {k}'s end points ({e}); "
                            "showing the PCA plane")
            kind = "pca"
    if kind == "pca":
        sample = path[np.unique(np.linspace(0, runs.steps, PCA_POINTS).round().astype(int))]
        try:
            plane = planes.pca(sample)
            e1, e2 = plane.explained
            title = (f"PCA of the paths: the plane holds {100 * (e1 + e2):.1f}% of their variance "
                     f"({100 * e1:.1f}% + {100 * e2:.1f}%)")
        except ValueError:
            problems.append("The paths do not span a plane (they barely moved); showing random directions")
            kind = "random"
    if kind == "random":
        k = setup.around if setup.plane == "random" else 1
        plane = planes.random(net, path[-1, k - 1], seed=setup.seed)
        title = (f"Two random filter-normalized directions at run {k}'s end point (0, 0); "
                 "±1 is one weight-norm per neuron")
    coords = plane.project(path)
    if kind == "random":
        ar, br = (-1.0, 1.0), (-1.0, 1.0)
    else:
        pts = coords if kind == "pca" else np.concatenate([coords.reshape(-1, 2), [[0, 0], [1, 0], [0, 1]]])
        ar, br = planes.extent(pts, margin=0.15)
    a, b, z = planes.grid(net, plane, ar, br, num)
    off = plane.distance(path)
    marks = ()
    if kind == "through":
        j, k = setup.ends
        marks = (("start", 0.0, 0.0), (f"end {j}", 1.0, 0.0), (f"end {k}", 0.0, 1.0))
    return Landscape(plane, title, a, b, z, coords, off, marks), problems


def interpolation(runs: Runs, num: int = 81) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loss on the line from the start to each run's end point (Goodfellow et al. 2015): alpha
    (num,) from -0.5 to 1.5 (0 the start, 1 the end), train and test loss, each (R, num)."""
    alpha = np.linspace(-0.5, 1.5, num)
    w0 = runs.path[0]  # (R, D): every run starts at the network's start
    w = w0[:, None] + alpha[:, None] * (runs.path[-1] - w0)[:, None]
    with np.errstate(all="ignore"):
        return alpha, runs.net.loss(w), runs.net.loss(w, runs.net.test)


def sharpness(runs: Runs, points: int = SHARPNESS_POINTS, iters: int = SHARPNESS_ITERS):
    """The top Hessian eigenvalue along each run, by power iteration on exact Hessian-vector
    products, at ``points`` steps spread evenly (in one batched call): steps (C,), values (C, R)
    (NaN after a divergence), and the edge-of-stability line 2 / lr of each GD run at those
    steps, (C, R) (NaN for other optimizers: the line is Cohen et al.'s for full-batch GD)."""
    steps = np.unique(np.linspace(0, runs.steps, points).round().astype(int))
    with np.errstate(all="ignore"):
        lam = runs.net.sharpness(runs.path[steps], iters=iters)
    div = runs.diverged_at
    lam[steps[:, None] >= np.where(div >= 0, div, runs.steps + 1)] = np.nan
    gd = np.array([s.name == "gd" for s in runs.specs])
    rate = runs.lr[np.minimum(steps, runs.steps - 1)]
    edge = np.where(gd, 2.0 / rate, np.nan)
    return steps, lam, edge


#: networks drawn unit by unit: at most this many hidden layers of at most this many units
DRAWN_LAYERS, DRAWN_UNITS = 3, 16


def drawable(hidden) -> bool:
    """Whether a network with these hidden layer widths is drawn unit by unit (maps and links)."""
    return len(hidden) <= DRAWN_LAYERS and max(hidden, default=0) <= DRAWN_UNITS


def output_maps(runs: Runs, run: int, steps, num: int = BOUNDARY_GRID, box=None):
    """P(class 1) of run ``run`` (0-based) over the input plane at ``steps`` (an int or an array of
    steps): xs (num,), ys (num,), P (*steps.shape, num, num), P[..., i, j] at (xs[j], ys[i]); the grid
    spans ``box`` ((x0, x1), (y0, y1); default the data's box, net.bounds). The bits of
    net.proba(runs.path[step, run], points) (Network.boundary)."""
    with np.errstate(all="ignore"):
        return runs.net.boundary(runs.path[np.asarray(steps), run], num, box)


def unit_maps(runs: Runs, run: int, steps, num: int = BOUNDARY_GRID, box=None) -> list[np.ndarray]:
    """Each hidden unit's activation over the same grid as ``output_maps``: one array per hidden
    layer, (*steps.shape, units, num, num), [..., u, i, j] unit u's output at (xs[j], ys[i]): the
    bits the network's forward pass computes (Network.activations)."""
    net = runs.net
    _, _, pts = net.input_grid(num, box)
    with np.errstate(all="ignore"):
        acts = net.activations(runs.path[np.asarray(steps), run], pts)
    return [a.reshape(*a.shape[:-1], num, num) for a in acts]


def feature_maps(runs: Runs, num: int = BOUNDARY_GRID, box=None) -> np.ndarray:
    """The network's inputs over the same grid as ``output_maps`` (the first column of the drawn
    network): (F, num, num), [k, i, j] feature runs.net.features[k] at (xs[j], ys[i])."""
    net = runs.net
    _, _, pts = net.input_grid(num, box)
    return np.moveaxis(landscapes.mlp.features(net.features, pts), -1, 0).reshape(-1, num, num)


def link_weights(runs: Runs, run: int, step: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Run ``run``'s weights at ``step``, layer by layer: W (out, inp) (W[u, k] the link from input
    or unit k of the layer below to unit u) and the biases b (out,). The first layer's inputs are
    net.features (landscapes.mlp.FEATURES names them)."""
    return runs.net.layer_weights(runs.path[step, run])


@dataclass(frozen=True, eq=False)
class Projection:
    """What a projected path hides, at every step of every run, each (steps + 1, R), NaN after a
    divergence: the loss J the run really had, the loss J the plane has under the run's marker (at
    the projection of w_t, the nearest point of the plane), and the distance between the two."""

    loss: np.ndarray  # J(w_t)
    plane_loss: np.ndarray  # J(proj(w_t))
    distance: np.ndarray  # |w_t - proj(w_t)|


def projection(runs: Runs, land: Landscape) -> Projection:
    """The honest numbers beside the projected paths of ``land`` (one batched evaluation of J)."""
    ab = land.coords
    gone = after_divergence(runs.diverged_at, runs.steps)
    with np.errstate(all="ignore"):
        plane_loss = np.where(gone, np.nan, runs.net.f(land.plane.point(ab[..., 0], ab[..., 1])))
    return Projection(runs.loss, plane_loss, np.where(gone, np.nan, land.off_plane))


def projection_words(runs: Runs, proj: Projection, step: int, band: float) -> list[str]:
    """A sentence for each run whose real loss at ``step`` and the plane's loss under its marker
    differ by more than ``band``, the width of one colour band of the landscape picture in log10 of
    the loss (viz.networks.plane_picture: (hi - lo) / (levels - 1)): there the colour under the
    marker is not the run's loss."""
    out = []
    with np.errstate(all="ignore"):
        gap = np.abs(np.log10(proj.loss[step]) - np.log10(proj.plane_loss[step]))
    for r, label in enumerate(runs.labels):
        if np.isfinite(gap[r]) and gap[r] > band:
            real, seen, off = proj.loss[step, r], proj.plane_loss[step, r], proj.distance[step, r]
            out.append(f"{label}: at step {step} its loss is {real:.3g}, but the plane under its marker "
                       f"shows {seen:.3g}; the run is {off:.3g} away from the plane, so the colour there "
                       "is not its loss.")
    return out


def colors(setup: NetSetup) -> list[str]:
    """Each run's colour, as on every page."""
    return run_colors([spec.name for spec in setup.runs])


def axis_norms(plane) -> tuple[float, float]:
    """|d1| and |d2|: how much weight space one unit of the plane's a and b axes is."""
    return float(np.linalg.norm(plane.d1)), float(np.linalg.norm(plane.d2))


def distance_units(plane) -> str:
    """The units of a distance from the plane (Euclidean, in weight space) against the plane's axes,
    whose unit is |d1| (|d2|) of weight space: 1 on a PCA plane, a weight norm on random directions
    (filter-normalized), the distance between two end points on the plane through them."""
    n1, n2 = axis_norms(plane)
    if max(abs(n1 - 1), abs(n2 - 1)) < 1e-9:
        return "weight space; axis unit = 1"
    if abs(n1 - n2) <= 5e-3 * max(n1, n2):
        return f"weight space; axis unit = |d₁| = {n1:.3g}"
    return f"weight space; axis units |d₁| = {n1:.3g}, |d₂| = {n2:.3g}"


def plane_note(land: Landscape, runs: Runs) -> str:
    """How far the paths leave the plane, against how far they travel: how much of them it shows. A
    PCA plane is where the paths lie (its explained variance says how much); random directions are
    not, and the note says the paths are far from them."""
    travel = float(np.max(np.linalg.norm(runs.path[-1] - runs.path[0], axis=-1)))
    off = float(np.nanmax(land.off_plane))
    text = (f"The paths are drawn projected onto the plane: they stay within {off:.3g} of it "
            f"(the longest run ends {travel:.3g} from the start; distances in {distance_units(land.plane)}).")
    if land.plane.kind == "random":
        text += (" Random directions are not where the paths lie: away from the end point the runs are far "
                 "from this plane, and the colours under them are not the loss they had.")
    elif land.plane.kind == "pca" and land.plane.explained:
        rest = 1 - sum(land.plane.explained)
        text += (f" The PCA plane holds {100 * (1 - rest):.1f}% of the paths' variance; the other "
                 f"{100 * rest:.1f}% is the distance off the plane.")
    return text


def diverged(runs: Runs) -> list[str]:
    """A sentence per diverged run."""
    return [f"{label} diverged at step {d}: its weights grew without bound. Try a smaller learning rate."
            for label, d in zip(runs.labels, runs.diverged_at.tolist(), strict=True) if d >= 0]


def sharpness_rows(runs: Runs, steps, values, edge) -> list[dict]:
    """The sharpness table: per run, at the start, its largest and at the end; GD runs with 2 / lr."""
    rows = []
    for i, label in enumerate(runs.labels):
        lam = values[:, i]
        ok = np.isfinite(lam)
        row = {"run": label,
               "at the start": float(lam[0]),
               "largest": float(lam[ok].max()) if ok.any() else None,
               "at the end": float(lam[ok][-1]) if ok.any() else None,
               "2 / lr (GD)": float(edge[-1, i]) if np.isfinite(edge[-1, i]) else None}
        rows.append(row)
    return rows
