"""``python -m descent_lab``: the command line (descent_lab.cli)."""

import sys

from .cli import main

sys.exit(main())
