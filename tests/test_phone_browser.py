"""Issue 21's phone items in Chromium, at 1920x1080, 1366x768 and a 390x844 phone: Learn 1's three
maps, the lesson picker's sidebar, Explore's sweep map, and the Learn pages' Playground links (Back in
one press, to the same place; a new tab opens the Playground too)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
SIZES = {"hall": (1920, 1080), "laptop": (1366, 768), "phone": (390, 844)}
MAIN = "document.querySelector('[data-testid=stMain]')"


@pytest.fixture(params=list(SIZES))
def sized(request, browser):
    """A page at one of the three sizes (the phone as a touch device) and its size's name."""
    w, h = SIZES[request.param]
    phone = request.param == "phone"
    context = browser.new_context(viewport={"width": w, "height": h}, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield page, request.param
    context.close()


def visit(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(IDLE)
    page.wait_for_timeout(1500)  # charts draw after the script run


def drawn(page, charts: str) -> None:
    """Wait until a chart under the selector ``charts`` is displayed and drawn."""
    page.wait_for_function("""(sel) => [...document.querySelectorAll(sel)].some(c =>
      c.offsetParent !== null && c.querySelector('.js-plotly-plot .nsewdrag'))""", arg=charts)


def plot_areas(page, chart: str) -> list[dict]:
    """The plot areas (Plotly's drag layers) of the charts under ``chart`` that are displayed."""
    return page.evaluate("""(sel) => [...document.querySelectorAll(sel + ' .js-plotly-plot')]
      .filter(g => g.offsetParent !== null)
      .flatMap(g => [...g.querySelectorAll('.nsewdrag')].map(d => {
        const r = d.getBoundingClientRect(); return {w: r.width, h: r.height, x: r.x};
      }))""", chart)


def test_learn_1_three_maps(sized, app_url):
    """Three maps side by side on a wide screen; one under another on a phone, each at least 200 px
    (side by side they were ~65 px high there)."""
    page, size = sized
    visit(page, app_url + "/learn_1_gradient_descent")
    drawn(page, ".st-key-three_wide, .st-key-three_tall")
    wide, tall = plot_areas(page, ".st-key-three_wide"), plot_areas(page, ".st-key-three_tall")
    shown = tall if size == "phone" else wide
    assert len(shown) == 3 and not (wide if size == "phone" else tall), (wide, tall)
    assert all(p["w"] >= 200 and p["h"] >= 200 for p in shown), shown
    xs = {round(p["x"]) for p in shown}
    assert len(xs) == (1 if size == "phone" else 3)  # stacked on a phone, side by side elsewhere


def test_choosing_a_lesson_closes_the_sidebar_on_a_phone(sized, app_url):
    page, size = sized
    visit(page, app_url)
    sidebar = page.locator("[data-testid=stSidebar]")
    if size == "phone":
        page.click("[data-testid=stExpandSidebarButton]")
        page.wait_for_timeout(800)
    assert sidebar.bounding_box()["x"] >= 0 and sidebar.bounding_box()["width"] > 200  # open
    sidebar.locator("[data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name="Saddle points").click()
    page.wait_for_selector(".st-key-lesson_box")
    page.wait_for_selector(IDLE)
    page.wait_for_timeout(1000)
    box = sidebar.bounding_box()
    closed = box is None or box["x"] + box["width"] <= 0 or box["width"] == 0
    assert closed == (size == "phone"), (size, box)
    lesson = page.locator(".st-key-lesson_box").bounding_box()
    assert lesson["x"] >= 0 and lesson["width"] > 300  # the lesson is in view, not under the sidebar


def test_explore_sweep_map(sized, app_url):
    """The 40x40 sweep map: most of a phone's width (it was ~150 px beside its colour bar), no toolbar
    over its title; the wide layout elsewhere."""
    page, size = sized
    visit(page, app_url + "/explore")
    drawn(page, ".st-key-wide_chart, .st-key-phone_chart")
    phone = plot_areas(page, ".st-key-phone_chart")
    wide = plot_areas(page, ".st-key-wide_chart")
    if size == "phone":
        assert len(phone) == 1 and not wide
        assert phone[0]["w"] >= 240, phone  # of 358 px
        assert page.locator(".st-key-phone_chart .modebar").count() == 0
    else:
        assert len(wide) == 1 and not phone and wide[0]["w"] >= 500, wide


def test_playground_link_back_in_one_press_to_the_same_place(sized, app_url):
    page, size = sized
    visit(page, app_url + "/learn_1_gradient_descent")
    link = page.get_by_role("link", name="Open in the Playground").nth(1)  # the local-minima map's
    href = link.evaluate("a => a.href")
    assert href.startswith(app_url + "/?") and "lesson=local-minima" in href  # a real link to the Playground
    link.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    place = page.evaluate(f"{MAIN}.scrollTop")
    assert place > 500
    before = page.evaluate("history.length")
    link.click()
    page.wait_for_selector(".st-key-lesson_box")
    page.wait_for_selector(IDLE)
    assert "Local minima" in page.locator(".st-key-lesson_box").inner_text()
    assert page.evaluate("history.length") == before + 1  # one entry: one press of Back
    page.go_back()
    page.wait_for_selector(IDLE)
    page.wait_for_function(f"(p) => Math.abs({MAIN}.scrollTop - p) < 3", arg=place)
    assert page.url == app_url + "/learn_1_gradient_descent"
    if size == "laptop":  # the same link in a new tab: a new session opens the Playground with the lesson
        tab = page.context.new_page()
        visit(tab, href)
        assert "Local minima" in tab.locator(".st-key-lesson_box").inner_text()


TOOLBARS = """() => [...document.querySelectorAll('.js-plotly-plot')].filter(g => g.offsetParent !== null)
  .map(g => { const bar = g.querySelector('.modebar');
              return !!bar && bar.getBoundingClientRect().height > 0
                && Number(getComputedStyle(bar).opacity) > 0; })"""


@pytest.mark.parametrize("path", ["learn_2_batches", "learn_7_rmsprop"])
def test_learn_chart_toolbars_stay_off_the_titles_on_a_phone(sized, app_url, path):
    """On a phone Plotly's toolbar, shown on a tap, floated over the Learn charts' titles: there no
    chart shows it, even under the finger; wider screens still show it on hover."""
    page, size = sized
    visit(page, f"{app_url}/{path}")
    drawn(page, "[data-testid=stMain]")
    chart = page.locator(".js-plotly-plot .nsewdrag").first
    chart.scroll_into_view_if_needed()
    if size == "phone":
        chart.tap()
    else:
        chart.hover()
    page.wait_for_timeout(500)
    shown = page.evaluate(TOOLBARS)
    assert shown and (not any(shown) if size == "phone" else shown[0]), shown
