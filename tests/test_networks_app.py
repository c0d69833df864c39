"""The Networks page under Streamlit's AppTest: the default view, links in and out, hostile links,
the planes and the panels. Small networks and few steps (links), so each run takes about a second."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ok, open_page
from streamlit.testing.v1 import AppTest

from descent_lab import networks as dn
from viz.stage import unpack

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "app_pages" / "networks.py")
SMALL = {"data": "xor", "n": "100", "noise": "0.1", "hidden": "6", "steps": "40",
         "optimizers": "gd,adam", "gd.lr": "0.5", "adam.lr": "0.05"}


def page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params.update(query or {})
    return ok(at)


def stage(at: AppTest) -> dict:
    """The data the Networks stage (app_pages/net_stage.py) was sent on the last run."""
    (element,) = at.get("bidi_component")
    assert element.key == "net.stage"
    return unpack(element.proto.bytes)


def link(at: AppTest) -> dict:
    return {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}


def test_default_view():
    at = page()
    assert not at.warning and not at.error
    assert at.selectbox(key="net.data").value == "moons"
    assert [at.selectbox(key=f"net.r{i}.opt").value for i in range(3)] == ["gd", "momentum", "adam"]
    assert not at.get("plotly_chart")  # the figure is the stage's, not a Plotly chart
    data = stage(at)
    assert data["plane"]["title"].startswith("PCA of the paths") and data["steps"] == 300
    assert [r["label"] for r in data["runs"]] == ["1. GD (η=0.5)", "2. Momentum (η=0.1, β=0.9)",
                                                  "3. Adam (η=0.01)"]
    assert dn.from_query(link(at)) == (dn.NetSetup(), [])  # the address bar holds the default setup


def test_a_link_sets_the_widgets_and_is_written_back():
    query = {**SMALL, "plane": "through", "ends": "2,1", "panel": "interpolation"}
    at = page(query)
    assert not at.warning
    assert at.selectbox(key="net.data").value == "xor" and at.radio(key="net.layers").value == 1
    assert at.select_slider(key="net.width0").value == 6 and at.select_slider(key="net.steps").value == 40
    assert at.select_slider(key="net.r1.lr").value == 0.05
    assert at.multiselect(key="net.ends").value == [2, 1]
    assert len(at.get("plotly_chart")) == 1  # the interpolation (the stage is no Plotly chart)
    assert stage(at)["plane"]["title"].startswith("The plane through the start")
    setup, problems = dn.from_query(link(at))
    assert problems == [] and setup == dn.from_query(query)[0]


def test_changing_a_widget_changes_the_link():
    at = page(SMALL)
    at.select_slider(key="net.r0.lr").set_value(0.2)
    at.radio(key="net.act").set_value("relu")
    ok(at)
    q = link(at)
    assert q["gd.lr"] == "0.2" and q["act"] == "relu"
    at.segmented_control(key="net.plane").set_value("random")
    ok(at)
    assert link(at)["plane"] == "random" and link(at)["around"] == "1"
    data = stage(at)
    assert data["plane"]["title"].startswith("Two random filter")
    assert "Random directions are not where the paths lie" in data["notes"][0]


@pytest.mark.parametrize("query", [
    {**SMALL, "hidden": "64,64,64", "batch": "9999", "act": "<b>x</b>", "evil": "1"},
    {**SMALL, "optimizers": "adam", "plane": "through", "ends": "1,7", "steps": "1e9x", "n": "-3"},
    {**SMALL, "data": "x" * 400, "noise": "inf", "around": "0", "plane": "random", "show3d": "maybe"},
])
def test_hostile_links_give_a_message_and_a_working_page(query):
    at = page(query)
    assert at.warning and "could not be used" in at.warning[0].value
    assert stage(at)["steps"] > 0
    assert dn.from_query(link(at))[1] == []  # the link written back is clean


def test_three_layers_of_64_are_refused_in_words():
    at = page(SMALL)
    at.radio(key="net.layers").set_value(3)
    ok(at)
    for i in range(3):
        at.select_slider(key=f"net.width{i}").set_value(64)
    ok(at)
    assert any("577 weights" in e.value for e in at.error)
    assert link(at)["hidden"] == "16,16" and stage(at)["hidden"] == [16, 16]


@pytest.mark.parametrize("panel", ["1-D interpolation", "Sharpness", "Export"])
def test_panels(panel):
    at = page(SMALL)
    at.segmented_control(key="net.panel").set_value(panel)
    ok(at)
    q = link(at)
    assert dn.PANELS[q["panel"]] == panel
    if panel == "Sharpness":
        assert len(at.get("plotly_chart")) == 1 and len(at.dataframe) == 1
        assert at.dataframe[0].value["2 / lr (GD)"].iloc[0] == pytest.approx(4.0)
    elif panel == "Export":
        assert "?data=xor" in at.code[0].value
        at.button(key="net.make_gif").click()
        ok(at)
        assert at.get("download_button")


def test_three_d():
    at = page(SMALL)
    at.toggle(key="net.show3d").set_value(True)
    ok(at)
    assert link(at)["show3d"] == "1"
    data = stage(at)  # the stage draws the surface (no Plotly chart of the page's)
    assert not at.get("plotly_chart") and data["surface"]["n"] == dn.GRID and data["plotly_version"]
    assert "surface" not in stage(page(SMALL))


def test_the_page_is_in_the_app_navigation():
    at = open_page("app_pages/networks.py")  # through app.py's st.navigation
    assert at.selectbox(key="net.data").value == "moons" and len(at.get("bidi_component")) == 1


# --- a blank plane (data=none): the sidebar says what is trained -----------------------------------

EIGHT = "QBaaSBZSQ1V-UBaaQBU2wAtouAuwvMyE"  # 8 drawn points: 5 of class 1, 3 of class 0
TWO = "QBaaSBZS"  # 2 drawn points, both of class 1


def trained(at: AppTest) -> tuple[int, bool]:
    """Points the stage's runs trained on (train + test) and its "over the data set" box."""
    data = stage(at)
    return len(data["train"]["y"]) + len(data["test"]["y"]), data["over"]


