"""The figure builders, checked on their dicts (no browser)."""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from PIL import Image

import landscapes
import optimizers
import viz
from descent_lab.compute import frame_steps
from viz.stage import pack, stage_data, unpack


def views(surface, specs, steps=120):
    out = []
    for i, (name, hyper) in enumerate(specs):
        tr = optimizers.run(optimizers.get(name, **hyper), surface, steps=steps)
        out.append(viz.RunView(f"run {i}", viz.PALETTE[i], tr))
    return out


@pytest.fixture(scope="module")
def rosen():
    s = landscapes.get("rosenbrock")
    return s, viz.landscape_png(s)


DEFAULT = [("gd", {"lr": 0.001}), ("momentum", {"lr": 0.001}), ("adam", {"lr": 0.05})]


@pytest.mark.parametrize("kw", [{}, {"show_3d": False}, {"multiples": True}, {"arrows": False}])
def test_figure_is_valid_plotly_and_draws_what_it_is_asked(rosen, kw):
    s, img = rosen
    fig = viz.trajectory_figure(s, views(s, DEFAULT), img, **kw)
    go.Figure(fig)  # full validation: raises on any property Plotly does not know
    multiples, show_3d = kw.get("multiples", False), kw.get("show_3d", True) and not kw.get("multiples")
    layout = fig["layout"]
    assert ("scene" in layout) == show_3d
    assert any(t["type"] == "scatter3d" for t in fig["data"]) == show_3d
    assert ("xaxis3" in layout) == multiples  # one panel per run: three runs, three map axes
    arrows = [t["name"] for t in fig["data"] if t.get("name") in ("-gradient", "step")]
    assert arrows == (["-gradient", "step"] * 3 if kw.get("arrows", True) else [])


def test_landscape_is_a_static_image_never_in_frames(rosen):
    s, img = rosen
    fig = viz.trajectory_figure(s, views(s, DEFAULT), img)
    types = {t["type"] for t in fig["data"]}
    assert not types & {"contour", "heatmap"}  # Plotly drops these in animated figures
    assert fig["layout"]["images"][0]["source"] == img[0]
    assert fig["layout"]["images"][0]["layer"] == "below"
    animated = set(fig["frames"][0]["traces"])
    for frame in fig["frames"]:
        assert set(frame["traces"]) == animated
        assert "layout" not in frame
        assert len(frame["data"]) == len(frame["traces"])
    static = {i for i, t in enumerate(fig["data"]) if t.get("name") in ("known minima", "map")}
    static |= {i for i, t in enumerate(fig["data"]) if t["type"] == "surface"}
    assert static and not static & animated


def test_frames_follow_the_path(rosen):
    s, img = rosen
    vs = views(s, DEFAULT, steps=200)
    fig = viz.trajectory_figure(s, vs, img, frames=50, show_3d=False)
    names = [int(f["name"]) for f in fig["frames"]]
    assert names == sorted(names) and names[0] == 0 and names[-1] == 200 and len(names) <= 50
    # path so far, start/end marks, divergence note, trail, point, -gradient, step for run 0
    path_idx, ends_idx, _, _, point_idx = fig["frames"][0]["traces"][:5]
    path = vs[0].trajectory.path
    for frame in fig["frames"]:
        t = int(frame["name"])
        upd = frame["data"][frame["traces"].index(point_idx)]
        assert upd["x"][0] == path[t, 0]
        assert upd["y"][0] == path[t, 1]
        so_far = frame["data"][frame["traces"].index(path_idx)]
        np.testing.assert_array_equal(so_far["x"], np.float32(path[:t + 1, 0]))
        ends = frame["data"][frame["traces"].index(ends_idx)]
        assert (ends["x"][1] is None) == (t < 200)
    assert fig["frames"][-1]["data"][1]["x"][1] == path[-1, 0]


