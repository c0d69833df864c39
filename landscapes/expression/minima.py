"""Where a formula surface's minima are (landscapes.expression): the domain checked, a grid search,
Newton steps from the lowest cells, the global one first, and a default start."""

from __future__ import annotations

import numpy as np

from .tree import MAX_BOUND


def check_domain(domain) -> tuple[tuple[float, float], tuple[float, float]]:
    try:
        d = np.asarray(domain, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"domain must be ((x_min, x_max), (y_min, y_max)), got {domain!r}") from None
    if d.shape != (2, 2):
        raise ValueError(f"domain must be ((x_min, x_max), (y_min, y_max)), got {domain!r}")
    if not np.all(np.isfinite(d)) or np.any(np.abs(d) > MAX_BOUND):
        raise ValueError(f"domain bounds must be finite numbers from {-MAX_BOUND:g} to {MAX_BOUND:g}")
    for (a, b), axis in zip(d, "xy", strict=True):
        if not b - a >= 1e-6 * max(1.0, abs(a), abs(b)):
            raise ValueError(f"the {axis} range must have min < max (and not be vanishingly small), "
                             f"got {a:g} to {b:g}")
    return (float(d[0, 0]), float(d[0, 1])), (float(d[1, 0]), float(d[1, 1]))


def default_start(value, gradient, dom, grid, finite) -> np.ndarray:
    (x0, x1), (y0, y1) = dom
    p = np.array([x0 + (x1 - x0) / 4, y1 - (y1 - y0) / 4])
    with np.errstate(all="ignore"):
        gx, gy = np.broadcast_arrays(*gradient(grid[..., 0], grid[..., 1], np))
    ok = finite & np.isfinite(gx) & np.isfinite(gy)
    span = np.array([x1 - x0, y1 - y0])
    d = (((grid - p) / span) ** 2).sum(-1)
    with np.errstate(all="ignore"):
        here = [np.asarray(v, dtype=float) for v in (value(p[0], p[1], np), *gradient(p[0], p[1], np))]
    if all(np.isfinite(here)) or not ok.any():
        return p
    return grid[np.unravel_index(np.argmin(np.where(ok, d, np.inf)), d.shape)].copy()


def grid_minima(grid: np.ndarray, z: np.ndarray, count: int = 150) -> np.ndarray:
    """The ``count`` lowest points of the grid that are no higher than their 8 neighbours
    (one or more in every basin wider than a cell), shape (k, 2): starts for the search."""
    padded = np.pad(np.where(np.isfinite(z), z, np.inf), 1, constant_values=np.inf)
    rows, cols = z.shape
    low = np.isfinite(z)
    for di in (0, 1, 2):
        for dj in (0, 1, 2):
            low &= z <= padded[di:di + rows, dj:dj + cols]
    order = np.argsort(z[low], kind="stable")[:count]
    return grid[low][order]


def global_first(value, minima: np.ndarray, grid: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, bool]:
    """``minima`` (lowest first) with the grid's lowest inner point put first when it is
    lower than all of them, and whether f has a lowest point inside the domain.

    Inner grid points have four finite neighbours; the others are the edge (of the domain,
    or of where f is finite). The lowest inner point may miss a valley's floor by up to
    half a cell: its largest second difference / 2 bounds what that can cost, so an edge
    lower by less than that is a tie, not a fall past the edge, provided no neighbour of
    that point is lower (else f falls from it toward the edge, as exp(10*x*y) does).
    """
    finite = np.isfinite(z)
    padded = np.pad(finite, 1, constant_values=False)
    inner = finite & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    low_edge = float(z[finite & ~inner].min()) if (finite & ~inner).any() else np.inf
    low_inner, slack = np.inf, 0.0
    if inner.any():
        i, j = np.unravel_index(np.argmin(np.where(inner, z, np.inf)), z.shape)
        low_inner = float(z[i, j])
        around = z[i - 1:i + 2, j - 1:j + 2]
        if np.all(low_inner <= around[np.isfinite(around)]):
            with np.errstate(over="ignore"):
                slack = max(abs(z[i - 1, j] - 2 * low_inner + z[i + 1, j]),
                            abs(z[i, j - 1] - 2 * low_inner + z[i, j + 1])) / 2

    def at_most(a: float, b: float) -> bool:  # a <= b up to rounding
        return a <= b + 8 * np.finfo(float).eps * max(abs(a), abs(b))

    if len(minima):
        with np.errstate(all="ignore"):
            lowest_found = float(np.asarray(value(minima[0, 0], minima[0, 1], np), dtype=float))
        if at_most(lowest_found, min(low_inner, low_edge)):
            return minima, True
    if inner.any() and at_most(low_inner - slack, low_edge):
        return np.vstack([grid[i, j], minima]), True
    return minima, False


