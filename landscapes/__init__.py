"""Descent Lab's test surfaces: pure NumPy, arrays shaped (..., 2).

    import landscapes
    landscapes.names()                  # ['rosenbrock', 'saddle', ...]
    s = landscapes.get("elongated_bowl", condition=50)
    s.f(xy), s.grad(xy), s.domain, s.minima, s.start
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import datasets, planes
from .catalog import REGISTRY, SurfaceDef
from .expression import from_expression
from .mlp import Network, network
from .surface import Dataset, Surface

__all__ = [
    "Dataset", "Network", "Surface", "SurfaceDef", "datasets", "from_expression", "get", "names", "network",
    "planes", "spec",
]


def names() -> list[str]:
    """Registered surface names, in menu order."""
    return list(REGISTRY)


def spec(name: str) -> SurfaceDef:
    """The registered definition of ``name`` (title and parameters)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown surface {name!r}; choose one of {', '.join(REGISTRY)}") from None


def get(name: str, **params) -> Surface:
    """The surface ``name`` with keyword ``params`` (checked against its spec)."""
    d = spec(name)
    known = {p.name: p for p in d.params}
    unknown = set(params) - set(known)
    if unknown:
        raise ValueError(f"{d.title} has no parameter {', '.join(sorted(unknown))}")
    if any(np.ndim(v) for v in params.values()):
        raise ValueError(f"{d.title}'s parameters must be single numbers")
    checked = {k: known[k].check(v) for k, v in params.items()}
    return _make(name, tuple(sorted(checked.items())))


@lru_cache(maxsize=64)
def _make(name: str, params: tuple) -> Surface:
    return REGISTRY[name].make(**dict(params))