def test_figure_opens_at_step_zero(rosen):
    """Nothing of a run beyond step 0 is drawn before Play (the ending is not given away),
    and the slider stands at step 0."""
    s, img = rosen
    for kw in ({}, {"multiples": True, "show_3d": False}):
        vs = views(s, DEFAULT, steps=80)
        fig = viz.trajectory_figure(s, vs, img, frames=20, **kw)
        assert fig["layout"]["sliders"][0]["active"] == 0
        assert fig["layout"]["sliders"][0]["steps"][0]["label"] == "0"
        starts = {(float(np.float32(v.trajectory.path[0, 0])), float(np.float32(v.trajectory.path[0, 1])))
                  for v in vs}
        for t in fig["data"]:
            if t.get("name") in ("known minima", "map", "-gradient", "step") or t["type"] == "surface":
                continue  # static, or the arrows at the start point
            xy = zip(t.get("x") or [], t.get("y") or [], strict=True)
            pts = {(float(np.float32(x)), float(np.float32(y))) for x, y in xy if None not in (x, y)}
            assert pts <= starts, (t.get("name"), pts - starts)
        # the initial data is frame 0 exactly
        first = fig["frames"][0]
        for idx, upd in zip(first["traces"], first["data"], strict=True):
            for k in ("x", "y"):
                np.testing.assert_array_equal(np.asarray(fig["data"][idx][k], dtype=float),
                                              np.asarray(upd[k], dtype=float))


def test_arrows_point_downhill_and_along_the_step(rosen):
    s, img = rosen
    vs = views(s, [("momentum", {"lr": 0.001})], steps=60)
    fig = viz.trajectory_figure(s, vs, img, frames=61, show_3d=False)
    tr = vs[0].trajectory
    frame = next(f for f in fig["frames"] if f["name"] == "30")
    *_, grad_arrow, step_arrow = frame["data"]
    d = np.array([grad_arrow["x"][1] - grad_arrow["x"][0], grad_arrow["y"][1] - grad_arrow["y"][0]])
    g = tr.grad[30]
    assert np.dot(d, -g) > 0.999 * np.linalg.norm(d) * np.linalg.norm(g)
    m = np.array([step_arrow["x"][1] - step_arrow["x"][0], step_arrow["y"][1] - step_arrow["y"][0]])
    move = tr.path[31] - tr.path[30]
    assert np.dot(m, move) > 0.999 * np.linalg.norm(m) * np.linalg.norm(move)


def test_multiples_has_one_panel_per_run(rosen):
    s, img = rosen
    vs = views(s, DEFAULT)
    fig = viz.trajectory_figure(s, vs, img, multiples=True)
    assert len(fig["layout"]["images"]) == 3
    assert {fig["layout"]["images"][i]["xref"] for i in range(3)} == {"x", "x2", "x3"}
    paths = [t for t in fig["data"] if t.get("name", "").startswith("run ")]
    assert [t["xaxis"] for t in paths] == ["x", "x2", "x3"]
    assert "scene" not in fig["layout"]
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["run 0", "run 1", "run 2"]


def test_diverged_run_is_marked(rosen):
    s, img = rosen
    vs = views(s, [("gd", {"lr": 0.05}), ("adam", {"lr": 0.01})])
    d = int(vs[0].trajectory.diverged_at)
    assert d > 0
    fig = viz.trajectory_figure(s, vs, img)
    ends = [t for t in fig["data"] if "text" in t and isinstance(t["text"], list) and len(t["text"]) == 2]
    assert ends[0]["text"][1] == f"diverged at step {d}"
    assert ends[0]["marker"]["symbol"][1] == "x"
    assert ends[1]["text"][1] == "end (step 120)"
    (note,) = [t for t in fig["data"] if t.get("mode") == "text" and t["text"] == [f"diverged at step {d}"]]
    go.Figure(fig)
    # the note and the end mark appear in the last frame only, the note inside the axes
    note_idx, ends_idx = (next(i for i, t in enumerate(fig["data"]) if t is u) for u in (note, ends[0]))
    (x0, x1), (y0, y1) = s.domain
    for frame in fig["frames"]:
        upd = frame["data"][frame["traces"].index(note_idx)]
        if frame is fig["frames"][-1]:
            assert x0 <= upd["x"][0] <= x1 and y0 <= upd["y"][0] <= y1
        else:
            assert upd["x"] == [None]
    ghost = fig["frames"][-1]["data"][fig["frames"][-1]["traces"].index(next(
        i for i, t in enumerate(fig["data"]) if t.get("name") == "run 0"))]
    assert np.all(np.isfinite(np.asarray(ghost["x"], dtype=float)))
    assert fig["frames"][-1]["data"][fig["frames"][-1]["traces"].index(ends_idx)]["x"][1] is not None


