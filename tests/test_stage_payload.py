"""The stage's one payload (viz.stage.stage_payload): what the app, the exported page and the
notebook widget send. Its fields are those written down in viz.stage.FIELDS / RUN_FIELDS, with the
layouts said there, and the browser (viz/stage.js unpack, in Chromium) reads every one of them as
Python does."""

from __future__ import annotations

import numpy as np
import pytest

import optimizers
import viz
from descent_lab.families import row
from descent_lab.setup import Setup, run_spec
from viz.explain import explain_data
from viz.stage import FIELDS, RUN_FIELDS, stage_payload, stage_runs, unpack

SETUP = Setup(runs=(run_spec("gd", lr=0.001), run_spec("momentum", lr=0.001), run_spec("adam", lr=0.05)),
              steps=40)


def payload(setup: Setup = SETUP, **kw) -> bytes:
    surface = setup.make_surface()
    families, views = stage_runs(setup)
    return stage_payload(setup, surface, families, views, viz.landscape_png(surface), **kw)


def required(fields: dict) -> set[str]:
    return {k for k, v in fields.items() if not v.startswith("optional")}


@pytest.mark.parametrize("kw", [{}, {"standalone": True}, {"present": True}])
def test_every_field_is_written_down(kw):
    data = unpack(payload(**kw))
    assert required(FIELDS) <= set(data) <= set(FIELDS)
    for run in data["runs"]:
        assert required(RUN_FIELDS) <= set(run) <= set(RUN_FIELDS)
    assert data["present"] is bool(kw.get("present"))


def test_a_standalone_payload_carries_what_a_page_toggles_and_every_lr():
    """No host behind it: the 3-D grid and explain numbers are there with both off, and each lr of
    each family is step-exact: its loss, gradient and explain numbers equal that lr's own run."""
    data = unpack(payload(standalone=True))
    assert not data["show3d"] and not data["explain"] and data["every_lr"] and data["stride"] == 1
    assert data["grid3d"]["z"].size == data["grid3d"]["n"] ** 2
    families, _ = stage_runs(SETUP)
    S = SETUP.steps
    for run, fam in zip(data["runs"], families, strict=True):
        R, C = len(fam.lrs), run["explain"]["columns"]
        fam_path = run["fam_path"].reshape(R, 2, S + 1)
        fam_loss, fam_grad = run["fam_loss"].reshape(R, S + 1), run["fam_grad"].reshape(R, 2, S)
        fam_xp = run["fam_xp"].reshape(R, C, 2, S)
        for j in (0, fam.index, R - 1):
            tr = row(fam.trajectory, j)
            np.testing.assert_array_equal(fam_path[j], tr.path.T.astype("<f4"))
            np.testing.assert_array_equal(fam_loss[j], tr.loss.astype("<f4"))
            np.testing.assert_array_equal(fam_grad[j], tr.grad.T.astype("<f4"))
            xp = explain_data(tr)
            np.testing.assert_array_equal(fam_xp[j], xp["values"].reshape(C, 2, S).astype("<f4"))
            assert run["fam_code"][j] == xp["forms"]["torch"]["code"]
            assert f"lr={fam.lrs[j]:g}" in run["fam_code"][j].replace(" ", "")
        # the run's own lr: its exact float64 numbers, the same as its row's float32 ones
        own = run["explain"]["values"].reshape(C, 2, S)
        np.testing.assert_array_equal(fam_xp[fam.index], own.astype("<f4"))


@pytest.mark.parametrize("name", optimizers.names())
def test_explain_forms_differ_between_lrs_only_in_their_code(name):
    """A page sends each run's formulas once and only the code per lr (fam_code): right only while the
    rest of explain mode's text does not depend on the lr."""
    setup = Setup(runs=(run_spec(name),), steps=5)
    (fam,), _ = stage_runs(setup)
    forms = [explain_data(row(fam.trajectory, j))["forms"] for j in (0, len(fam.lrs) - 1)]
    for f in forms:
        f["torch"].pop("code")
    assert forms[0] == forms[1]