def test_a_blank_plane_link_shows_none_and_greys_the_data_sets_settings():
    at = page({**SMALL, "data": "none", "points": EIGHT})
    box = at.selectbox(key="net.data")
    assert box.value == "none" and box.format_func("none") == "None: your points only" in box.options
    assert at.select_slider(key="net.noise").disabled and at.select_slider(key="net.n").disabled
    assert any("apply to the data sets" in c.value and "8 points" in c.value for c in at.sidebar.caption)
    assert not at.warning and trained(at) == (8, False)
    assert link(at)["data"] == "none" and link(at)["points"] == EIGHT


def test_picking_a_data_set_on_a_blank_plane_trains_on_it_with_the_points_over_it():
    at = page({**SMALL, "data": "none", "points": EIGHT})
    at.selectbox(key="net.data").set_value("circles")
    ok(at)
    assert link(at)["data"] == "circles" and link(at)["points"] == EIGHT
    n, over = trained(at)
    assert over and n == 100 + dn.test_points(100, 0.2) + 8
    assert not at.select_slider(key="net.noise").disabled
    setup, problems = dn.from_query(link(at))  # the link round-trips
    assert problems == [] and setup.data == "circles" and setup.points == EIGHT


def test_picking_none_with_too_few_points_says_so_and_keeps_the_data_set():
    at = page({**SMALL, "points": TWO})
    at.selectbox(key="net.data").set_value("none")
    ok(at)
    assert at.selectbox(key="net.data").value == "xor"
    (warning,) = at.sidebar.warning
    assert "Not a blank plane" in warning.value and "2 drawn points of one class" in warning.value
    assert "The data set stays XOR" in warning.value
    assert link(at)["data"] == "xor" and link(at)["points"] == TWO and trained(at)[1]


def test_picking_none_with_enough_points_makes_the_plane_blank_and_back():
    at = page({**SMALL, "points": EIGHT})
    at.selectbox(key="net.data").set_value("none")
    ok(at)
    assert not at.warning and link(at)["data"] == "none" and link(at)["points"] == EIGHT
    assert trained(at) == (8, False) and at.select_slider(key="net.noise").disabled
    assert dn.from_query(link(at)) == (dn.from_query({**SMALL, "data": "none", "points": EIGHT})[0], [])
    at.selectbox(key="net.data").set_value("xor")
    ok(at)
    assert link(at)["data"] == "xor" and link(at)["points"] == EIGHT and trained(at)[1]