def test_default_payload_is_small(rosen):
    s, img = rosen
    fig = viz.fast_figure(viz.trajectory_figure(s, views(s, DEFAULT, steps=300), img))
    size = len(pio.to_json(fig.to_dict(), validate=False))
    assert size < 1_000_000, size


def test_fast_figure_encodes_arrays_losslessly_in_float32(rosen):
    s, img = rosen
    vs = views(s, DEFAULT[:1])
    raw = viz.trajectory_figure(s, vs, img, show_3d=False)
    enc = viz.fast_figure(raw).to_dict()
    i = next(k for k, t in enumerate(raw["data"]) if t.get("name") == "run 0")
    last = len(raw["frames"]) - 1
    j = raw["frames"][last]["traces"].index(i)
    spec = enc["frames"][last]["data"][j]["x"]
    assert spec["dtype"] == "f4"
    decoded = np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<f4")
    np.testing.assert_array_equal(decoded, np.asarray(raw["frames"][last]["data"][j]["x"], dtype=np.float32))
    np.testing.assert_allclose(decoded, vs[0].trajectory.path[:, 0], rtol=1e-6)
    go.Figure(enc)  # Plotly accepts the typed-array form


def test_frame_steps():
    assert list(frame_steps(10, 60)) == list(range(11))
    t = frame_steps(1000, 60)
    assert t[0] == 0 and t[-1] == 1000 and len(t) <= 60
    assert set(np.diff(t)) == {20}  # round steps: 0 20 40 ..., not 0 17 34 51
    t = frame_steps(137, 40)
    assert len(t) <= 40 and set(np.diff(t[:-1])) == {5} and t[-1] == 137  # the last step is always shown
    assert list(frame_steps(0, 60)) == [0]


@pytest.mark.parametrize("name", landscapes.names())
def test_landscape_png_matches_domain(name):
    s = landscapes.get(name)
    uri, lo, hi = viz.landscape_png(s, width_px=300)
    assert uri.startswith("data:image/png;base64,") and lo < hi
    pic = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    (x0, x1), (y0, y1) = s.domain
    assert pic.width == 300
    assert abs(pic.height / pic.width - (y1 - y0) / (x1 - x0)) < 0.02
    rgb = np.asarray(pic.convert("RGB")).reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) > 10  # a picture, not a blank


def test_log_transform_is_monotone_and_finite():
    s = landscapes.get("rosenbrock")
    _, _, z = viz.landscape_grid(s, 50)
    show, title = viz.display_transform(s, z)
    v = show(np.array([0.0, 1e-3, 1.0, 10.0, 1e4]))
    assert np.all(np.isfinite(v)) and np.all(np.diff(v) > 0)
    assert "log10" in title
    lin, title = viz.display_transform(landscapes.get("booth"), z)
    assert title == "J(x, y)" and lin(3.0) == 3.0


def test_rate_figure(rosen):
    s, _ = rosen
    vs = views(s, [("adagrad", {"lr": 0.1}), ("rmsprop", {"lr": 0.01})], steps=200)
    rates = viz.rate_figure(vs)
    go.Figure(rates)
    assert len(rates["data"]) == 4  # x and y for each run
    adagrad_x = np.asarray(rates["data"][0]["y"])
    assert np.all(np.diff(adagrad_x) <= 0) and adagrad_x[-1] < adagrad_x[0]


