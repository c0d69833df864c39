"""``descent-lab`` (and ``python -m descent_lab``): start the app, or run a command of descent_lab.cli.

``descent-lab`` alone, or followed by Streamlit options (``descent-lab --server.port 8502``), is
``streamlit run`` of the app's entry script with those options; ``descent-lab export ...`` and
``descent-lab --help`` go to the command line in descent_lab.cli.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from . import cli

HERE = Path(__file__).resolve().parent


def app_file() -> Path:
    """The app's entry script. Installed, it is descent_lab/app/app.py, with the app's pages,
    config and icon beside it (pyproject.toml puts them there: Streamlit finds pages and
    .streamlit/config.toml next to the entry script); in a checkout it is the repository's app.py."""
    installed = HERE / "app" / "app.py"
    return installed if installed.is_file() else HERE.parent / "app.py"


def start_app(options: Sequence[str]) -> None:
    """Serve the app until stopped: ``streamlit run`` of app_file() with ``options``.
    Streamlit's own command line parses them (and ends the process); its messages name it
    ("Try 'streamlit run --help'"), as the options are its own."""
    from streamlit.web import cli as streamlit_cli

    streamlit_cli.main(["run", str(app_file()), *options], prog_name="streamlit")


def main(argv: Sequence[str] | None = None, prog: str = "descent-lab") -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0].startswith("--") and args[0] != "--help"):
        start_app(args)
        return 0
    return cli.main(args, prog=prog)
