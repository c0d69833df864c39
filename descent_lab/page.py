"""A lesson page: the stage of a setup as one self-contained .html file (a front end, like the CLI:
it may use viz).

Everything is inline: the stage's style (viz/stage.css) and module (viz/stage.js, the same file the
app and the notebook widget load, as viz.stage.module_text gives it), its payload
(viz.stage.stage_payload, standalone: 3-D, explain and every learning rate of each family in it) and
plotly.js, the last two gzipped and in base64. Nothing
is fetched from any host, so the file works from file://, on a course site and in an iframe. The map
is drawn before plotly.js is unpacked (the stage draws the landscape and the runs itself; plotly.js
adds the axes and the 3-D view after).

Nothing answers the stage here: a learning-rate drag switches paths from the families, 3-D, explain
and presenter mode (the browser's full screen) are the page's own; what needs new runs (the start,
the surface, the optimizers, the steps) is said in words, with the app link that reopens the setup.
"""

from __future__ import annotations

import base64
import gzip
import html
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import plotly

import viz
from viz.stage import STAGE_CSS, STAGE_JS, module_text, stage_payload, stage_runs

from .presets import PRESETS
from .setup import DEFAULT_APP_URL, Setup, to_query

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
#: the app's typeface (the Source Sans file Streamlit ships, a variable font; found, not imported:
#: the page uses no Streamlit code), inlined so the page reads as the app does without fetching a font
FONTS = Path(find_spec("streamlit").origin).parent / "static" / "static" / "media"

PAGE_CSS = """
body { margin: 0; padding: 0.8rem 1.2rem 1.5rem; font-family: "Source Sans", "Source Sans Pro", system-ui,
       -apple-system, "Segoe UI", Roboto, sans-serif; color: #31333f; background: #fff; line-height: 1.4; }
.lesson h1 { font-size: 1.6rem; margin: 0 0 0.2rem; overflow-wrap: anywhere; }
.lesson .question { font-size: 1.2rem; margin: 0 0 0.6rem; overflow-wrap: anywhere; white-space: pre-line; }
.lesson details { margin: 0.8rem 0; font-size: 1.05rem; }
.lesson details summary { cursor: pointer; font-weight: 600; }
.lesson details p { white-space: pre-line; overflow-wrap: anywhere; }
.page-foot { margin-top: 0.8rem; font-size: 0.95rem; color: #4a4d57; overflow-wrap: anywhere; }
.page-foot a { color: #0b57d0; }
.stage:fullscreen { background: #fff; padding: 0.6rem; overflow: auto; }
"""

# The page's own module: the stage's (viz/stage.js) followed by this, in one <script type="module" async>
# (async: it runs once parsed, before the rest of the page, plotly.js's text, is).
BOOT_JS = """
const unpacked = (id) => fetch("data:application/gzip;base64," + document.getElementById(id).textContent)
  .then((r) => new Response(r.body.pipeThrough(new DecompressionStream("gzip"))));
const parsed = () => (document.readyState !== "loading" ? Promise.resolve()
  : new Promise((go) => document.addEventListener("DOMContentLoaded", go, { once: true })));
const host = {
  // plotly.js (the axes, the 3-D view) after the first paint: a blob: URL of the page's own copy
  plotly: () => new Promise((go) => requestAnimationFrame(() => setTimeout(go, 0))).then(parsed)
    .then(() => unpacked("plotly-js")).then((r) => r.blob())
    .then((js) => URL.createObjectURL(new Blob([js], { type: "text/javascript" }))),
};
unpacked("stage-payload").then((r) => r.arrayBuffer())
  .then((buf) => mount(document.getElementById("stage"), new Uint8Array(buf), host));
"""


def page_html(setup: Setup, app_url: str = DEFAULT_APP_URL) -> str:
    """The lesson page of ``setup``: its stage, its lesson (the lecturer's own, or the built-in one
    ``setup.lesson`` names) and the link that reopens it in the app at ``app_url``."""
    surface = setup.make_surface()
    families, views = stage_runs(setup)
    payload = stage_payload(setup, surface, families, views, viz.landscape_png(surface), standalone=True)
    title, question, answer = lesson_texts(setup)
    link = app_link(setup, app_url)
    body = [
        "<header class='lesson'>",
        f"<h1>{_text(title or f'Descent Lab: {surface.title}')}</h1>",
        f"<p class='question'>{_text(question)}</p>" if question else "",
        "</header>",
        "<div id='stage'></div>",
        (f"<section class='lesson'><details><summary>Answer</summary><p>{_text(answer)}</p></details>"
         "</section>" if answer else ""),
        "<p class='page-foot'>A page saved from Descent Lab: play the runs, step with the arrow keys, drag "
        "a learning rate, turn on 3-D or explain. Moving the start, or changing the surface, the optimizers "
        "or the steps needs new runs: the app does that. "
        f"<a href='{_text(link)}' target='_blank' rel='noopener' title='{_text(link)}'>Reopen this setup in "
        f"the app</a> ({_text(urlsplit(link).netloc)}).</p>",
        _data_script("stage-payload", payload),
        f"<script type='module' async>{_script(module_text(STAGE_JS))}\n{BOOT_JS}</script>",
        _data_script("plotly-js", PLOTLY_JS.read_bytes()),
    ]
    return "\n".join([
        "<!doctype html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_text(title or 'Descent Lab')}</title>",
        f"<style>{_font_face()}{PAGE_CSS}\n{STAGE_CSS.read_text()}</style>",
        "</head><body>", *[b for b in body if b], "</body></html>", "",
    ])


def lesson_texts(setup: Setup) -> tuple[str, str, str]:
    """The title, question and answer a page of ``setup`` shows: the lecturer's own where written,
    else the built-in lesson's (all "" for none)."""
    own, p = setup.own_lesson, PRESETS.get(setup.lesson)
    if own:
        return own.title, own.question, own.answer
    return (p.title, p.question, p.answer) if p is not None else ("", "", "")


def app_link(setup: Setup, app_url: str = DEFAULT_APP_URL) -> str:
    """The Playground link of ``setup`` at ``app_url`` (an http or https address)."""
    if urlsplit(app_url).scheme not in ("http", "https"):
        raise ValueError(f"the app's address must start with http:// or https:// (got {app_url[:60]!r})")
    return app_url.split("?", 1)[0] + "?" + urlencode(to_query(setup))


def _font_face() -> str:
    """Source Sans as a data: URL ("" where this Streamlit has no such file: the page then uses the
    system's sans-serif)."""
    found = sorted(FONTS.glob("SourceSansVF-Upright*.woff2"))
    if not found:
        return ""
    b64 = base64.b64encode(found[0].read_bytes()).decode()
    return ("@font-face { font-family: 'Source Sans'; font-weight: 200 900; font-display: swap; "
            f"src: url(data:font/woff2;base64,{b64}) format('woff2'); }}\n")


def _text(s: str) -> str:
    """Text as HTML shows it, never as markup."""
    return html.escape(s, quote=True)


def _script(js: str) -> str:
    """A module's text inside <script>: refused if it could end the element early."""
    if "</script" in js.lower() or "<!--" in js:
        raise ValueError("a script to inline holds '</script' or '<!--'")
    return js


def _data_script(element_id: str, data: bytes) -> str:
    """``data`` gzipped in base64, in a script element the browser does not run."""
    b64 = base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode()
    return f"<script type='application/octet-stream' id='{element_id}'>{b64}</script>"