def test_values_beyond_float32_are_sent_as_float64():
    s = landscapes.get("goldstein_price")
    vs = views(s, [("gd", {"lr": 0.001})], steps=20)  # blows up on the walls: |f| > 3.4e38
    assert np.nanmax(vs[0].trajectory.loss) > np.finfo(np.float32).max
    loss = vs[0].trajectory.loss
    enc = viz.fast_figure({"data": [{"type": "scatter", "y": loss}], "layout": {}}).to_dict()
    spec = enc["data"][0]["y"]
    assert spec["dtype"] == "f8"
    np.testing.assert_array_equal(np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<f8"), loss)


def test_colour_bar_shows_the_toned_landscape_colours(rosen):
    """The picture is toned to ALPHA over white; the colour bar shows the colours as they appear
    (Plotly's Viridis stops, toned), and the picture has no colour darker than the toned map's."""
    from viz.landscape import ALPHA, STOPS, colors

    s, img = rosen
    fig = viz.trajectory_figure(s, views(s, DEFAULT), img)
    bar = next(t for t in fig["data"] if t.get("marker", {}).get("showscale"))
    scale = bar["marker"]["colorscale"]
    assert len(scale) == len(STOPS)
    for (t, rgb), stop in zip(scale, STOPS, strict=True):
        got = np.array([int(v) for v in rgb[4:-1].split(",")])
        assert np.allclose(got, 255 * (ALPHA * colors(t) + 1 - ALPHA), atol=0.51)
        assert np.allclose(colors(t), stop)
    pic = np.asarray(Image.open(io.BytesIO(base64.b64decode(img[0].split(",", 1)[1]))).convert("RGB"))
    darkest = pic.reshape(-1, 3).sum(1).min()
    assert darkest >= 255 * (ALPHA * STOPS[0] + 1 - ALPHA).sum() - 6


def test_landscape_picture_is_dark_in_the_valley_and_light_on_the_walls():
    """Rosenbrock's valley floor y = x^2 is darker than the wall 1.5 above it, at every x: the
    bands are not shuffled or flipped, and the picture's top row is the domain's top."""
    s = landscapes.get("rosenbrock")
    uri, _, _ = viz.landscape_png(s)
    pic = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"), float)
    (x0, x1), (y0, y1) = s.domain
    h, w = pic.shape[:2]

    def light(x, y):  # median brightness of a 5 x 5 patch (the thin contour lines left out)
        i, j = round((y1 - y) / (y1 - y0) * (h - 1)), round((x - x0) / (x1 - x0) * (w - 1))
        return float(np.median(pic[i - 2:i + 3, j - 2:j + 3].sum(2)))

    for x in (-1.0, -0.5, 0.0, 0.5):
        assert light(x, x * x) + 30 < light(x, x * x + 1.5), x


def test_each_optimizer_keeps_its_colour_and_repeats_get_their_own():
    from descent_lab.runlist import PALETTE, run_colors
    own = {n: optimizers.rule(n).color for n in optimizers.names()}
    assert run_colors(["adam", "gd"]) == [own["adam"], own["gd"]]  # not by slot
    assert run_colors(["gd"])[0] == run_colors(["momentum", "gd"])[1]
    three = run_colors(["gd", "gd", "gd"])
    assert three[0] == own["gd"] and len(set(three)) == 3 and set(three) <= set(PALETTE)
    forms = run_colors(["momentum", "momentum_ewma", "nesterov", "nesterov_lookahead", "adam", "adamw"])
    assert len(set(forms)) == 6  # another form of an optimizer in the same view is told apart
    assert all(c in PALETTE for c in own.values())


def test_a_run_that_keeps_its_optimizer_keeps_its_colour():
    from descent_lab.runlist import PALETTE, run_colors
    own = {n: optimizers.rule(n).color for n in optimizers.names()}
    names = ["gd", "momentum", "adam"]
    first = run_colors(names)
    last = list(zip(names, first, strict=True))
    switched = run_colors(["adam", "momentum", "adam"], last)  # run 1 GD -> Adam
    assert switched[1:] == first[1:]  # runs 2 and 3 keep theirs: run 3 keeps Adam's colour
    assert switched[0] not in first[1:] and switched[0] in PALETTE
    assert switched != run_colors(["adam", "momentum", "adam"])  # a fresh load gives Adam's colour to run 1
    # the switched run takes its optimizer's colour when no run holds it
    assert run_colors(["nesterov", "momentum", "adam"], last)[0] == own["nesterov"]
    was = list(zip(["adam", "momentum", "adam"], switched, strict=True))
    back = run_colors(["gd", "momentum", "adam"], was)
    assert back == first
    # a new run (None) gets a free colour; a removed run frees its colour
    assert run_colors(["gd", "momentum", "adam", "gd"], [*last, None])[:3] == first
    assert run_colors(["gd", "adam"], [last[0], last[2]]) == [first[0], first[2]]


# --- the Playground's stage: lr families and the data sent to the browser ---------------------------

def stage_setup(**kw):
    from descent_lab.setup import Setup, run_spec

    runs = (run_spec("gd", lr=0.001), run_spec("momentum", lr=0.002, beta=0.8), run_spec("adam", lr=0.1))
    return Setup(runs=runs, **kw)


def families_and_views(setup, lrs=(1e-4, 1e-3, 1e-2, 1e-1)):
    from descent_lab import compute
    from descent_lab.families import lr_family, row

    fams = [lr_family(setup, spec, lrs) for spec in setup.runs]
    own = {spec.key(): row(f.trajectory, f.index) for spec, f in zip(setup.runs, fams, strict=True)}
    return fams, compute.runs(setup, run=lambda s, spec: own[spec.key()])


@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "nadam"])
@pytest.mark.parametrize("extra", [{}, {"noise": 0.3, "seed": 7}], ids=["exact", "noisy"])
def test_lr_family_rows_are_the_single_runs(name, extra):
    """Row r of the family is, bit for bit, the run made on its own with lr = lrs[r] (the spec's
    own lr added to the grid); its optimizer describes that run."""
    from descent_lab.families import lr_family, row
    from descent_lab.setup import Setup, run_spec

    setup = Setup(surface="himmelblau", start=(0.5, -1.0), steps=60, runs=(), **extra)
    spec = run_spec(name, lr=0.003)
    fam = lr_family(setup, spec, [1e-3, 1e-2, 0.1, 1.0])
    assert fam.lrs == (1e-3, 0.003, 1e-2, 0.1, 1.0) and fam.index == 1
    for r, lr in enumerate(fam.lrs):
        single = optimizers.run(optimizers.get(name, **{**spec.hyper, "lr": lr}), setup.make_surface(),
                                start=setup.start_point(), steps=60, noise=setup.noise, seed=setup.seed)
        got = row(fam.trajectory, r)
        for field in ("path", "loss", "grad", "effective_lr"):
            np.testing.assert_array_equal(getattr(got, field), getattr(single, field), err_msg=field)
        assert got.diverged_at == single.diverged_at
        assert got.optimizer.describe() == single.optimizer.describe()


