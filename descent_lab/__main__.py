"""``python -m descent_lab``: the same as the ``descent-lab`` command (descent_lab.launch)."""

import sys

from .launch import main

sys.exit(main(prog="python -m descent_lab"))
