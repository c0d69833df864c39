"""Fuzz typed formulas: random formulas over the whole grammar, and links that carry them.

    .venv/bin/python scripts/fuzz_formulas.py [--count N] [--seconds S] [--seed K]

Each formula is built from every function and operator of landscapes.expression's
grammar, the constants 0, 1e-300, 1e300, pi and e, negative, fractional and
out-of-range powers, and nesting. For each one:

* ``from_expression`` (reading, simplifying, differentiating, the minima search) either
  gives a Surface or raises ValueError with a message; nothing else may come out and no
  warning may be issued (warnings are errors here);
* a Surface's value, gradient and Hessian are evaluated at random points and a short run
  of each kind of optimizer step is made on it, again without any exception or warning;
* ``descent_lab.setup.from_query`` with ``surface=custom&f=...&domain=...`` (random,
  sometimes broken, domains and starts) never raises.

The same generator and checks run in tests/test_expression.py under hypothesis with a
few dozen examples; this script runs them for longer (up to --count formulas or
--seconds, whichever comes first) and prints what it saw. Exit status 1 on a failure,
with the formula that caused it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import landscapes  # noqa: E402
import optimizers  # noqa: E402
from descent_lab import setup  # noqa: E402
from landscapes.expression import USER_FUNCTIONS  # noqa: E402

NUMBERS = ["0", "1", "2", "3.7", "0.5", "10", "1e-300", "1e300", "pi", "e", "0.0", "100"]
EXPONENTS = ["2", "3", "-1", "-2", "0.5", "-0.5", "1.5", "-2.5", "(1/3)", "0", "1", "12", "-12", "13",
             "2^3", "(-1)", "x", "y", "(x+y)", "e"]
BINARY = ["+", "-", "*", "/"]
POWER = ["^", "**"]
OPTIMIZERS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")


def random_formula(rng: random.Random, depth: int = 4) -> str:
    """A random formula text: mostly valid, sometimes refused (a constant 1/0, 1e300^2, x^13)."""
    if depth <= 0 or rng.random() < 0.2:
        return rng.choice("xy") if rng.random() < 0.65 else rng.choice(NUMBERS)
    kind = rng.choice(["function", "function", "unary", "binary", "binary", "power", "power"])
    sub = random_formula(rng, depth - 1)
    if kind == "function":
        return f"{rng.choice(USER_FUNCTIONS)}({sub})"
    if kind == "unary":
        return rng.choice(["-", "+", "- "]) + _wrap(rng, sub)
    if kind == "binary":
        return f"{_wrap(rng, sub)} {rng.choice(BINARY)} {_wrap(rng, random_formula(rng, depth - 1))}"
    exponent = rng.choice(EXPONENTS) if rng.random() < 0.7 else _wrap(rng, random_formula(rng, depth - 2))
    return f"{_wrap(rng, sub)}{rng.choice(POWER)}{exponent}"


def _wrap(rng: random.Random, text: str) -> str:
    """Parentheses most of the time; without them the text still reads (another grouping)."""
    return f"({text})" if rng.random() < 0.8 else text


def random_domain(rng: random.Random):
    """The default domain, a random one, or sometimes a refused one (reversed, tiny, huge)."""
    roll = rng.random()
    if roll < 0.5:
        return ((-3.0, 3.0), (-3.0, 3.0))
    if roll < 0.9:
        bound = 10.0 ** rng.uniform(-3, 6)
        x0, y0 = rng.uniform(-bound, bound), rng.uniform(-bound, bound)
        return ((x0, x0 + rng.uniform(1e-3, 2) * bound), (y0, y0 + rng.uniform(1e-3, 2) * bound))
    return rng.choice([((1.0, -1.0), (0.0, 1.0)), ((0.0, 1e-9), (0.0, 1.0)), ((0.0, 1e7), (0.0, 1.0)),
                       ((0.0, 0.0), (0.0, 0.0))])


def check_formula(text: str, domain, rng: random.Random, run_steps: int = 20) -> str:
    """Build the surface of ``text``; evaluate it and run optimizers on it. Returns "refused"
    (a ValueError with a message) or "surface"; anything else, an exception or a warning,
    propagates (warnings are errors inside)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            s = landscapes.from_expression(text, domain=domain)
        except ValueError as e:
            if not str(e):
                raise AssertionError(f"empty ValueError message for {text!r}") from e
            return "refused"
        check_surface(s)
        (x0, x1), (y0, y1) = s.domain
        p = np.array([[rng.uniform(x0, x1), rng.uniform(y0, y1)] for _ in range(16)])
        assert s.f(p).shape == (16,) and s.grad(p).shape == (16, 2) and s.hess(p).shape == (16, 2, 2)
        for name in rng.sample(OPTIMIZERS, 2):
            optimizers.run(optimizers.get(name), s, steps=run_steps)
    return "surface"


