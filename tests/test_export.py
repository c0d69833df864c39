"""Downloads: the GIF and PNG (viz.animation), CSV and JSON (descent_lab.export), the command line."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops

import viz
from descent_lab import compute
from descent_lab.cli import main
from descent_lab.compute import gif_steps
from descent_lab.export import trajectories_csv, trajectories_json
from descent_lab.presets import from_link, with_lesson
from descent_lab.setup import from_query, to_query
from viz.animation import gif_bytes, png_bytes

ROOT = Path(__file__).resolve().parent.parent
WIDTH = 240  # small pictures keep the tests fast


def setup_of(query: dict):
    setup, problems = from_query(query)
    assert not problems, problems
    return setup


@pytest.fixture(scope="module")
def plain():
    setup = setup_of({"surface": "rosenbrock", "optimizers": "gd,momentum,adam", "steps": "80",
                      "gd.lr": "0.001", "momentum.lr": "0.001", "adam.lr": "0.1"})
    return setup, compute.runs(setup)


@pytest.fixture(scope="module")
def diverging():
    """Two gradient-descent runs on Himmelblau, the second far too fast: it diverges."""
    setup = setup_of({"surface": "himmelblau", "optimizers": "gd,gd,adam", "steps": "40",
                      "gd.lr": "0.01", "gd2.lr": "0.2", "adam.schedule": "cosine", "adam.t_max": "30"})
    runs = compute.runs(setup)
    assert int(runs[1].trajectory.diverged_at) > 0 and int(runs[0].trajectory.diverged_at) == -1
    return setup, runs


def frames_of(data: bytes) -> list[Image.Image]:
    im = Image.open(io.BytesIO(data))
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append(im.convert("RGB"))
    return out


def test_runs_are_labelled_and_coloured_as_on_the_page(plain):
    setup, runs = plain
    assert [r.color for r in runs] == list(viz.PALETTE[:3])
    assert runs[2].label.startswith("3. Adam (η=0.1")
    assert [r.trajectory.optimizer.name for r in runs] == ["gd", "momentum", "adam"]
    assert all(r.trajectory.steps == setup.steps for r in runs)


def test_gif_decodes_loops_and_moves(plain):
    setup, runs = plain
    seen = []
    data = gif_bytes(setup.make_surface(), runs, frames=12, fps=10, width_px=WIDTH, progress=seen.append)
    im = Image.open(io.BytesIO(data))
    assert im.format == "GIF"
    assert im.info["loop"] == 0  # loops forever
    assert im.size == (WIDTH, round(WIDTH * 9 / 16))  # with the loss chart: 16:9, for a slide
    # every frame shows a different step number, so Pillow merges none of them
    assert im.n_frames == len(gif_steps(setup.steps, 12)) == 12  # 80 steps: the 12 frames asked for
    assert im.info["duration"] == 100
    frames = frames_of(data)
    assert len(frames[0].getcolors(maxcolors=256 * 256)) > 16
    for a, b in itertools.pairwise(frames):
        assert ImageChops.difference(a, b).getbbox() is not None  # something moves every frame
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 9  # progress once per frame


def test_gif_has_fewer_frames_for_short_runs():
    setup = setup_of({"surface": "booth", "optimizers": "adam", "steps": "10"})
    data = gif_bytes(setup.make_surface(), compute.runs(setup), frames=60, width_px=200)
    assert Image.open(io.BytesIO(data)).n_frames == 11


def test_gif_frames_are_those_asked_for_evenly_spread_and_its_colour_bar_starts_at_0():
    assert list(gif_steps(150, 60)) == sorted(set(gif_steps(150, 60))) and len(gif_steps(150, 60)) == 60
    assert gif_steps(150, 60)[-1] == 150 and list(gif_steps(4, 60)) == [0, 1, 2, 3, 4]
    assert np.ptp(np.diff(gif_steps(150, 60))) <= 1  # evenly spread (to the step)
    setup, problems = from_link(with_lesson({"lesson": "ravine"}))
    assert not problems and setup.steps == 150
    data = gif_bytes(setup.make_surface(), compute.runs(setup), frames=60, width_px=320)
    assert Image.open(io.BytesIO(data)).n_frames == 60  # the ravine lesson's 150 steps: 60 frames, not 31
    import matplotlib.pyplot as plt

    from viz.animation import draw_landscape

    fig, ax = plt.subplots()
    try:
        filled, lo, _, _ = draw_landscape(ax, setup.make_surface())
        assert lo == 0 and filled.extend == "neither"  # a 0 label at its foot, no arrows beyond its ends
        bar = fig.colorbar(filled)
        assert 0 in bar.get_ticks()
    finally:
        plt.close(fig)


def test_gif_keeps_run_colours_exact(plain):
    setup, runs = plain
    last = frames_of(gif_bytes(setup.make_surface(), runs, frames=3, width_px=WIDTH))[-1]
    colours = {c for _, c in last.getcolors(maxcolors=256 * 256)}
    for r in runs:
        assert tuple(int(r.color[i:i + 2], 16) for i in (1, 3, 5)) in colours


def rgb_of(color: str) -> np.ndarray:
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])


def colour_pixels(im: Image.Image, color: str, box) -> int:
    """Pixels of ``im`` in ``box`` (left, top, right, bottom as fractions) that are exactly ``color``."""
    a = np.asarray(im.convert("RGB"))
    h, w = a.shape[:2]
    left, top, right, bottom = box
    part = a[round(top * h):round(bottom * h), round(left * w):round(right * w)]
    return int(np.all(part == rgb_of(color), axis=-1).sum())


def ink(im: Image.Image, box) -> int:
    """Dark (text) pixels in ``box`` (fractions, as colour_pixels)."""
    a = np.asarray(im.convert("L"))
    h, w = a.shape
    left, top, right, bottom = box
    return int((a[round(top * h):round(bottom * h), round(left * w):round(right * w)] < 90).sum())


CHART = (0.72, 0.2, 0.97, 0.8)  # inside the loss chart, right of the map and its colour bar
HEADING = (0.02, 0.0, 0.98, 0.075)  # the heading's first line, above the map and the chart


def test_default_gif_is_a_slide_of_sensible_size():
    """The default export (the default Playground setup, 500 steps): 1280 x 720, 60 frames evenly spread,
    a tenth of a second each, the last held 3 s; a few hundred kB (the README's figures)."""
    setup = setup_of({})
    data = gif_bytes(setup.make_surface(), compute.runs(setup))
    im = Image.open(io.BytesIO(data))
    assert im.size == (1280, 720) and im.n_frames == len(gif_steps(500, 60)) == 60
    durations = []
    for i in range(im.n_frames):
        im.seek(i)
        durations.append(im.info["duration"])
    assert durations == [100] * 59 + [3000]
    assert 100e3 < len(data) < 400e3, len(data)
    readme = " ".join((ROOT / "README.md").read_text().split())
    said = re.search(r"that is (\d+) frames, ([\d.]+) s a loop and (\d+) kB", readme)
    assert said is not None, "the README's figures for the default GIF"
    assert int(said[1]) == im.n_frames and float(said[2]) == sum(durations) / 1000
    assert abs(int(said[3]) - len(data) / 1e3) < 0.1 * len(data) / 1e3, (said[3], len(data))


def test_loss_chart_grows_beside_the_map(plain):
    setup, runs = plain
    surface = setup.make_surface()
    frames = frames_of(gif_bytes(surface, runs, frames=5, width_px=480))
    first, last = frames[0], frames[-1]
    for r in runs:  # each run's curve is drawn in the chart, and grows from the first frame to the last
        assert colour_pixels(last, r.color, CHART) > 3 * colour_pixels(first, r.color, CHART) + 20, r.label
    alone = frames_of(gif_bytes(surface, runs, frames=5, width_px=480, loss=False))[-1]
    assert alone.size[1] > alone.size[0] * 0.5
    assert all(colour_pixels(alone, r.color, CHART) == 0 for r in runs)  # no chart: nothing there
    assert all(colour_pixels(alone, r.color, (0, 0, 1, 1)) > 0 for r in runs)  # the map still shows the runs


def test_question_heads_the_picture(plain):
    setup, runs = plain
    surface = setup.make_surface()
    question = ("Which of the three gets down the curved valley of the Rosenbrock function first, and "
                "why does the one with the largest step not win?")
    asked = Image.open(io.BytesIO(png_bytes(surface, runs, width_px=640, question=question)))
    titled = Image.open(io.BytesIO(png_bytes(surface, runs, width_px=640)))
    assert asked.size == titled.size == (640, 360)
    # a line of the question against the surface's one-word name
    assert ink(asked, HEADING) > 4 * ink(titled, HEADING) > 0


@pytest.mark.parametrize(("size", "fps", "ms"),
                         [((1920, 1080), 4, 250), ((400, 400), 15, 70), ((960, 540), 20, 50)])
def test_size_and_pace_are_the_exporters(plain, size, fps, ms):
    setup, runs = plain
    im = Image.open(io.BytesIO(gif_bytes(setup.make_surface(), runs, frames=3, fps=fps, width_px=size[0],
                                         height_px=size[1])))
    assert im.size == size and im.info["duration"] == ms


def test_png_is_the_final_view(plain):
    setup, runs = plain
    im = Image.open(io.BytesIO(png_bytes(setup.make_surface(), runs, width_px=WIDTH)))
    assert im.format == "PNG" and im.size[0] == WIDTH
    assert len(im.convert("RGB").getcolors(maxcolors=256 * 256)) > 16


def test_diverged_runs_draw_and_are_named(diverging):
    setup, runs = diverging
    from viz.animation import run_label

    d = int(runs[1].trajectory.diverged_at)
    assert run_label(runs[1]) == f"{runs[1].label}, diverged at step {d}"
    assert run_label(runs[0]) == runs[0].label
    data = gif_bytes(setup.make_surface(), runs, frames=8, width_px=WIDTH)  # RuntimeWarnings are errors
    assert Image.open(io.BytesIO(data)).n_frames == len(gif_steps(setup.steps, 8))
    Image.open(io.BytesIO(png_bytes(setup.make_surface(), runs, width_px=WIDTH))).load()


def _same(cell: str, value: float) -> bool:
    return cell == "" if not math.isfinite(value) else float(cell) == value


def test_csv_rows_equal_the_trajectories(diverging):
    setup, runs = diverging
    rows = list(csv.DictReader(io.StringIO(trajectories_csv(runs))))
    assert len(rows) == (setup.steps + 1) * len(runs)
    assert list(rows[0])[:6] == ["step", "run", "optimizer", "x", "y", "loss"]
    assert {"lr", "beta1", "schedule", "t_max", "eta_min"} <= set(rows[0])
    for k, r in enumerate(runs):
        tr = r.trajectory
        mine = rows[k * (setup.steps + 1):(k + 1) * (setup.steps + 1)]
        assert {row["run"] for row in mine} == {["gd", "gd2", "adam"][k]}
        assert [int(row["step"]) for row in mine] == list(range(setup.steps + 1))
        for row, (x, y), loss in zip(mine, tr.path, tr.loss, strict=True):
            assert float(row["x"]) == x and float(row["y"]) == y and _same(row["loss"], loss)
            assert float(row["lr"]) == tr.optimizer.hyper["lr"]
    gd2 = [row for row in rows if row["run"] == "gd2"]
    d = int(runs[1].trajectory.diverged_at)
    assert all(row["loss"] == "" for row in gd2[d:]) and gd2[d - 1]["loss"] != ""
    adam = [row for row in rows if row["run"] == "adam"]
    assert adam[0]["schedule"] == "cosine" and adam[0]["t_max"] == "30" and gd2[0]["t_max"] == ""
    assert gd2[0]["beta1"] == ""


def test_json_round_trips_with_nan_as_null(diverging):
    setup, runs = diverging
    text = trajectories_json(setup, runs)
    doc = json.loads(text)
    assert text == trajectories_json(setup, runs)  # deterministic
    assert list(doc) == ["format", "version", "setup", "surface", "runs"]
    assert doc["setup"] == to_query(setup)
    again, problems = from_query(doc["setup"])
    assert again == setup and not problems
    for r, out in zip(runs, doc["runs"], strict=True):
        tr = r.trajectory
        assert list(out) == ["run", "label", "optimizer", "settings", "schedule", "diverged_at",
                             "sensitive_from", "steps", "step", "x", "y", "loss"]
        assert out["sensitive_from"] == tr.sensitive_from
        assert out["label"] == r.label and out["optimizer"] == tr.optimizer.name
        assert out["settings"] == tr.optimizer.hyper
        assert out["step"] == list(range(tr.steps + 1))
        assert np.array_equal(out["x"], tr.path[:, 0]) and np.array_equal(out["y"], tr.path[:, 1])
        loss = np.array([np.nan if v is None else v for v in out["loss"]])
        assert np.array_equal(loss, tr.loss, equal_nan=True)
        d = int(tr.diverged_at)
        assert out["diverged_at"] == (d if d >= 0 else None)
    assert doc["runs"][1]["loss"][-1] is None and doc["runs"][1]["diverged_at"] > 0
    assert doc["runs"][2]["schedule"] == {"kind": "cosine", "t_max": 30, "eta_min": 0.0}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "descent_lab", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_cli_writes_all_four_files(tmp_path):
    files = {ext: tmp_path / f"out.{ext}" for ext in ("gif", "png", "csv", "json")}
    done = cli("export", "--surface", "rosenbrock", "--optimizers", "gd,adam", "--steps", "30",
               "--set", "adam.lr=0.05", "--frames", "5", "--width", "200",
               *(a for ext, p in files.items() for a in (f"--{ext}", str(p))))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    for line, path in zip(lines, files.values(), strict=True):
        assert line.startswith(str(path)) and path.stat().st_size > 0
    assert Image.open(files["gif"]).n_frames == len(gif_steps(30, 5)) == 5  # steps 0 8 15 22 30
    assert Image.open(files["png"]).size[0] == 200
    rows = list(csv.DictReader(files["csv"].open()))
    assert len(rows) == 2 * 31 and rows[-1]["run"] == "adam" and rows[-1]["lr"] == "0.05"
    doc = json.loads(files["json"].read_text())
    assert doc["setup"]["optimizers"] == "gd,adam" and doc["setup"]["steps"] == "30"


def test_cli_picture_flags(tmp_path):
    """--width/--height set the size, --fps the pace, --no-loss drops the chart, a lesson in the link heads
    the picture with its question unless --no-question."""
    lesson = tmp_path / "lesson.png"
    plain_png, bare, gif = tmp_path / "plain.png", tmp_path / "bare.png", tmp_path / "out.gif"
    link = "lesson=learning-rate"
    done = cli("export", "--link", link, "--width", "640", "--png", str(lesson))
    assert done.returncode == 0, done.stderr
    done = cli("export", "--link", link, "--width", "640", "--no-question", "--png", str(plain_png))
    assert done.returncode == 0, done.stderr
    done = cli("export", "--link", link, "--width", "640", "--no-loss", "--png", str(bare),
               "--gif", str(gif), "--fps", "4", "--frames", "5", "--height", "400")
    assert done.returncode == 0, done.stderr
    asked, titled, alone = (Image.open(p) for p in (lesson, plain_png, bare))
    assert asked.size == titled.size == (640, 360) and alone.size == (640, 400)
    assert ink(asked, HEADING) > 4 * ink(titled, HEADING) > 0  # the question, not the surface's name
    colors = viz.run_colors(["gd", "gd", "gd"])
    assert all(colour_pixels(asked, c, CHART) > 0 for c in colors[:2])
    assert all(colour_pixels(alone, c, CHART) == 0 for c in colors)
    anim = Image.open(gif)
    assert anim.size == (640, 400) and anim.n_frames == len(gif_steps(60, 5)) == 5
    assert anim.info["duration"] == 250


def test_cli_link_then_set(tmp_path):
    out = tmp_path / "runs.json"
    done = cli("export", "--link", "http://localhost:8501/?surface=himmelblau&optimizers=adam,nesterov&steps=20",
               "--set", "nesterov.lr=abc", "--set", "adam.lr=0.02", "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert "warning" in done.stderr and "nesterov.lr='abc' (not a number)" in done.stderr
    doc = json.loads(out.read_text())
    assert doc["setup"]["surface"] == "himmelblau" and doc["setup"]["steps"] == "20"
    assert [r["settings"]["lr"] for r in doc["runs"]] == [0.02, 0.001]  # the bad value left at its default


def test_cli_bad_argument_exits_2_with_a_helpful_message():
    done = cli("export", "--surface", "nosuch", "--csv", "x.csv")
    assert done.returncode == 2 and done.stdout == ""
    assert "usage:" in done.stderr and "invalid choice: 'nosuch' (choose from 'rosenbrock'" in done.stderr
    assert not (ROOT / "x.csv").exists()


@pytest.mark.parametrize(("args", "says"), [
    (["export", "--optimizers", "gd,sgdx", "--csv", "x.csv"], "unknown optimizer 'sgdx'; choose from gd"),
    (["export", "--steps", "many", "--csv", "x.csv"], "invalid int value: 'many'"),
    (["export", "--set", "adam.lr", "--csv", "x.csv"], "not KEY=VALUE"),
    (["export", "--width", "20", "--gif", "x.gif"], "outside 160..4000 pixels"),
    (["export", "--surface", "booth"], "nothing to write"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "required: COMMAND"),
])
def test_cli_rejects_unusable_arguments(args, says, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "usage:" in err


def test_slide_heading_is_the_lessons_question():
    """The heading a slide gets: the lecturer's own lesson if the link has one, else the lesson's."""
    from descent_lab.presets import PRESETS, from_link, lesson_question

    saddle = PRESETS["saddle"]
    assert lesson_question(saddle.setup()) == f"{saddle.title}: {saddle.question}"
    own, problems = from_link({"lesson": "saddle", "lesson.title": "Mine", "lesson.question": "Which wins?"})
    assert not problems and lesson_question(own) == "Mine: Which wins?"
    assert lesson_question(from_link({"lesson.question": "Only a question?"})[0]) == "Only a question?"
    assert lesson_question(setup_of({})) == ""
