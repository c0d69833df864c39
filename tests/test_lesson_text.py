"""A lecturer's own lesson in the link (lesson.title, lesson.question, lesson.answer): limited,
cleaned, round-tripped, and shown as typed (escaped) in the Playground, never as HTML or Markdown."""

from __future__ import annotations

from conftest import APPTEST_TIMEOUT, ROOT, ok, open_page
from hypothesis import given, settings
from hypothesis import strategies as st

from descent_lab.presets import from_link
from descent_lab.setup import CONTROL, LESSON_TEXT, LessonText, Setup, from_query, to_query

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">**bold** [a](http://x.org/)'


def test_the_lesson_round_trips_through_the_link():
    own = LessonText("Why Adam?", "Which run\narrives first?", "Adam: its steps are normalized.")
    setup, problems = from_query(to_query(Setup(own_lesson=own)))
    assert problems == [] and setup.own_lesson == own


def test_text_beyond_its_limit_is_refused_with_a_message():
    for key, limit in LESSON_TEXT.items():
        setup, problems = from_query({f"lesson.{key}": "x" * 10_000})
        assert not setup.own_lesson
        assert problems == [f"lesson.{key} (value longer than {limit} characters)"]
        setup, problems = from_query({f"lesson.{key}": "x" * limit})
        assert getattr(setup.own_lesson, key) == "x" * limit and problems == []


def test_control_characters_are_dropped_with_a_message_and_html_is_kept_as_text():
    setup, problems = from_query({"lesson.title": "a\x00b\x1bc", "lesson.question": HOSTILE})
    assert setup.own_lesson == LessonText("abc", HOSTILE, "")
    assert problems == ["lesson.title (control characters removed)"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([f"lesson.{k}" for k in LESSON_TEXT]), st.text(max_size=2500)))
def test_fuzz_the_lesson_codec(query):
    """Any text: never raises; what is kept is within its limit, without control characters, and
    comes back the same from its own link."""
    setup, _ = from_link(query)
    for key, limit in LESSON_TEXT.items():
        text = getattr(setup.own_lesson, key)
        assert len(text) <= limit and not CONTROL.search(text) and "\r" not in text
    again, more = from_link(to_query(setup))
    assert again.own_lesson == setup.own_lesson and more == []


def test_the_playground_shows_a_hostile_lesson_as_typed():
    """From a link: the title, question and answer appear as text (escaped for Markdown), nothing of
    them is a link, an image or HTML; the answer is folded under the map."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT)
    at.query_params.update({"lesson.title": HOSTILE, "lesson.question": "Which one *wins*?",
                            "lesson.answer": "<b>Adam</b>"})
    at = ok(at)
    from app_pages.widgets import plain

    shown = " ".join(m.value for m in at.markdown)
    assert f"**:material/edit_note: {plain(HOSTILE)}** {plain('Which one *wins*?')}" in shown
    assert "\\<script\\>" in shown and "\\*\\*bold\\*\\*" in shown and "\\[a\\]\\(http" in shown
    (answer,) = [e for e in at.expander if e.label == "Answer"]
    assert answer.markdown[0].value == plain("<b>Adam</b>")
    assert at.query_params["lesson.title"] in (HOSTILE, [HOSTILE])


def test_writing_a_lesson_in_the_export_panel_puts_it_in_the_link():
    at = open_page("app_pages/playground.py")
    at.segmented_control(key="panel").set_value("Export")
    at = ok(at)
    at.text_input[0].input("My lesson")
    at.text_area[0].input("Who wins?")
    at.text_area[1].input("Adam")
    at.button[[b.label for b in at.button].index("Use this lesson")].click()
    at = ok(at)
    for key, text in (("title", "My lesson"), ("question", "Who wins?"), ("answer", "Adam")):
        assert at.query_params[f"lesson.{key}"] in (text, [text])
    assert any("My lesson" in m.value for m in at.markdown)
