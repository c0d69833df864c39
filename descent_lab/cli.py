"""The command line: ``descent-lab export ...`` or ``python -m descent_lab export ...`` (see README,
"Export from the command line"; descent_lab.launch starts the app when no command is given).

The setup is built exactly as a Playground link is read (descent_lab.presets.from_link):
``--link`` gives a whole query string, the options below override it, and ``--set``
gives single link entries (``--set adam.lr=0.01``). What the link reader cannot
use is printed as a warning and left at its default; arguments argparse cannot
use end the program with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import landscapes
import optimizers

from .export import GIF_FPS, GIF_FRAMES, SLIDE_SIZES
from .presets import from_link, lesson_question
from .setup import DEFAULT_APP_URL

OUTPUTS = ("gif", "png", "csv", "json", "html")


def _optimizer_list(text: str) -> str:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in optimizers.names()]
    if not names or unknown:
        what = f"unknown optimizer {unknown[0]!r}" if unknown else "no optimizer given"
        raise argparse.ArgumentTypeError(f"{what}; choose from {', '.join(optimizers.names())}")
    return ",".join(names)


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE (like adam.lr=0.01)")
    return key.strip(), value.strip()


def link_query(text: str) -> list[tuple[str, str]]:
    """The entries of a link (a whole URL, or its query), in order."""
    query = text.split("?", 1)[1] if "?" in text else text  # a whole URL works too
    return parse_qsl(query, keep_blank_values=True)


def _app_url(text: str) -> str:
    if urlsplit(text).scheme not in ("http", "https") or not urlsplit(text).netloc:
        raise argparse.ArgumentTypeError(f"{text[:60]!r} is not an http:// or https:// address")
    return text


def _start(text: str) -> str:
    return text.replace(" ", "")


def parser(prog: str = "descent-lab") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description="Descent Lab from the command line.",
        epilog=f"Without a command, {prog} starts the app (streamlit run of its app.py); Streamlit "
               f"options pass through, e.g. {prog} --server.port 8502 (see streamlit run --help).")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    e = sub.add_parser(
        "export", help="write a Playground setup's runs as GIF, PNG, CSV and/or JSON",
        description="Run a Playground setup and write its animation, final picture and data.",
        epilog=f"Example: {prog} export --surface himmelblau --optimizers gd,adam "
               "--set adam.lr=0.05 --gif runs.gif --csv runs.csv",
    )
    s = e.add_argument_group("setup (as in a Playground link; later ones override earlier)")
    s.add_argument("--link", type=link_query, metavar="QUERY",
                   help='a Playground link or its query, e.g. "surface=himmelblau&optimizers=adam,nesterov"')
    s.add_argument("--surface", choices=landscapes.names(), metavar="NAME",
                   help=f"test surface: {', '.join(landscapes.names())}")
    s.add_argument("--optimizers", type=_optimizer_list, metavar="A,B,...",
                   help=f"runs in order, from: {', '.join(optimizers.names())}")
    s.add_argument("--steps", type=int, help=_spec_help(optimizers.STEPS))
    s.add_argument("--start", type=_start, metavar="X,Y", help="start point, e.g. -1.5,2")
    s.add_argument("--noise", type=float, help=_spec_help(optimizers.NOISE))
    s.add_argument("--seed", type=int, help=_spec_help(optimizers.SEED))
    s.add_argument("--batch", type=int, help=_spec_help(optimizers.BATCH))
    s.add_argument("--set", type=_pair, action="append", default=[], metavar="KEY=VALUE",
                   help="one link entry, e.g. adam.lr=0.01, gd2.lr=0.1, adam.schedule=cosine, "
                        "condition=50; repeat as needed")
    e.set_defaults(handler=export, parser=e)
    o = e.add_argument_group("outputs (at least one)")
    o.add_argument("--gif", type=Path, metavar="FILE", help="animated GIF of the runs on the map")
    o.add_argument("--png", type=Path, metavar="FILE", help="PNG of the final view")
    o.add_argument("--csv", type=Path, metavar="FILE", help="every step of every run as CSV")
    o.add_argument("--json", type=Path, metavar="FILE", help="the setup and every run as JSON")
    o.add_argument("--html", type=Path, metavar="FILE",
                   help="a lesson page: the stage as one self-contained .html file that works offline "
                        "(your own lesson: --set lesson.title=... --set lesson.question=... "
                        "--set lesson.answer=...)")
    o.add_argument("--app-url", type=_app_url, default=DEFAULT_APP_URL, metavar="URL",
                   help="the app's address, for the page's link that reopens the setup "
                        f"(default {DEFAULT_APP_URL})")
    a = e.add_argument_group("pictures (defaults: a 16:9 picture for a 1920x1080 slide)")
    for spec in (GIF_FRAMES, GIF_FPS):
        a.add_argument(f"--{spec.name}", type=_whole(int(spec.lo), int(spec.hi)), default=int(spec.default),
                       help=f"{spec.help} (default {spec.default:g})".replace("%", "%%"))
    a.add_argument("--width", type=_whole(160, 4000, "pixels"), default=SLIDE_SIZES[0][0], metavar="PX",
                   help=f"picture width in pixels (default {SLIDE_SIZES[0][0]})")
    a.add_argument("--height", type=_whole(90, 4000, "pixels"), default=None, metavar="PX",
                   help="picture height in pixels (default: 16:9 with the loss chart, else as the map needs)")
    a.add_argument("--no-loss", dest="loss", action="store_false",
                   help="the map alone, without the loss chart beside it")
    a.add_argument("--no-question", dest="question", action="store_false",
                   help="head the picture with the surface's name, not the lesson's question (when the "
                        "link has a lesson)")
    return p


def _spec_help(p) -> str:
    """A setting's help for --help, from its spec: what it is, its range and default."""
    def num(v):
        return str(int(v)) if p.integer else f"{v:g}"

    return f"{p.help} {num(p.lo)} to {num(p.hi)}, default {num(p.default)}".replace("%", "%%")