def find_minima(value, gradient, hessian, domain, seeds=None, n: int = 25, steps: int = 120,
                max_count: int = 50) -> np.ndarray:
    """Strict local minima of a surface inside ``domain``, lowest first, shape (k, 2), maybe k = 0.

    Starts: an n x n grid and ``seeds`` (k, 2). From each: ``steps`` normalized gradient
    steps (in coordinates scaled to the unit square, step length shrinking geometrically
    from 1/n to 1e-4), then Newton steps with the analytic Hessian. Kept: finite points in
    the domain where the Hessian is positive definite and the last Newton step is below
    1e-7 of the domain's size (scale-free: where exp(...) underflows f is nearly flat and
    its gradient tiny, but Newton still moves far, so such points are not minima). All
    points are ranked by f before those closer than 1e-4 (scaled) to a lower one are merged
    and the list is cut at ``max_count``, so the lowest minima are the ones kept.
    """
    (x0, x1), (y0, y1) = domain
    lo, span = np.array([x0, y0]), np.array([x1 - x0, y1 - y0])
    u = (np.arange(n) + 0.5) / n
    p = lo + span * np.stack(np.meshgrid(u, u), -1).reshape(-1, 2)
    if seeds is not None:
        p = np.concatenate([p, np.asarray(seeds, dtype=float).reshape(-1, 2)])
    with np.errstate(all="ignore"):
        g = _grad(gradient, p) * span
        for rate in np.geomspace(1.0 / n, 1e-4, steps):
            norm = np.hypot(*g.T)[:, None]
            move = np.where(np.isfinite(g).all(1, keepdims=True) & (norm > 0), g / norm, 0.0)
            p = np.clip(p - rate * span * move, lo - 0.05 * span, lo + 1.05 * span)
            g = _grad(gradient, p) * span
        for _ in range(16):
            step, convex = _newton_step(gradient, hessian, p)
            p = np.where(convex[:, None], p - step, p)
        step, convex = _newton_step(gradient, hessian, p)
        inside = np.all((p >= lo - 1e-9 * span) & (p <= lo + (1 + 1e-9) * span), axis=1)
        keep = (np.isfinite(p).all(1) & inside & convex
                & np.all(np.abs(step) <= 1e-7 * span, axis=1))
        p = np.clip(p[keep], lo, lo + span)
        f = np.asarray(value(p[:, 0], p[:, 1], np), dtype=float) + 0 * p[:, 0]
    order = np.argsort(np.where(np.isfinite(f), f, np.inf), kind="stable")[: np.isfinite(f).sum()]
    p, f = p[order], f[order]
    _, first = np.unique(np.round((p - lo) / span * 1e4), axis=0, return_index=True)
    first = np.sort(first)  # one (the lowest) per cell of 1e-4: most starts of a basin meet
    p, f = p[first], f[first]
    out: list[int] = []
    for k, q in enumerate(p):
        if all(np.abs((q - p[r]) / span).max() > 1e-4 for r in out):
            out.append(k)
            if len(out) > max_count:
                break
    if len(out) > max_count:  # cut below the first left out, and all that tie with it (symmetry)
        cut = f[out[-1]]
        out = [r for r in out[:-1] if f[r] < cut - 1e-9 * abs(cut) - 1e-300]
    return p[out].reshape(-1, 2)


def _newton_step(gradient, hessian, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Newton step H^-1 g at each of ``p`` (k, 2), and where H is positive definite."""
    gx, gy = np.broadcast_arrays(*gradient(p[:, 0], p[:, 1], np), p[:, 0])[:2]
    fxx, fxy, fyy = np.broadcast_arrays(*hessian(p[:, 0], p[:, 1], np), p[:, 0])[:3]
    det = fxx * fyy - fxy * fxy
    step = np.stack([fyy * gx - fxy * gy, fxx * gy - fxy * gx], -1) / det[:, None]
    convex = (fxx > 0) & (det > 1e-8 * (fxx * fxx + 2 * fxy * fxy + fyy * fyy)) & np.isfinite(step).all(1)
    return np.where(convex[:, None], step, 0.0), convex


def _grad(gradient, p: np.ndarray) -> np.ndarray:
    gx, gy = gradient(p[:, 0], p[:, 1], np)
    return np.stack(np.broadcast_arrays(gx, gy), -1).astype(float)
