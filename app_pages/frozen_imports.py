"""Keep Python's garbage collector off what the app imported.

Streamlit collects garbage after every script run (``runner.postScriptGC``), and a full
collection walks every object alive: the ~105,000-140,000 of Streamlit, plotly, numpy and
this app's modules, 60 ms standalone and 75-250 ms measured in the server on this shared
machine, per change, holding the GIL (the page's messages wait to be sent; the event loop's own
automatic collections, 200-300 ms, stalled every session). Those objects live as long as the
process, so they are moved out of the collector's way (``gc.freeze``) whenever modules were
imported since the last look: app.py looks before the page (Streamlit's modules, so the automatic
collections that a cold first run's imports trigger do not walk them) and after it (the page's).
The runs after collect only their own garbage.

No collection before the freeze: it would hold the GIL for as long as the one it saves (the
page's messages, the first load's included, wait for it). The price is that the run's own
garbage cycles at that moment stay (a few per batch of new imports, a bounded number of times).
"""

from __future__ import annotations

import gc
import sys

_modules_when_frozen = 0


def freeze_new_imports() -> None:
    """If modules were imported since the last call, freeze every object the collector tracks (a
    bounded number of times per process: once per batch of new imports)."""
    global _modules_when_frozen
    if len(sys.modules) > _modules_when_frozen:
        gc.freeze()
        _modules_when_frozen = len(sys.modules)
