"""A browser that comes back to a server that has never seen it keeps what it last chose.

Behind a balancer, a replica that dies sends its students' browsers to another replica, which has
no session for them: the Playground would start from the link in the address bar, which holds the
setup of the last change the dead replica answered, and the change made since (in flight at the
kill, or the first one after the reconnect) would be replaced by it. So a session the server has
not seen takes the values the browser sent with its first run over the link's: each widget's, as
the browser encodes it (a select box's option label, a select slider's formatted value), and the
stage's report (a learning rate or a start); the stage re-sends a report that the next data does
not show (viz/stage.js), so a report lost with the replica comes back too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping

import streamlit as st
from streamlit.runtime.state.session_state_proxy import get_session_state

#: "$$ID-<hash>-<key>": a keyed widget's id; the stage's reports are "$$STREAMLIT_INTERNAL_KEY_<id>__events"
WIDGET_ID = re.compile(r"(?P<events>\$\$STREAMLIT_INTERNAL_KEY_)?\$\$ID-[0-9a-f]+-(?P<key>.+?)"
                       r"(?(events)__events)")


def browser_values() -> dict[str, object]:
    """The widget states the browser sent with this run, by widget key: the WidgetState protos of
    keyed widgets, and under "<key>__events" the list of reports [{event, value}] of a component."""
    out: dict[str, object] = {}
    for s in get_session_state().get_widget_states():
        m = WIDGET_ID.fullmatch(s.id)
        if m is None:
            continue
        if m["events"]:
            if s.WhichOneof("value") == "json_trigger_value":
                reports = json.loads(s.json_trigger_value or "[]")
                out[m["key"] + "__events"] = reports if isinstance(reports, list) else [reports]
        else:
            out[m["key"]] = s
    return out


def decode(key: str, s, labels: Mapping[str, tuple[Iterable, Callable]]) -> object:
    """The value widget ``key`` holds when the browser sends WidgetState ``s``; ``labels``: for the
    select boxes and radios (by a pattern their keys match), their options and option labels.
    Raises ValueError when the value is not one the widget offers."""
    which = s.WhichOneof("value")
    if which in ("bool_value", "int_value", "double_value"):
        return getattr(s, which)
    if which == "string_value":
        for pattern, (options, label) in labels.items():
            if re.fullmatch(pattern, key):
                return next(o for o in options if label(o) == s.string_value)
        return s.string_value
    if which == "string_array_value" and len(s.string_array_value.data) == 1:
        text = s.string_array_value.data[0]
        try:  # a select slider's number (formatted with :g)
            v = float(text)
        except ValueError:
            return text  # a segmented control's option
        return int(v) if v.is_integer() and "." not in text and "e" not in text else v
    raise ValueError(f"{key}: no value in {which}")


def keep_browser_values(values: Mapping[str, object], labels: Mapping[str, tuple[Iterable, Callable]],
                        report: Callable[[str, object], None], stage_key: str) -> list[str]:
    """After the link was loaded into a new session: the browser's value of every widget the link
    set (a key in the state), then the stage's reports (``report(name, value)``). Returns the keys
    that took the browser's value."""
    ss = st.session_state
    kept = []
    for key, s in values.items():
        if key in ss and not key.endswith("__events"):
            try:
                v = decode(key, s, labels)
            except (ValueError, StopIteration):
                continue
            if v != ss[key]:
                ss[key] = v
                kept.append(key)
    for r in values.get(stage_key + "__events", []):
        if isinstance(r, dict) and "event" in r:
            report(r["event"], r.get("value"))
            kept.append(f"{stage_key}.{r['event']}")
    return kept
