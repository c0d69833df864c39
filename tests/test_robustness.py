"""Bad input everywhere: hostile Playground links, extreme widget values, and a production server
that shows no tracebacks.

A hostile link must give a page without an exception, a warning that names what was ignored,
a working map, and a clean address (the link is rewritten from what was used). Links are set
on ``at.query_params`` before the first run, as a browser's address would be.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import VIEWPORT, ok, streamlit_server
from streamlit.testing.v1 import AppTest

import optimizers
from descent_lab.setup import MAX_PARAMS, MAX_TEXT, RunSpec, prefixes
from optimizers import schedules

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


def open_link(query: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(query)
    return ok(at)


def link_warning(at: AppTest) -> str:
    """The link warning's text as shown (the page escapes the link's text for Markdown)."""
    texts = [re.sub(r"\\(.)", r"\1", w.value) for w in at.warning if "could not be used" in w.value]
    assert len(texts) == 1, [w.value for w in at.warning]
    return texts[0]


def query_now(at: AppTest) -> dict[str, str]:
    """The address the page wrote back, as single values."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def assert_usable(at: AppTest) -> None:
    """The page works: the stage (map and loss chart), three or more run cards, and a widget change
    re-runs without an exception."""
    assert not at.exception
    assert len(at.get("bidi_component")) == 1
    ids = at.session_state["run_ids"]
    assert 1 <= len(ids) <= 6
    assert all(at.selectbox(key=f"r{i}.opt").value in optimizers.names() for i in ids)
    steps = at.select_slider(key="steps")
    assert optimizers.STEPS.lo <= steps.value <= optimizers.STEPS.hi
    steps.set_value(11 if steps.value != 11 else 12)
    ok(at)
    assert query_now(at)["steps"] == str(at.select_slider(key="steps").value)
    assert len(at.get("bidi_component")) == 1