def _whole(lo: int, hi: int, unit: str = ""):
    """An argparse type: a whole number from lo to hi, with a message that names the unit."""
    suffix, of = (f" {unit}", f" of {unit}") if unit else ("", "")

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number{of}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{v} is outside {lo}..{hi}{suffix}")
        return v

    return parse


def query(args: argparse.Namespace) -> dict[str, str]:
    """The link query the arguments describe: --link, then the options, then --set."""
    q: dict[str, str] = dict(args.link or [])
    for key in ("surface", "optimizers", "steps", "start", "noise", "seed", "batch"):
        v = getattr(args, key)
        if v is not None:
            q[key] = str(v)
    q.update(args.set)
    return q


def _size(n: int) -> str:
    return f"{n} B" if n < 1000 else f"{n / 1000:.1f} kB" if n < 1_000_000 else f"{n / 1e6:.2f} MB"


def export(args: argparse.Namespace) -> int:
    if not any(getattr(args, k) for k in OUTPUTS):
        args.parser.error("nothing to write: give at least one of --gif, --png, --csv, --json, --html")
    setup, problems = from_link(query(args))
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    # imported once the arguments are checked: plotting libraries take a moment to load
    from . import compute
    from . import export as files

    runs = compute.runs(setup)
    for r in runs:
        d = int(r.trajectory.diverged_at)
        if d >= 0:
            print(f"note: {r.label} diverged at step {d}", file=sys.stderr)
    outputs: list[tuple[Path, bytes]] = []
    if args.gif or args.png:
        from viz import animation

        surface = setup.make_surface()
        look = {"width_px": args.width, "height_px": args.height, "loss": args.loss,
                "question": lesson_question(setup) if args.question else ""}
        if args.gif:
            progress = _progress_bar() if sys.stderr.isatty() else None
            outputs.append((args.gif, animation.gif_bytes(surface, runs, frames=args.frames, fps=args.fps,
                                                          progress=progress, **look)))
        if args.png:
            outputs.append((args.png, animation.png_bytes(surface, runs, **look)))
    if args.csv:
        outputs.append((args.csv, files.trajectories_csv(runs).encode()))
    if args.json:
        outputs.append((args.json, files.trajectories_json(setup, runs).encode()))
    if args.html:
        from .page import page_html

        outputs.append((args.html, page_html(setup, args.app_url).encode()))
    for path, data in outputs:
        try:
            path.write_bytes(data)
        except OSError as err:
            print(f"error: cannot write {path}: {err.strerror or err}", file=sys.stderr)
            return 1
        print(f"{path}  {_size(len(data))}")
    return 0


def _progress_bar():
    def show(fraction: float) -> None:
        n = round(30 * fraction)
        end = "\n" if fraction >= 1 else ""
        print(f"\rGIF [{'#' * n}{'.' * (30 - n)}] {fraction:4.0%}", end=end, file=sys.stderr, flush=True)

    return show


def main(argv: Sequence[str] | None = None, prog: str = "descent-lab") -> int:
    args = parser(prog).parse_args(argv)
    return args.handler(args)