def test_too_many_points_for_every_lr_says_why_on_a_page():
    setup = Setup(runs=SETUP.runs, steps=2000)
    data = unpack(payload(setup, standalone=True))
    assert data["stride"] > 1 and not data["every_lr"]
    assert f"every {data['stride']}th step" in data["every_lr_note"]
    assert not any("fam_xp" in r or "fam_grad" in r for r in data["runs"])
    assert "every_lr_note" not in unpack(payload(setup))


def plain(obj):
    """``obj`` with its NumPy arrays as (dtype, list): what the browser's decoding is compared with."""
    if isinstance(obj, np.ndarray):
        return [obj.dtype.str, obj.tolist()]
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [plain(v) for v in obj]
    return obj


TO_PLAIN = """() => {
  const dtype = (a) => a instanceof Float32Array ? "<f4" : a instanceof Float64Array ? "<f8" : "?";
  const plain = (v) => ArrayBuffer.isView(v) ? [dtype(v), Array.from(v)]
    : Array.isArray(v) ? v.map(plain)
    : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v;
  return plain(window.__stage.unpack(window.__bytes));
}"""


def assert_same(got, want, where="payload"):
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), (where, sorted(set(got) ^ set(want)))
        for k in want:
            assert_same(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list) and len(want) == 2 and want[0] in ("<f4", "<f8"):
        assert got[0] == want[0], where
        np.testing.assert_array_equal(np.array(got[1], float), np.array(want[1], float), err_msg=where)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for n, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{n}]")
    elif isinstance(want, float) and np.isnan(want):
        assert np.isnan(got), where
    else:
        assert got == want, (where, got, want)


@pytest.mark.browser
def test_chromium_reads_every_field_as_python_does(page):
    """The payload with every optional field (a page's: 3-D, explain, every lr) decoded by the
    stage's own unpack in Chromium equals Python's unpack, field by field, array by array."""
    from conftest import mount_stage

    setup = Setup(surface="rosenbrock", runs=(run_spec("gd", lr=0.001), run_spec("adam", lr=0.05)), steps=12)
    sent = payload(setup, standalone=True)
    mount_stage(page, sent)
    page.wait_for_selector(".stage[data-drawn]")
    want = plain(unpack(sent))
    assert {"grid3d", "every_lr"} <= set(want) and {"fam_xp", "explain", "fam_z"} <= set(want["runs"][1])
    assert_same(page.evaluate(TO_PLAIN), want)


SHARED_JS = {  # the file every stage gets it from -> what it defines
    "PAYLOAD_JS": ("function unpack(", "function loadPlotly(", "const TYPED", "const el ="),
    "PLAYBACK_JS": ("function keys(", "function setStep(", "function toggle(", "function playFrom(",
                    "function pause(", "const SPEEDS", "const stepsPerSecond", "function takeFocus("),
}


@pytest.mark.parametrize("shared", SHARED_JS)
def test_one_unpack_one_plotly_loader_and_one_playback_for_every_stage(shared):
    """viz/payload.js holds the reader of pack's bytes and the plotly.js loader, viz/playback.js the
    playback (keys, steps, Play and its pace); the stages' modules (the Playground's, the Networks
    page's) hold no copy and get them from module_text, as the exported page does."""
    import viz.stage
    from descent_lab.page import page_html
    from viz.net_stage import NET_STAGE_JS
    from viz.stage import STAGE_JS, module_text

    for name in SHARED_JS[shared]:
        assert getattr(viz.stage, shared).read_text().count(name) == 1, name
        for js in (STAGE_JS, NET_STAGE_JS):
            assert name not in js.read_text(), (js.name, name)
            assert module_text(js).count(name) == 1
        assert page_html(SETUP).count(name) == 1