def test_family_thinning_keeps_every_step_of_the_run_itself(rosen):
    from viz.stage import FAMILY_POINTS, kept_steps, stride

    assert stride(500, [22, 22, 22]) == 1  # the default: every step
    k = stride(2000, [22] * 6)
    assert k > 1 and (2000 // k + 2) * 22 * 6 <= FAMILY_POINTS * 1.01
    kept = kept_steps(2000, k)
    assert kept[0] == 0 and kept[-1] == 2000 and np.all(np.diff(kept) <= k)
    s, img = rosen
    setup = stage_setup(steps=2000)
    fams, views_ = families_and_views(setup, lrs=tuple(np.geomspace(1e-5, 1, 30)))
    data = stage_data(s, views_, fams, img)
    assert data["stride"] == stride(2000, [len(f.lrs) for f in fams]) > 1
    assert data["kept"] == len(kept_steps(2000, data["stride"]))
    for run in data["runs"]:
        assert run["path"].size == 2 * 2001  # the run itself: every step
        assert run["fam_path"].size == 2 * len(run["lrs"]) * data["kept"]


def test_stage_data_decodes_to_the_runs(rosen):
    """What the browser decodes: each run's exact path, f - f* and gradient in float32, its family's
    row at its own lr equal to it, labels for every lr, and the default payload small."""
    s, img = rosen
    setup = stage_setup()
    fams, views_ = families_and_views(setup)
    sent = stage_data(s, views_, fams, img)
    payload = pack(sent)
    assert len(payload) < 1.5e6
    data = unpack(payload)  # what the browser reads: the same header, the same arrays
    assert data.keys() == sent.keys() and data["version"] == sent["version"]
    S, K = data["steps"], data["kept"]
    assert data["stride"] == 1 and K == S + 1
    for run, v, fam in zip(data["runs"], views_, fams, strict=True):
        tr = v.trajectory
        assert run["path"].dtype == np.dtype("<f4")
        path = run["path"].reshape(2, S + 1)
        np.testing.assert_allclose(path.T, tr.path, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(run["grad"].reshape(2, S).T, tr.grad, rtol=1e-6)
        gap = run["gap"]
        np.testing.assert_allclose(gap, np.maximum(tr.loss - s.global_min, 1e-16), rtol=1e-6)
        famp = run["fam_path"].reshape(len(run["lrs"]), 2, K)
        np.testing.assert_array_equal(famp[run["index"]], path)
        assert run["labels"][run["index"]] == v.label
        assert run["lrs"] == list(fam.lrs) and run["diverged"][run["index"]] == tr.diverged_at
        assert [lab.split(" (")[0] for lab in run["labels"]] == [v.label.split(" (")[0]] * len(run["lrs"])
    assert "grid3d" not in data and "z" not in data["runs"][0]
    with3d = stage_data(s, views_, fams, img, show3d=True)
    assert with3d["grid3d"]["n"] ** 2 == with3d["grid3d"]["z"].size
    assert with3d["runs"][0]["z"].size == S + 1
    assert with3d["version"] != data["version"]
    assert stage_data(s, views_, fams, img)["version"] == data["version"]


def test_one_f32_for_figures_and_stages():
    """viz.style.f32: float32 where every value fits (half the bytes), float64 where one would
    overflow (a diverging run): the stage receives the numbers unclipped, as Plotly's figures do."""
    from viz.style import f32

    small = np.array([[1.5, np.nan], [-2.0, np.inf]])
    assert f32(small).dtype == np.dtype("<f4") and f32(small).shape == (2, 2)
    wide = np.array([1e300, -1e300, np.nan, 1.5])
    got = unpack(pack({"a": f32(wide)}))["a"]
    assert got.dtype == np.dtype("<f8")
    np.testing.assert_array_equal(got, wide)


def test_stage_pack_round_trip():
    """The stage's binary payload: arrays of either float width come back equal, at 8-byte aligned
    places (the browser views them as typed arrays), inside any nesting; text and numbers as JSON;
    anything else is refused rather than sent as something else."""
    import struct

    from viz.style import f32

    rng = np.random.default_rng(3)
    odd = f32(rng.normal(size=7))  # 28 bytes: the next array must start padded
    wide = rng.normal(size=5)  # float64
    data = {"runs": [{"path": odd, "label": "1. Adam (η=0.1) β₁", "lrs": [0.1, 0.2]}, {"path": f32([])}],
            "grid3d": {"z": wide}, "n": 3, "flag": True, "none": None}
    payload = pack(data)
    (n,) = struct.unpack_from("<I", payload)
    start = 4 + n + (-(4 + n) % 8)
    assert start % 8 == 0 and len(payload) == start + 32 + 0 + 40
    got = unpack(payload)
    np.testing.assert_array_equal(got["runs"][0]["path"], odd)
    assert got["runs"][0]["path"].dtype == np.dtype("<f4") and got["grid3d"]["z"].dtype == np.dtype("<f8")
    np.testing.assert_array_equal(got["grid3d"]["z"], wide)
    assert got["runs"][1]["path"].size == 0
    assert {k: v for k, v in got["runs"][0].items() if k != "path"} == {"label": "1. Adam (η=0.1) β₁",
                                                                         "lrs": [0.1, 0.2]}
    assert (got["n"], got["flag"], got["none"]) == (3, True, None)
    for bad in (np.arange(3), np.zeros(2, ">f4"), {1, 2}):
        with pytest.raises(TypeError):
            pack({"x": bad})


def test_stage_version_follows_every_number(rosen):
    """The browser redraws only when ``version`` changes: a change in any array changes it."""
    from viz.stage import digest

    s, img = rosen
    fams, views_ = families_and_views(stage_setup())
    data = stage_data(s, views_, fams, img)
    body = {k: v for k, v in data.items() if k not in ("version", "map_version")}
    assert digest(body) == data["version"]
    nudged = data["runs"][1]["fam_path"].copy()
    nudged[-1] = np.nextafter(nudged[-1], np.float32(np.inf))
    runs = [*body["runs"][:1], {**body["runs"][1], "fam_path": nudged}, *body["runs"][2:]]
    assert digest({**body, "runs": runs}) != data["version"]


def surface_under(z: np.ndarray, domain, x, y) -> np.ndarray:
    """The highest a 3-D surface of nodes ``z`` [y, x] can be drawn at points (x, y): each cell is two
    triangles, split along either diagonal (Plotly picks one), and the higher of the two counts."""
    (x0, x1), (y0, y1) = domain
    n = z.shape[0]
    fx, fy = (x - x0) / (x1 - x0) * (n - 1), (y - y0) / (y1 - y0) * (n - 1)
    i, j = np.clip(fx.astype(int), 0, n - 2), np.clip(fy.astype(int), 0, n - 2)
    a, b = fx - i, fy - j
    z00, z10, z01, z11 = z[j, i], z[j, i + 1], z[j + 1, i], z[j + 1, i + 1]
    main = np.where(a >= b, z00 + a * (z10 - z00) + b * (z11 - z10), z00 + b * (z01 - z00) + a * (z11 - z01))
    anti = np.where(a + b <= 1, z00 + a * (z10 - z00) + b * (z01 - z00),
                    z11 + (1 - a) * (z01 - z11) + (1 - b) * (z10 - z11))
    return np.maximum(main, anti)


def test_3d_surface_lies_under_the_paths_and_its_valley_floor_is_smooth(rosen):
    """Rosenbrock in 3-D: every point of every run (as sent, with its lift) is above the surface however
    Plotly splits its cells (a plain 60 x 60 grid hid 65 % of momentum's path under it), and along the
    valley floor y = x^2 the surface rises and falls at most 2.5 times as much as f does, split either
    way (a plain grid: 11 times as much, a saw-tooth), and it is nowhere 0.1 (in log10) above the floor."""
    from viz.landscape import display_transform, landscape_floor

    s, img = rosen
    fams, views_ = families_and_views(stage_setup())
    data = stage_data(s, views_, fams, img, show3d=True)
    g = data["grid3d"]
    z = g["z"].astype(float).reshape(g["n"], g["n"])
    for run, v in zip(data["runs"], views_, strict=True):
        x, y = v.trajectory.path.T
        drawn = run["z"].astype(float) + g["lift"]
        under = surface_under(z, s.domain, x, y)
        assert (under <= drawn).mean() == 1.0, (v.label, (under > drawn).mean())
    xs = np.linspace(-1.4, 1.7, 400)
    floor = surface_under(z, s.domain, xs, xs**2)
    shown = display_transform(s, landscape_floor(s, g["n"]))[0]  # the surface's transform, as stage_data's
    want = shown(s.f(np.stack([xs, xs**2], -1)))
    rough = np.abs(np.diff(floor)).sum() / np.abs(np.diff(want)).sum()
    assert rough < 2.5, rough
    assert np.max(floor - want) < 0.1, np.max(floor - want)
    # no row of beads up the steep right branch (y from 1 to 2.9, x > 0): the groove's depth, as the sum of
    # each row's three deepest nodes, changes along the branch by little more than its net change
    # (each node's lowest f over its own cell: 3.6 times, the floor dropping through one node, then two)
    ys = np.linspace(*s.domain[1], g["n"])
    groove = np.sort(z[(ys > 1) & (ys < 2.9), g["n"] // 2:], axis=1)[:, :3].sum(1)
    wobble = np.abs(np.diff(groove)).sum() / abs(groove[-1] - groove[0])
    assert wobble < 1.3, wobble