LONG = "9" * 5000
HOSTILE = {
    "unknown names": (
        {"surface": "nope", "optimizers": "gd,evil,adam", "colour": "red", "gd.warp": "9"},
        ["surface='nope' (unknown", "optimizer 'evil' (unknown)", "unknown parameters: colour, gd.warp"],
    ),
    "text where numbers belong": (
        {"steps": "many", "seed": "abc", "noise": "0.1.2", "start": "left,up", "optimizers": "adam",
         "adam.lr": "fast", "adam.beta1": "0x10", "show3d": "maybe", "speed": "warp"},
        ["steps='many' (not a number)", "seed='abc'", "noise='0.1.2'", "start='left,up'", "adam.lr='fast'",
         "adam.beta1='0x10'", "show3d='maybe'", "speed='warp'"],
    ),
    "NaN and infinity": (
        {"steps": "nan", "noise": "inf", "seed": "-inf", "start": "nan,1", "optimizers": "gd",
         "gd.lr": "NaN", "gd.schedule": "cosine", "gd.t_max": "Infinity"},
        ["steps=nan (not a finite number)", "noise=inf", "seed=-inf", "start=nan,1 (not finite)",
         "gd.lr=NaN", "gd.t_max=Infinity"],
    ),
    "huge sizes": (
        {"steps": "1e308", "seed": "99999999999999999999999", "start": "1e300,-1e300",
         "optimizers": "gd,adam", "gd.lr": "1e300", "adam.eps": "1e-400", "adam.beta2": "2"},
        [f"steps=1e308 (outside 0..{optimizers.STEPS.hi}; used {optimizers.STEPS.hi})",
         "seed=99999999999999999999999 (outside",
         "start=1e300,-1e300 (outside the map", "gd.lr=1e300 (outside", "adam.beta2=2 (outside"],
    ),
    "huge surface parameters": (
        {"surface": "elongated_bowl", "condition": "1e300", "steps": "-5", "batch": "1000000"},
        ["condition=1e300 (outside", f"steps=-5 (outside 0..{optimizers.STEPS.hi}; used 0)",
         "batch=1000000 (outside"],
    ),
    "500 parameters": (
        {f"p{i:03d}": str(i) for i in range(500)},
        [f"{500 - MAX_PARAMS} parameters beyond the first {MAX_PARAMS}", "unknown parameters: p000, p001",
         f"and {MAX_PARAMS - 8} more"],
    ),
    "very long values": (
        {"surface": "rosenbrock" * 1000, "steps": LONG, "optimizers": "gd," * 3000, "x" * 5000: "1"},
        [f"surface (value longer than {MAX_TEXT} characters)", "steps (value longer",
         "optimizers (value longer", "unknown parameters: " + "x" * 40],
    ),
    "a formula that calls __import__": (
        {"surface": "custom", "f": "__import__('os').system('touch /tmp/descent-lab-pwned')"},
        ["f=\"__import__('os').system('touch /tmp/descent-lab-pwned')\""],
    ),
    "a formula that digs for classes": (
        {"surface": "custom", "f": "().__class__.__bases__[0].__subclasses__()", "domain": "0,1"},
        ["f='().__class__.__bases__[0].__subclasses__()'"],
    ),
    "a formula with a bad domain": (
        {"surface": "custom", "f": "x^2 + y^2", "domain": "nan,inf,1e308,-1e308"},
        ["domain=nan,inf,1e308,-1e308"],
    ),
    "unicode": (
        {"surface": "rösenbröck 🙂", "optimizers": "adám,адам,gd", "steps": "½", "gd.lr": "٠٫١",
         "‮evil": "1"},
        ["surface='rösenbröck 🙂' (unknown", "optimizer 'adám' (unknown)", "optimizer 'адам' (unknown)",
         "steps='½' (not a number)", "gd.lr='٠٫١'", "unknown parameters: ‮evil"],
    ),
    "empty values": (
        {"surface": "", "steps": "", "start": "", "optimizers": "", "": "", "show3d": ""},
        ["surface='' (unknown", "steps='' (not a number)", "start=''", "no known optimizer in the list",
         "show3d=''"],
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_link(case):
    query, named = HOSTILE[case]
    at = open_link(query)
    text = link_warning(at)
    for part in named:
        assert part in text, (part, text)
    assert len(text) < 2500  # bounded, even for 500 parameters or 5000-character values
    assert_usable(at)
    # the address is rewritten from what was used: nothing hostile survives in it
    clean = query_now(at)
    # the allowed keys come from the setup's own vocabulary, never from the output checked: each run's
    # keys are its prefix (descent_lab.setup.prefixes) and a setting of its optimizer or schedule, or form
    runs = [RunSpec(n) for n in clean["optimizers"].split(",")]
    common = (*schedules.PARAMS, "schedule", "form")
    settings = {r.name: (*(p.name for p in optimizers.rule(r.name).params), *common) for r in runs}
    per_run = {f"{pre}.{k}" for pre, r in zip(prefixes(runs), runs, strict=True) for k in settings[r.name]}
    assert set(clean) <= {"surface", "steps", "start", "optimizers", "noise", "seed", "batch", "condition",
                          "f", "domain", "multiples", "show3d", "arrows", "speed"} | per_run
    assert all(len(v) <= MAX_TEXT for v in clean.values())
    assert clean["surface"] in ("rosenbrock", "elongated_bowl", "custom")


def test_formula_links_run_nothing(tmp_path):
    """Formulas are parsed, never evaluated as Python: no file appears, the default surface is used."""
    target = tmp_path / "pwned"
    for f in (f"__import__('os').system('touch {target}')", f"open('{target}', 'w')",
              f"eval(\"open('{target}','w')\")", "x.__class__", "lambda: 0", "[x for x in ()]"):
        at = open_link({"surface": "custom", "f": f})
        assert "f=" in link_warning(at) and "showing Rosenbrock instead" in link_warning(at)
        assert at.selectbox(key="surface").value == "rosenbrock"
        (warning,) = [w for w in at.warning if "could not be used" in w.value]
        assert warning.icon == ":material/link:"  # Streamlit's own icon font: no emoji font needed offline
        assert not target.exists()


def test_a_good_link_gives_no_warning():
    """The control for the cases above: a clean link is used as is, silently."""
    at = open_link({"surface": "himmelblau", "steps": "123", "optimizers": "adam,gd", "adam.lr": "0.05",
                    "start": "1,-2"})
    assert not [w for w in at.warning if "could not be used" in w.value]
    assert at.selectbox(key="surface").value == "himmelblau"
    assert at.select_slider(key="steps").value == 123
    assert at.session_state["r0.lr"] == 0.05
    assert_usable(at)


def test_extreme_widget_values():
    """Every run at its largest learning rate on the longest runs with the most noise: all diverge,
    each reported in words, no exception; then the smallest values."""
    at = open_link({})
    for _ in range(3):
        at.button(key="add_run").click()
        ok(at)
    ids = at.session_state["run_ids"]
    assert len(ids) == 6
    for i, name in zip(ids, ["gd", "momentum", "nesterov", "rmsprop", "adagrad", "adam"], strict=True):
        at.selectbox(key=f"r{i}.opt").set_value(name)
    ok(at)
    names = {i: at.selectbox(key=f"r{i}.opt").value for i in ids}
    for i in ids:
        at.session_state[f"r{i}.lr"] = optimizers.rule(names[i]).lr.grid[-1]  # the stage's slider
    at.select_slider(key="steps").set_value(2000)
    at.select_slider(key="noise").set_value(10.0)
    ok(at)
    diverged = [e.value for e in at.error if "diverged at step" in e.value]
    assert len(diverged) >= 3, [e.value for e in at.error]
    at.number_input(key="seed").set_value(2**31 - 1)
    at.number_input(key="start.rosenbrock.x").set_value(at.number_input(key="start.rosenbrock.x").max)
    at.number_input(key="start.rosenbrock.y").set_value(at.number_input(key="start.rosenbrock.y").min)
    ok(at)
    assert at.get("button_group")[0].options == ["Step sizes", "Results", "Code", "Export"]
    # each panel, chosen, draws what it holds below the stage: a chart, the table of the six runs,
    # one PyTorch listing per run
    for panel, charts, tables, listings in (("Step sizes", 1, 0, 0), ("Results", 0, 1, 0),
                                             ("Code", 0, 0, 6), ("Export", 0, 0, 0)):
        at.get("button_group")[0].set_value(panel)
        ok(at)
        assert at.get("button_group")[0].value == panel
        assert len(at.get("plotly_chart")) == charts, panel
        assert len(at.dataframe) == tables and all(len(t.value) == 6 for t in at.dataframe), panel
        assert sum("torch.optim." in c.value for c in at.code) == listings, panel
    for i in ids:
        at.session_state[f"r{i}.lr"] = optimizers.rule(names[i]).lr.grid[0]
    at.select_slider(key="steps").set_value(10)
    at.select_slider(key="noise").set_value(0.0)
    ok(at)
    assert not [e for e in at.error if "diverged at step" in e.value]
    assert len(at.get("bidi_component")) == 1  # the stage


def test_extreme_formula_and_domain_widgets():
    """A formula that overflows, one with a pole and one NaN on part of the map, on the widest
    domain the boxes allow: each either draws or is refused in words, never an exception."""
    at = open_link({"surface": "custom", "f": "x^2 + y^2"})
    for k, v in (("x0", -1e6), ("x1", 1e6), ("y0", -1e6), ("y1", 1e6)):
        at.number_input(key=f"surface.custom.{k}").set_value(v)
    ok(at)
    for f in ("exp(x*y)", "1/(x*y)", "log(x) + y^2", "sqrt(x) + sqrt(y)", "x^12 + y^12", "cosh(x) + cosh(y)"):
        at.text_input(key="surface.custom.f").set_value(f)
        ok(at)
        refused = any("can't be used" in e.value for e in at.error)
        shown = at.text_input(key="surface.custom.f").value == f
        assert shown and (refused or query_now(at)["f"] == f), (f, [e.value for e in at.error])
        assert len(at.get("bidi_component")) == 1
    # the narrowest domain: x min == x max is refused, the last good surface stays on the map
    at.text_input(key="surface.custom.f").set_value("x^2 + y^2")
    at.number_input(key="surface.custom.x0").set_value(1e6)
    ok(at)
    assert any("can't be used" in e.value for e in at.error)
    assert len(at.get("bidi_component")) == 1


# --- production config: no tracebacks in the page ----------------------------------------------------

SECRET = "s3cret-token-42"
FAILING_APP = f"""\
import streamlit as st

st.title("before the failure")
db_password = "{SECRET}"
raise RuntimeError("cannot connect with " + db_password)
"""


def dockerfile_client_env() -> dict[str, str]:
    """The Dockerfile CMD's --client.* flags as Streamlit environment variables
    (--client.showErrorDetails=none -> STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none)."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    (cmd,) = [json.loads(line[4:]) for line in text.splitlines() if line.startswith("CMD ")]
    env = {}
    for flag in cmd:
        m = re.fullmatch(r"--(client)\.(\w+)=(.*)", flag)
        if m:
            snake = re.sub(r"(?<!^)([A-Z])", r"_\1", m[2]).upper()
            env[f"STREAMLIT_{m[1].upper()}_{snake}"] = m[3]
    return env


def page_text_after_failure(browser, url: str) -> tuple[str, str]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("[data-testid='stException']", timeout=30_000)
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        return (page.locator("[data-testid='stException']").inner_text(),
                page.locator("[data-testid='stApp']").inner_text())
    finally:
        context.close()


@pytest.mark.browser
def test_production_config_hides_tracebacks(browser, tmp_path, monkeypatch):
    env = dockerfile_client_env()
    assert env.get("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS") == "none"
    (tmp_path / "failing.py").write_text(FAILING_APP)
    leaks = ("Traceback", SECRET, "RuntimeError", str(tmp_path), "failing.py", 'File "', "line 5")

    # the control: Streamlit's default shows all of it, so the checks below can see a leak
    with streamlit_server("failing.py", cwd=tmp_path) as url:
        box, _ = page_text_after_failure(browser, url)
    assert SECRET in box and "RuntimeError" in box and "failing.py" in box

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with streamlit_server("failing.py", cwd=tmp_path) as url:
        box, whole = page_text_after_failure(browser, url)
    assert "before the failure" in whole  # the page itself is shown
    assert box.strip(), "no error message at all"
    assert re.search(r"error", box, re.IGNORECASE), box  # a generic error is shown
    for leak in leaks:
        assert leak not in whole, (leak, whole)


def test_a_link_opens_its_panel_and_the_address_keeps_the_one_chosen():
    at = open_link({"optimizers": "gd,adam", "panel": "results", "steps": "50"})
    assert at.get("button_group")[0].value == "Results" and len(at.dataframe) == 1
    assert query_now(at)["panel"] == "results"
    at.get("button_group")[0].set_value("Code")
    ok(at)
    assert query_now(at)["panel"] == "code" and sum("torch.optim." in c.value for c in at.code) == 2