def check_surface(s: landscapes.Surface) -> None:
    """What every surface from a formula promises: minima in the domain (lowest first, f* among
    them) or an explicit "no minimum", and a start in the domain."""
    (x0, x1), (y0, y1) = s.domain
    m = s.minima
    assert m.ndim == 2 and m.shape[1] == 2 and np.all(np.isfinite(m)), m
    assert np.all((m[:, 0] >= x0) & (m[:, 0] <= x1) & (m[:, 1] >= y0) & (m[:, 1] <= y1)), m
    assert x0 <= s.start[0] <= x1 and y0 <= s.start[1] <= y1, s.start
    if s.has_global_min:
        assert len(m) >= 1 and np.isfinite(s.global_min)
        assert np.all(s.minima_values >= s.global_min)
    else:
        try:
            fstar = s.global_min
        except ValueError:
            return
        raise AssertionError(f"global_min of a surface without a minimum must raise, got {fstar}")


def random_query(rng: random.Random) -> dict:
    """A link's query for a typed formula: a random formula, domain and start, sometimes junk."""
    q = {"surface": "custom", "f": random_formula(rng)}
    roll = rng.random()
    if roll < 0.6:
        (x0, x1), (y0, y1) = random_domain(rng)
        q["domain"] = ",".join(repr(v) for v in (x0, x1, y0, y1))
    elif roll < 0.8:
        q["domain"] = rng.choice(["", "1,2,3", "a,b,c,d", "nan,1,0,1", "inf,-inf,0,1", "1e400,0,0,1",
                                  "-3,3,-3,3,4", "  -1 , 1 , -1 , 1 "])
    if rng.random() < 0.4:
        q["start"] = rng.choice(["0,0", "1e9,0", "nan,1", "x", "-2.5,2", "2,", ",", "1e-300,-1e-300"])
    if rng.random() < 0.3:
        q["optimizers"] = rng.choice(["adam", "gd,adam", "nope", "adam,adam,adam"])
    if rng.random() < 0.1:
        q["f"] = rng.choice(["", "x" * 400, "__import__('os')", "1/0", "sin(x) +", q["f"] + ")"])
    return q


def check_query(query: dict) -> tuple:
    """setup.from_query on ``query`` must not raise (nor warn); returns (setup, problems)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result, problems = setup.from_query(query)
        result.make_surface()
    assert all(isinstance(p, str) and p for p in problems), problems
    return result, problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2000, help="formulas to try (default 2000)")
    ap.add_argument("--seconds", type=float, default=120.0, help="stop after this long (default 120)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    seen: Counter = Counter()
    start = time.perf_counter()
    for i in range(args.count):
        if time.perf_counter() - start > args.seconds:
            break
        text, domain = random_formula(rng), random_domain(rng)
        query = random_query(rng)
        try:
            seen[check_formula(text, domain, rng)] += 1
            check_query(query)
            seen["links"] += 1
        except Exception:
            traceback.print_exc()
            print(f"\nFAILED on formula #{i}: {text!r} over {domain}\n  or link {query!r}")
            return 1
    elapsed = time.perf_counter() - start
    total = seen["surface"] + seen["refused"]
    print(f"{total} formulas in {elapsed:.1f} s: {seen['surface']} surfaces, {seen['refused']} refused "
          f"with a ValueError; {seen['links']} links read; no other exception, no warning.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
