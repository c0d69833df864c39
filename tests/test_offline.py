"""Offline classrooms: in Chromium, no page of the app asks any host but the app's own server.

Every request and websocket the pages open is recorded; one to any other host (a font CDN for the
page icon, a tile server, telemetry) fails the test. Streamlit's own ``:material/...:`` page icon
is such a request (fonts.gstatic.com), hence app.py's local PNG.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def test_no_page_requests_another_host(page, app_url):
    from app_pages.learn_path import LEARN_PAGES

    server = urlsplit(app_url).netloc
    seen: list[str] = []
    outside: list[tuple[str, str]] = []
    where = ["/"]

    def record(url: str) -> None:
        if url.startswith(("data:", "blob:", "about:")):
            return  # made in the page, not fetched
        seen.append(url)
        if urlsplit(url).netloc != server:
            outside.append((where[0], url))

    page.on("request", lambda r: record(r.url))
    page.on("websocket", lambda ws: record(ws.url))
    paths = ["/", "/?show3d=1&arrows=1", "/explore", *("/" + Path(f).stem for f, _, _ in LEARN_PAGES)]
    for path in paths:
        where[0] = path
        page.goto(app_url + path)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.wait_for_timeout(500)  # late requests: the page icon, lazily loaded chart code
    assert not outside, outside
    # the listener saw the page's own traffic: the icon, the websocket, the charts' code
    icon = page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href")
    assert icon in seen and urlsplit(icon).path.startswith("/media/"), icon
    with urllib.request.urlopen(icon, timeout=10) as r:  # a picture, not the app's index page
        assert r.read(8) == b"\x89PNG\r\n\x1a\n"
    assert any(u.startswith("ws") and u.endswith("/_stcore/stream") for u in seen)
    assert len(seen) > 20
