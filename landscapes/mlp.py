"""Small multilayer perceptrons as loss landscapes: pure NumPy, batched over weight vectors.

    import landscapes
    net = landscapes.network(data="moons", hidden=(16, 16), activation="tanh", n=400, noise=0.2, seed=0)
    net.dim                     # D, the number of weights
    net.start                   # (D,) seeded initial weights
    net.f(w), net.grad(w)       # (..., D) -> (...), (..., D): mean cross-entropy on the training set
    net.value_and_grad(w)       # both from one pass (the same bits)
    net.batch_grad(w, idx)      # gradient of the mean loss over samples idx ((B,) or (R, B))
    net.hvp(w, v)               # exact Hessian-vector product (Pearlmutter's R-op on the backprop)
    net.sharpness(w)            # top Hessian eigenvalue by power iteration
    net.loss(w, net.test), net.accuracy(w, net.test), net.proba(w, x), net.boundary(w)
    net.activations(w, x)       # every hidden layer's outputs at points x

Options (as TensorFlow Playground's): ``features`` the inputs the first layer sees, computed
from a point (x, y): any of x, y, x², y², xy, sin x, sin y (FEATURES); ``l2`` a weight decay
term in the loss, J(w) = mean cross-entropy + (l2 / 2) |w|² over every weight and bias, which
is what torch's ``weight_decay=l2`` adds to the gradient in torch.optim.SGD and Adam;
``points`` drawn points (datasets.drawn) added to the data set, ``data="none"`` for only them.

The model is torch's ``nn.Sequential(Linear(F, h1), act, ..., Linear(hk, 1))`` (F features, 2
by default) with the loss ``BCEWithLogitsLoss`` (mean), plus the L2 term when ``l2`` > 0. A
weight vector lists each layer's weight matrix (out, in) row by row, then its bias, layer
after layer: the order of ``torch.nn.utils.parameters_to_vector(model.parameters())``.

Initialization is torch's default for nn.Linear in distribution: weights and biases
uniform on +-1/sqrt(fan_in) (kaiming_uniform_ with a = sqrt(5)), drawn with NumPy from
``seed`` (the bits are NumPy's; the torch reference loads these weights into its model).

Every function takes one weight vector (D,) or a stack (..., D) and evaluates the stack
with batched matrix products (np.matmul on (R, units, samples) stacks), a block of rows at
a time. Row r of a stack gives exactly the bits of the single evaluation of that row.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from types import SimpleNamespace

import numpy as np

from . import datasets
from .datasets import Samples

ACTIVATIONS = ("tanh", "relu")
#: the input features a network may take, in the order its first layer sees them: name -> label
FEATURES = {"x": "x", "y": "y", "x2": "x²", "y2": "y²", "xy": "xy", "sinx": "sin x", "siny": "sin y"}
#: data="none": no generated set, only the drawn points
BLANK = "none"
MAX_WEIGHTS = 10_000
MAX_WIDTH = 256
MAX_LAYERS = 4
MAX_SAMPLES = 20_000
#: values per hidden-activation array in one block of rows (128 KB of float64): larger blocks
#: measured slower here (new temporaries above about that size cost page faults on allocation)
BLOCK = 1 << 14
#: the gradient's block of rows: values of all its work arrays together, 2 MB (7 rows of the
#: 2-16-16-1 net on 400 points; 3 to 15 rows measured about as fast here, 1 or 31 slower)
GRAD_BLOCK = 1 << 18
_WORK = threading.local()  # each thread's work arrays for the gradient (see _work)


@dataclass(frozen=True)
class Layer:
    """One nn.Linear: its weight at w[offset : offset + out * inp] (out, inp), then its bias (out,)."""

    offset: int
    inp: int
    out: int

    @property
    def size(self) -> int:
        return self.out * (self.inp + 1)

    @property
    def weight(self) -> slice:
        return slice(self.offset, self.offset + self.out * self.inp)

    @property
    def bias(self) -> slice:
        return slice(self.offset + self.out * self.inp, self.offset + self.size)


@dataclass(frozen=True, eq=False)
class Network:
    """A binary classifier MLP on a 2-D data set; its loss is a function of D weights."""

    name: str
    title: str
    hidden: tuple[int, ...]
    activation: str
    data: Samples  # the training set (the loss f, gradients and mini-batches use it)
    test: Samples
    seed: int
    params: dict = field(default_factory=dict)  # the arguments that made it
    features: tuple[str, ...] = ("x", "y")  # the first layer's inputs, keys of FEATURES in its order
    l2: float = 0.0  # weight decay: f adds (l2 / 2) |w|^2
    layers: tuple[Layer, ...] = field(init=False, repr=False)
    start: np.ndarray = field(init=False, repr=False)
    _xa: np.ndarray = field(init=False, repr=False)  # the training inputs as (1, features + 1, n)
    _views: tuple = field(init=False, repr=False)  # per layer: weight slice, bias slice, out, inp
    #: per layer: where [W | b] (out, inp + 1) is in w; and all of them flattened, inverted
    _wb_index: tuple = field(init=False, repr=False)
    _wb_order: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        sizes = (len(self.features), *self.hidden, 1)
        layers, offset = [], 0
        for inp, out in pairwise(sizes):
            layers.append(Layer(offset, inp, out))
            offset += layers[-1].size
        object.__setattr__(self, "layers", tuple(layers))
        object.__setattr__(self, "start", self.init(self.seed))
        object.__setattr__(self, "_xa", self._inputs(self.data.x))
        object.__setattr__(self, "_views", tuple((la.weight, la.bias, la.out, la.inp) for la in layers))
        index = tuple(np.concatenate([np.arange(la.weight.start, la.weight.stop).reshape(la.out, la.inp),
                                      np.arange(la.bias.start, la.bias.stop)[:, None]], -1) for la in layers)
        object.__setattr__(self, "_wb_index", index)
        object.__setattr__(self, "_wb_order", np.argsort(np.concatenate([i.ravel() for i in index])))

    # --- the problem protocol -------------------------------------------------

    @property
    def dim(self) -> int:
        return self.layers[-1].offset + self.layers[-1].size

    @property
    def scale(self) -> float:
        """Size of the weights at the start (at least 1): divergence is judged against it."""
        return max(1.0, float(np.abs(self.start).max()))

    def f(self, w) -> np.ndarray:
        """The loss J at weights (..., D), shape (...): the mean cross-entropy on the training
        set, plus (l2 / 2) |w|^2 when l2 > 0."""
        w2, lead = self._rows(w)
        return self._penalize(w2, self.loss(w2), None).reshape(lead)

    def grad(self, w) -> np.ndarray:
        """Gradient of f by backpropagation, (..., D)."""
        return self.value_and_grad(w)[1]

    def value_and_grad(self, w) -> tuple[np.ndarray, np.ndarray]:
        """f and its gradient from one forward and one backward pass: (...), (..., D); the
        same bits as f(w) and grad(w). A run records the loss at no extra cost this way."""
        w2, lead = self._rows(w)
        loss, out = self._gradient(w2, self._xa, self.data.y)
        return self._penalize(w2, loss, out).reshape(lead), out.reshape(*lead, self.dim)

    def batch_grad(self, w, idx) -> np.ndarray:
        """Gradient of the mean loss over training samples ``idx``: w (D,) or (R, D) with idx (B,)
        (the same samples for every row) or (R, B) (row r's samples); the result is w's shape,
        or (R, D) for w (D,) and idx (R, B)."""
        idx = np.asarray(idx)
        if idx.dtype.kind not in "iu" or idx.ndim not in (1, 2) or idx.shape[-1] < 1:
            raise ValueError(f"idx must be integer sample indices (B,) or (R, B), got {idx.shape}")
        if idx.min() < 0 or idx.max() >= self.data.n:
            raise ValueError(f"sample indices must be in 0..{self.data.n - 1}")
        w = np.asarray(w, dtype=float)
        if idx.ndim == 2:
            w = np.broadcast_to(w, (len(idx), w.shape[-1]))
            if w.ndim != 2:
                raise ValueError(f"idx (R, B) needs w (R, D) or (D,), got {w.shape}")
        w2, lead = self._rows(w)
        _, out = self._gradient(w2, self._inputs(self.data.x[idx]), self.data.y[idx])
        self._penalize(w2, None, out)
        return out.reshape(*lead, self.dim)

    def _penalize(self, w2, loss, grad):
        """Add the L2 term to the losses (R,) and its gradient l2 w to grad (R, D) (either may be
        None), in place; nothing when l2 is 0. Returns loss."""
        if self.l2:
            if loss is not None:
                loss += 0.5 * self.l2 * np.add.reduce(w2 * w2, -1)
            if grad is not None:
                grad += self.l2 * w2
        return loss

    # --- more of the model ----------------------------------------------------

    def init(self, seed) -> np.ndarray:
        """Initial weights, torch's nn.Linear default in distribution: U(-1/sqrt(fan_in), +...).
        ``seed`` an int gives (D,); a sequence of R ints gives (R, D), row r = init(seed[r])."""
        if np.ndim(seed) > 0:
            return np.stack([self.init(int(s)) for s in np.asarray(seed).ravel()])
        rng = np.random.default_rng((int(seed), 2))  # streams 0 and 1 drew the data
        w = np.empty(self.dim)
        for layer in self.layers:
            bound = 1.0 / math.sqrt(layer.inp)
            w[layer.weight] = rng.uniform(-bound, bound, layer.out * layer.inp)
            w[layer.bias] = rng.uniform(-bound, bound, layer.out)
        return w

    def loss(self, w, samples: Samples | None = None) -> np.ndarray:
        """Mean cross-entropy over ``samples`` (default the training set), shape (...): the data
        term of J, without the L2 term (f adds it)."""
        if samples is None:
            samples, xa = self.data, self._xa
        else:
            xa = self._inputs(samples.x)
        w2, lead = self._rows(w)
        out = np.empty(len(w2))
        for s in self._blocks(len(w2), samples.n):
            out[s] = _mean_loss(self._forward(w2[s], xa)[-1][:, 0], samples.y)
        return out.reshape(lead)

    def logits(self, w, x) -> np.ndarray:
        """Network outputs before the sigmoid at points x (m, 2): shape (..., m)."""
        w2, lead = self._rows(w)
        xa = self._inputs(np.asarray(x, dtype=float).reshape(-1, 2))
        m = xa.shape[-1]
        out = np.empty((len(w2), m))
        for s in self._blocks(len(w2), m):
            out[s] = self._forward(w2[s], xa)[-1][:, 0]
        return out.reshape(*lead, m)

    def activations(self, w, x) -> list[np.ndarray]:
        """Each hidden layer's outputs at points x (m, 2), the same bits the loss and the logits
        are computed from: a list with one array (..., units, m) per hidden layer."""
        w2, lead = self._rows(w)
        xa = self._inputs(np.asarray(x, dtype=float).reshape(-1, 2))
        m = xa.shape[-1]
        out = [np.empty((len(w2), h, m)) for h in self.hidden]
        for s in self._blocks(len(w2), m):
            for o, a in zip(out, self._forward(w2[s], xa)[1:-1], strict=True):
                o[s] = a[:, :-1]
        return [o.reshape(*lead, *o.shape[1:]) for o in out]

    def proba(self, w, x) -> np.ndarray:
        """Predicted probability of class 1 at points x (m, 2): shape (..., m)."""
        return _sigmoid(self.logits(w, x))

    def accuracy(self, w, samples: Samples | None = None) -> np.ndarray:
        """Fraction of ``samples`` (default the training set) classified right, shape (...)."""
        samples = self.data if samples is None else samples
        return ((self.logits(w, samples.x) >= 0) == (samples.y == 1)).mean(-1)

    @property
    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """A box around training and test points (0.5 margin, whole halves) for boundary plots."""
        pts = np.concatenate([self.data.x, self.test.x])
        lo, hi = np.floor(2 * pts.min(0) - 1) / 2, np.ceil(2 * pts.max(0) + 1) / 2
        return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))

    def input_grid(self, num: int = 101, box=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A num x num grid of the input plane over ``box`` ((x0, x1), (y0, y1); default
        ``bounds``): xs (num,), ys (num,) and the points (num * num, 2), row i of the grid (at
        ys[i]) after row i - 1, so values at the points reshape to (num, num) as [i, j]."""
        (x0, x1), (y0, y1) = self.bounds if box is None else box
        xs, ys = np.linspace(x0, x1, num), np.linspace(y0, y1, num)
        gx, gy = np.meshgrid(xs, ys)
        return xs, ys, np.stack([gx.ravel(), gy.ravel()], -1)

    def boundary(self, w, num: int = 101, box=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """P(class 1) on a num x num grid over ``box`` (default ``bounds``): xs (num,), ys (num,),
        P (..., num, num) with P[..., i, j] at (xs[j], ys[i]). The decision boundary is P = 0.5."""
        xs, ys, pts = self.input_grid(num, box)
        p = self.proba(w, pts)
        return xs, ys, p.reshape(*p.shape[:-1], num, num)

    def layer_weights(self, w) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each layer's weight matrix (..., out, inp) and bias (..., out) in w (..., D) (views)."""
        w = np.asarray(w, dtype=float)
        lead = w.shape[:-1]
        return [(w[..., ws].reshape(*lead, out, inp), w[..., bs]) for ws, bs, out, inp in self._views]

    def hvp(self, w, v) -> np.ndarray:
        """Exact Hessian-vector product of f: w, v (..., D) broadcast together -> (..., D).
        Forward-over-reverse: the R-operator (Pearlmutter 1994) applied to the backprop."""
        w, v = np.broadcast_arrays(np.asarray(w, dtype=float), np.asarray(v, dtype=float))
        w2, lead = self._rows(w)
        v2 = v.reshape(-1, self.dim)
        out = np.empty_like(w2)
        for s in self._blocks(len(w2), self.data.n, arrays=3):
            self._hvp(w2[s], v2[s], self._xa[:, :-1], self.data.y, out[s])
        if self.l2:
            out += self.l2 * v2
        return out.reshape(*lead, self.dim)

    def sharpness(self, w, iters: int = 100, seed: int = 0) -> np.ndarray:
        """The Hessian's eigenvalue of largest magnitude at weights (..., D), shape (...): power
        iteration on exact Hessian-vector products from one seeded random vector, ``iters``
        products, the last Rayleigh quotient. (Near a minimum that is the largest eigenvalue.)"""
        w2, lead = self._rows(w)
        v = np.random.default_rng(seed).standard_normal(self.dim)
        v = np.broadcast_to(v / np.sqrt(v @ v), w2.shape)
        lam = np.zeros(len(w2))
        for _ in range(iters):
            hv = self.hvp(w2, v)
            lam = np.sum(v * hv, -1)
            norm = np.sqrt(np.sum(hv * hv, -1, keepdims=True))
            v = np.where(norm > 0, hv / np.where(norm > 0, norm, 1.0), v)
        return lam.reshape(lead)

    # --- the computation on (R, D) blocks ---------------------------------------

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        """Points (m, 2) as the network's input layout (1, F + 1, m): the F features and a row
        of ones; points (R, m, 2) as (R, F + 1, m)."""
        x = x[None] if x.ndim == 2 else x
        xa = np.ones((len(x), len(self.features) + 1, x.shape[1]))
        xa[:, :-1] = np.swapaxes(features(self.features, x), -1, -2)
        return xa

    def _rows(self, w) -> tuple[np.ndarray, tuple]:
        w = np.asarray(w, dtype=float)
        if w.ndim == 0 or w.shape[-1] != self.dim:
            raise ValueError(f"weights must have shape (..., {self.dim}), got {w.shape}")
        return np.ascontiguousarray(w.reshape(-1, self.dim)), w.shape[:-1]

    def _blocks(self, rows: int, samples: int, arrays: int = 1):
        """Slices of rows so that one hidden activation array holds about BLOCK / arrays values."""
        width = max((*self.hidden, 1)) + 1
        step = max(1, BLOCK // (arrays * samples * width))
        return [slice(i, min(i + step, rows)) for i in range(0, rows, step)]

    def _unpack(self, w2):
        """Each layer's weights (R, out, inp) and biases (R, out), views of w2 (R, D)."""
        R = len(w2)
        return [(w2[:, ws].reshape(R, out, inp), w2[:, bs]) for ws, bs, out, inp in self._views]

    def _forward(self, w2, xa, layers=None) -> list[np.ndarray]:
        """The inputs xa (R | 1, 3, m) and each layer's outputs. Every layer's input carries a
        last row of ones, so that one matrix product [W | b] @ [a; 1] applies weights and bias:
        hidden outputs are (R, out + 1, m), the logits (R, 1, m)."""
        acts = [xa]
        R, m, last = len(w2), xa.shape[-1], len(self.layers) - 1
        for k, (W, b) in enumerate(layers or self._unpack(w2)):
            wb = np.concatenate([W, b[:, :, None]], -1)
            if k == last:
                acts.append(np.matmul(wb, acts[-1]))
                break
            a = np.empty((R, W.shape[1] + 1, m))
            a[:, -1] = 1.0
            np.matmul(wb, acts[-1], out=a[:, :-1])
            _activate(self.activation, a[:, :-1])
            acts.append(a)
        return acts

    def _gradient(self, w2, xa, y) -> tuple[np.ndarray, np.ndarray]:
        """The mean loss over the samples xa (1 | R, F + 1, m), y (m,) | (R, m) at the rows of w2
        (R, D), and its gradient: (R,), (R, D). Each layer's [W | b] is gathered once for all rows;
        then a block of rows at a time goes through the same work arrays (no new large temporaries,
        ufuncs write in place), so every pass runs on data in the cache. A row's arithmetic does not
        depend on its block: row r equals the single evaluation bit for bit."""
        R, m = len(w2), xa.shape[-1]
        # (R, out, inp + 1), C order (w2[:, i] would put R innermost: no BLAS, other bits per R)
        wbs = [np.take(w2, i, axis=1) for i in self._wb_index]
        grads = [np.empty_like(wb) for wb in wbs]  # [dW | db]
        loss = np.empty(R)
        per_row = m * (sum(2 * h + 1 for h in self.hidden) + max(self.hidden, default=0) + 1)
        rows = max(1, GRAD_BLOCK // per_row)
        work = _work(rows, self.hidden, m)
        for i in range(0, R, rows):
            s = slice(i, min(i + rows, R))
            loss[s] = self._gradient_block([wb[s] for wb in wbs], xa if len(xa) == 1 else xa[s],
                                           y if y.ndim == 1 else y[s], [g[s] for g in grads], work)
        flat = np.concatenate([g.reshape(R, -1) for g in grads], -1)
        return loss, np.take(flat, self._wb_order, axis=1)

    def _gradient_block(self, wbs, xa, y, grads, work) -> np.ndarray:
        """Backpropagation on B rows: [W | b] (B, out, inp + 1) per layer; writes [dW | db] into
        grads; returns the mean losses (B,). work: the arrays of _work (at least B rows)."""
        B, last = len(wbs[0]), len(wbs) - 1
        acts = [xa]
        for k in range(last):
            a = work.acts[k][:B]  # its last row holds ones
            np.matmul(wbs[k], acts[-1], out=a[:, :-1])
            _activate(self.activation, a[:, :-1])
            acts.append(a)
        z = np.matmul(wbs[last], acts[-1])[:, 0]  # the logits (B, m)
        e = np.exp(-np.abs(z))
        loss = _mean_loss(z, y, e)
        d = ((_sigmoid(z, e) - y) / z.shape[-1])[:, None]  # dloss/dlogit (B, 1, m)
        for k in range(last, -1, -1):
            np.matmul(d, acts[k].transpose(0, 2, 1), out=grads[k])
            if k:
                back = work.d[k - 1][:B]
                W = wbs[k][:, :, :-1]
                if W.shape[1] == 1:  # a single output: W^T d elementwise
                    np.multiply(W[:, 0, :, None], d, out=back)
                else:
                    np.matmul(W.transpose(0, 2, 1), d, out=back)
                _times_slope(self.activation, back, acts[k][:, :-1], work.tmp[:B, : back.shape[1]])
                d = back
        return loss

    def _hvp(self, w2, v2, xt, y, out) -> None:
        """Write H v into out: the backward pass and its directional derivative along v."""
        layers, dirs = self._unpack(w2), self._unpack(v2)
        R, last = len(w2), len(self.layers) - 1
        acts, racts = [xt], [None]
        for k, ((W, b), (V, c)) in enumerate(zip(layers, dirs, strict=True)):
            a, ra = acts[-1], racts[-1]
            z = _affine(W, b, a)
            rz = _affine(V, c, a)
            if ra is not None:
                rz += _affine(W, None, ra)
            if k < last:
                _activate(self.activation, z)
                rz *= _slope(self.activation, z)
            acts.append(z)
            racts.append(rz)
        s = _sigmoid(acts[-1])
        m = xt.shape[-1]
        d = (s - y[..., None, :]) / m
        rd = s * (1 - s) * racts[-1] / m
        for k in range(last, -1, -1):
            la, a, ra = self.layers[k], acts[k], racts[k]
            hw = np.matmul(rd, a.transpose(0, 2, 1))
            if ra is not None:
                hw += np.matmul(d, ra.transpose(0, 2, 1))
            out[:, la.weight] = hw.reshape(R, -1)
            out[:, la.bias] = rd.sum(-1)
            if k:
                W, V = layers[k][0], dirs[k][0]
                da = _affine_t(W, d)
                rda = _affine_t(W, rd) + _affine_t(V, d)
                slope = _slope(self.activation, a)
                d = da * slope
                rd = rda * slope
                if self.activation == "tanh":  # d(1 - a^2) = -2 a da, da = (1 - a^2) dz
                    rd -= 2 * da * a * ra


def _affine(W, b, a):
    """W a + b for W (R, out, inp), b (R, out) or None, a (R | 1, inp, m): (R, out, m)."""
    z = np.matmul(W, a)
    if b is not None:
        z += b[:, :, None]
    return z


def _affine_t(W, d):
    """W^T d for W (R, out, inp), d (R, out, m): (R, inp, m); a single output goes elementwise."""
    if W.shape[1] == 1:
        return W[:, 0, :, None] * d
    return np.matmul(W.transpose(0, 2, 1), d)


def features(names, x: np.ndarray) -> np.ndarray:
    """The input features ``names`` (keys of FEATURES) of points x (..., 2): (..., len(names))."""
    u, v = x[..., 0], x[..., 1]
    make = {"x": lambda: u, "y": lambda: v, "x2": lambda: u * u, "y2": lambda: v * v, "xy": lambda: u * v,
            "sinx": lambda: np.sin(u), "siny": lambda: np.sin(v)}
    return np.stack([make[k]() for k in names], -1)


def _activate(name: str, z: np.ndarray) -> None:
    if name == "tanh":
        np.tanh(z, out=z)
    else:
        np.maximum(z, 0.0, out=z)


def _work(rows: int, hidden: tuple[int, ...], m: int) -> SimpleNamespace:
    """This thread's work arrays for _gradient_block, made once per shape: each hidden layer's
    outputs with a row of ones (rows, h + 1, m), its backpropagated gradient (rows, h, m), and one
    scratch array (rows, max h, m). Per thread: Streamlit serves sessions from threads."""
    key = (rows, hidden, m)
    cache = getattr(_WORK, "arrays", None)
    if cache is None or cache[0] != key:
        acts = [np.empty((rows, h + 1, m)) for h in hidden]
        for a in acts:
            a[:, -1] = 1.0
        cache = key, SimpleNamespace(acts=acts, d=[np.empty((rows, h, m)) for h in hidden],
                                     tmp=np.empty((rows, max(hidden, default=0), m)))
        _WORK.arrays = cache
    return cache[1]


def _times_slope(name: str, d: np.ndarray, a: np.ndarray, tmp: np.ndarray) -> None:
    """d *= the activation's derivative, from its output a, in place (tmp: scratch of d's shape);
    the bits of d * _slope(name, a)."""
    if name == "tanh":
        np.multiply(a, a, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        np.multiply(d, tmp, out=d)
    else:
        np.multiply(d, a > 0, out=d)


def _slope(name: str, a: np.ndarray) -> np.ndarray:
    """The activation's derivative, from its output a."""
    if name == "tanh":
        s = a * a
        return np.subtract(1.0, s, out=s)
    return (a > 0).astype(float)


def _sigmoid(z, e=None):
    """Logistic function without overflow: exp of -|z| only (``e``, if already computed)."""
    e = np.exp(-np.abs(z)) if e is None else e
    r = 1.0 / (1.0 + e)
    return np.where(z >= 0, r, e * r)


def _mean_loss(z, y, e=None):
    """Mean binary cross-entropy of logits z (..., m) for labels y, as torch's BCEWithLogitsLoss:
    log(1 + exp(z)) - y z = max(z, 0) - y z + log1p(exp(-|z|)) per sample (``e``: exp(-|z|), if
    already computed)."""
    e = np.exp(-np.abs(z)) if e is None else e
    per = np.maximum(z, 0.0) - y * z + np.log1p(e)
    return np.add.reduce(per, -1) / z.shape[-1]


def network(data: str = "moons", hidden=(16, 16), activation: str = "tanh", n: int = 400,
            noise: float = 0.2, seed: int = 0, n_test: int | None = None, *, features=("x", "y"),
            l2: float = 0.0, points: str | Samples = "", test_fraction: float = 0.2) -> Network:
    """An MLP F -> hidden... -> 1 on ``n`` training samples of data set ``data``
    (see landscapes.datasets; BLANK for none); ``seed`` draws the data and the initial weights.
    ``features``: the inputs (keys of FEATURES); ``l2``: the weight decay term of the loss;
    ``points``: drawn points (Samples, or the text datasets.encode_points wrote), of which
    datasets.split holds ``test_fraction`` out for the test set (seeded by ``seed``)."""
    hidden = (int(hidden),) if np.ndim(hidden) == 0 else tuple(int(h) for h in hidden)
    if len(hidden) > MAX_LAYERS or any(not 1 <= h <= MAX_WIDTH for h in hidden):
        raise ValueError(f"hidden must be at most {MAX_LAYERS} layer widths from 1 to {MAX_WIDTH}, "
                         f"got {hidden}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    if data != BLANK:
        datasets.kind(data)
    if not 2 <= int(n) <= MAX_SAMPLES or int(n) != n:
        raise ValueError(f"n must be a whole number from 2 to {MAX_SAMPLES}, got {n!r}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    features = tuple(features)
    if not features or len(set(features)) != len(features) or not set(features) <= set(FEATURES):
        raise ValueError(f"features must be some of {', '.join(FEATURES)} (each once), got {features!r}")
    features = tuple(k for k in FEATURES if k in features)
    if not (math.isfinite(l2) and 0 <= l2 <= 1):
        raise ValueError(f"l2 must be a number from 0 to 1, got {l2!r}")
    if not (math.isfinite(test_fraction) and 0 <= test_fraction < 1):
        raise ValueError(f"test_fraction must be a number from 0 to below 1, got {test_fraction!r}")
    points = points if isinstance(points, str) else datasets.encode_points(points)
    datasets.decode_points(points)  # ValueError for text that is not a point list
    if data == BLANK and len(points) < 3 * datasets.POINT_CHARS:
        raise ValueError("a blank plane needs at least 3 drawn points (2 to train on, 1 to test)")
    sizes = (len(features), *hidden, 1)
    dim = sum(o * (i + 1) for i, o in pairwise(sizes))
    if dim > MAX_WEIGHTS:
        raise ValueError(f"{'-'.join(map(str, sizes))} has {dim} weights; at most {MAX_WEIGHTS}")
    return _make(data, hidden, activation, int(n), float(noise), int(seed),
                 None if n_test is None else int(n_test), features, float(l2), points, float(test_fraction))


@lru_cache(maxsize=32)
def _make(data, hidden, activation, n, noise, seed, n_test, features, l2, points, test_fraction) -> Network:
    mine = datasets.decode_points(points)
    train, test = ((datasets.EMPTY, datasets.EMPTY) if data == BLANK
                   else datasets.train_test(data, n, noise, seed, n_test))
    if mine.n:
        drawn_train, drawn_test = datasets.split(mine, test_fraction, seed)
        train, test = datasets.join(train, drawn_train), datasets.join(test, drawn_test)
    if train.n < 2 or test.n < 1:
        raise ValueError(f"{mine.n} drawn points with a test fraction of {test_fraction:g} leave {train.n} "
                         f"to train on and {test.n} to test on: draw more, or change the test fraction")
    arch = "-".join(map(str, (len(features), *hidden, 1)))
    what = (f"your points ({mine.n} drawn)" if data == BLANK else f"{datasets.kind(data).title.lower()} "
            f"({n} points{f' + {mine.n} drawn' if mine.n else ''})")
    return Network(
        name="network",
        title=f"{arch} {activation} MLP on {what}",
        hidden=hidden, activation=activation, data=train, test=test, seed=seed,
        params=dict(data=data, hidden=hidden, activation=activation, n=n, noise=noise, seed=seed,
                    n_test=test.n, features=features, l2=l2, points=points, test_fraction=test_fraction),
        features=features, l2=l2,
    )
