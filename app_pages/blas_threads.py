"""One BLAS thread in the app's server process.

NumPy's OpenBLAS starts a thread per core. The app's matrix products are small (a 41 x 41 slice of a
337-weight network, a PCA of 150 points, (R, 400, 16) stacks) and the server runs every session's
script in its own thread beside the browsers it serves: two BLAS threads then wait on each other
whenever a core is taken. Measured on this 2-core machine, while Chromium loaded the page, the
Networks page's plane (PCA and slice, 70 ms alone) took 0.2-1.0 s with two threads; with one it
takes what it takes alone, and training is no slower (one thread is what the runs' small products
use anyway; scripts/bench_network.py: 64 runs 2.16 s with two, 2.25 s with one).
"""

from __future__ import annotations

from functools import cache

import numpy  # noqa: F401 -- loads NumPy's BLAS, so threadpoolctl finds it
from threadpoolctl import threadpool_limits


@cache
def one_blas_thread() -> None:
    """Limit NumPy's BLAS to one thread, once per process."""
    threadpool_limits(1, user_api="blas")
