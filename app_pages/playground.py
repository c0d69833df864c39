"""Playground: compare optimizers side by side on one surface, animated.

The whole view lives in a Setup (descent_lab.setup): it is read from the URL
when a session starts and written back to the URL on every change, so the
address bar is always a link that reproduces the view.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

import landscapes
import optimizers
import viz
from app_pages import reconnect
from app_pages.stage import KEY as STAGE_KEY
from app_pages.stage import apply_report, stage
from app_pages.widgets import (
    FORM_LABELS,
    PENDING_SETUP,
    family_for,
    image_for,
    optimizer_label,
    param_widget,
    plain,
    run_cards,
    surface_label,
    surface_picker,
)
from descent_lab import compute, export, results, script, tuning
from descent_lab.presets import PRESETS, from_link, lesson_question, with_lesson
from descent_lab.runlist import RunList
from descent_lab.setup import (
    CUSTOM,
    DEFAULT_APP_URL,
    LESSON_TEXT,
    PANELS,
    SPEEDS,
    LessonText,
    Setup,
    to_query,
)
from optimizers import BATCH, NOISE, SEED, STEPS
from viz.stage import stage_payload, stage_runs

BATCH_KINDS = ["all samples", "one sample (SGD)", "a mini-batch"]
RUNS = RunList()  # the page's runs: run_ids, r<id>.opt, r<id>.lr, ...
WRITTEN = "query.written"  # the query this page last put in the address bar (another one: a link followed)
PICKED = "lesson.picked"  # how many lessons were picked this session (each pick closes a phone's sidebar)
# Streamlit's md breakpoint: at or below it the sidebar lies over the page instead of beside it
CLOSE_SIDEBAR_JS = ("if (matchMedia('(max-width: 768px)').matches) {"
                    "document.querySelector('[data-testid=stSidebarCollapseButton] button')?.click();}")


def lesson_label(key: str) -> str:
    return PRESETS[key].title if key else "None: free play"


#: the select boxes and radios whose option labels are not their values: key pattern -> (options, label)
LABELS = {
    "surface": ([*landscapes.names(), CUSTOM], surface_label),
    r"r\d+\.opt": (optimizers.names(), optimizer_label),
    r"r\d+\.form": (tuple(FORM_LABELS), FORM_LABELS.get),
    "lesson": (["", *PRESETS], lesson_label),
}
CODE_CAPTIONS = (
    "Each run as a complete PyTorch script: copy it (the icon at its top right) or download it, and run it "
    "with only torch installed. Its last line prints the run's final point x y, the app's to 1e-7 (the test "
    "suite runs every optimizer and schedule).",
    "Each run as a Keras 3 script (pip install keras torch; it runs Keras on its torch backend). Where Keras "
    "has the same optimizer its last line prints the run's final point; where Keras's optimizer differs it "
    "says how, and each run's settings offer Keras's form.",
)
#: presenter mode: no sidebar, no run controls or panels; the stage fills the screen (stage.css)
PRESENT_CSS = ("[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],[data-testid='stHeader'],"
               "[data-testid='stExpandSidebarButton'],.st-key-controls{display:none!important}"
               ".block-container{padding:0.5rem 1rem 1rem!important;max-width:100%!important}"
               # the run notes under the stage: off (the slider's red tick says the stable limit)
               ".st-key-run_notes [data-testid='stElementContainer']:has([data-testid='stCaptionContainer'])"
               "{display:none!important}"
               # the lesson: one line (title and question) in the strip above the stage, out of the flow
               "[data-testid='stLayoutWrapper']:has(> .st-key-lesson_line){display:contents}"
               ".st-key-lesson_line{position:fixed;left:0;right:0;top:0;height:22px;z-index:100;"
               "padding:0 1rem;text-align:center}"
               ".st-key-lesson_line p{margin:0;font-size:14px;line-height:22px;white-space:nowrap;"
               "overflow:hidden;text-overflow:ellipsis}"
               # a hall's screen (1920 wide): the line at 20 px, read from the back; the stage 22 px lower
               # when there is a line (no lesson: no empty strip)
               "@media (min-width:1600px){.st-key-lesson_line{height:30px}"
               ".st-key-lesson_line p{font-size:20px;line-height:30px}"
               ".block-container:has(.st-key-lesson_line){padding-top:30px!important}}"
               # a phone: the whole question, wrapped, in the flow above the stage (no room for one line)
               "@media (max-width:720px){.st-key-lesson_line{position:static;height:auto;padding:0 0 0.3rem}"
               ".st-key-lesson_line p{white-space:normal;line-height:1.3;overflow:visible;"
               "text-overflow:clip}}")



def load(setup: Setup, given: tuple[bool, ...] | None = None) -> None:
    """Put ``setup`` into the widgets' session state; ``given``: which runs' learning rates were set
    on purpose (from a link; None: all, as a lesson sets them)."""
    ss = st.session_state
    ss.surface = setup.surface
    if setup.surface == CUSTOM:
        (x0, x1), (y0, y1) = setup.surface_params["domain"]
        ss["surface.custom.f"] = setup.surface_params["expression"]
        ss["surface.custom.x0"], ss["surface.custom.x1"] = x0, x1
        ss["surface.custom.y0"], ss["surface.custom.y1"] = y0, y1
    else:
        for k, v in setup.surface_params.items():
            ss[f"surface.{setup.surface}.{k}"] = v
    x, y = setup.start_point()
    ss[f"start.{setup.surface}.x"], ss[f"start.{setup.surface}.y"] = x, y
    ss.steps, ss.noise, ss.seed = setup.steps, setup.noise, setup.seed
    ss.batch_kind = BATCH_KINDS[0 if setup.batch == 0 else 1 if setup.batch == 1 else 2]
    ss.batch_size = setup.batch if setup.batch > 1 else 16
    for flag in ("multiples", "show3d", "arrows", "explain", "speed"):
        ss[flag] = getattr(setup, flag)
    ss.panel = PANELS.get(setup.panel)
    RUNS.load(ss, setup.runs)  # fresh colours, as on the Learn pages
    mark_loaded(setup, (True,) * len(setup.runs) if given is None else given)


def mark_loaded(setup: Setup, given: tuple[bool, ...]) -> None:
    """What the learning-rate choice after a switch starts from: each run's optimizer and surface as
    loaded, and the rates set on purpose (kept when a run switches back to that optimizer)."""
    ss = st.session_state
    ss.lesson = setup.lesson
    ss.own_lesson = setup.own_lesson
    for k in [k for k in ss if ".own." in str(k) or str(k).endswith(".lr.note")]:
        del ss[k]
    for i, (r, own) in enumerate(zip(setup.runs, given, strict=True)):
        ss[RUNS.key(i, "was")] = r.name
        if own:
            ss[RUNS.key(i, f"own.{r.name}")] = r.hyper["lr"]
    ss["lr.surface"] = compute.surface_key(setup.make_surface())


def open_lesson() -> None:
    """The lesson picker's callback: load the lesson picked (or leave the runs as they are)."""
    key = st.session_state.lesson
    if key:
        load(PRESETS[key].setup())
    st.session_state[PICKED] = st.session_state.get(PICKED, 0) + 1  # on a phone, close the sidebar


def close_sidebar_on_a_phone() -> None:
    """After a lesson is picked: on a phone, where the open sidebar covers most of the screen, close it
    (its own button, so it opens again as always); wider screens keep it."""
    st.html(f"<script data-pick='{st.session_state[PICKED]}'>{CLOSE_SIDEBAR_JS}</script>", width="content",
            unsafe_allow_javascript=True)


def tune_switched_runs(base: Setup) -> None:
    """After a run switched optimizer, or the surface changed: give the run a learning rate that works
    there (descent_lab.tuning.choose_lr), unless the user set one for that optimizer; note it."""
    ss = st.session_state
    surface = base.make_surface()
    key = compute.surface_key(surface)
    moved = ss.get("lr.surface") not in (None, key)
    for i in RUNS.ids(ss):
        name, was = ss[RUNS.key(i, "opt")], ss.get(RUNS.key(i, "was"))
        if was is not None and (was != name or moved):
            whose = f"{optimizers.rule(was).short or optimizers.rule(was).label}'s" if was != name else (
                "the last surface's")
            choice = tuning.choose_lr(base, RUNS.spec(ss, i, name), previous_from=whose,
                                      own=ss.get(RUNS.key(i, f"own.{name}")),
                                      family=lambda s, spec: family_for(s, spec, surface))  # cached
            ss[RUNS.key(i, "lr")] = choice.lr
            ss[RUNS.key(i, "lr.note")] = (choice.lr, choice.caption())
        ss[RUNS.key(i, "was")] = name
    ss["lr.surface"] = key


def lesson_box(setup: Setup) -> None:
    """The open lesson's title, question and run names (in the runs' colours), above the stage."""
    if setup.own_lesson:
        own_lesson_box(setup.own_lesson)
        return
    p = PRESETS.get(setup.lesson)
    if p is None:
        return
    if st.session_state.present:  # one line, so the stage stays on the screen
        with st.container(key="lesson_line"):
            st.markdown(f"**:material/school: {p.title}** {p.question}")
        return
    names = p.run_names()
    colors = viz.run_colors([r.name for r in p.setup().runs])
    chips = " ".join(f"<span style='white-space:nowrap'><span style='color:{c}'>●</span> {n} "
                     f"<span style='color:#666'>(run {k + 1})</span></span>"
                     for k, (n, c) in enumerate(zip(names, colors, strict=True)))
    with st.container(border=True, key="lesson_box"):
        where = f"from {p.page}" if p.page else "a classic comparison"
        st.markdown(f"**:material/school: {p.title}** <span style='color:#666'>({where})</span> "
                    f"{p.question}<br><span style='font-size:0.9em'>{chips}</span>", unsafe_allow_html=True)
        if not p.matches(setup):
            c1, c2 = st.columns([3, 1], vertical_alignment="center")
            c1.caption("You changed the lesson's settings: its answer is about the lesson's own runs.")
            c2.button("Back to the lesson", key="lesson_reset", on_click=open_lesson, icon=":material/undo:")


def lesson_answer(setup: Setup) -> None:
    """The open lesson's answer, folded so it does not spoil the run."""
    p = PRESETS.get(setup.lesson)
    answer = plain(setup.own_lesson.answer).replace("\n", "  \n") if setup.own_lesson else p and p.answer
    if answer:
        with st.expander("Answer", icon=":material/lightbulb:"):
            st.markdown(answer)


def own_lesson_box(own: LessonText) -> None:
    """The lecturer's own lesson (from the link, or written in the Export panel) above the stage, as
    typed: its text is escaped, never Markdown or HTML."""
    title = f"**:material/edit_note: {plain(own.title)}** " if own.title else ":material/edit_note: "
    if st.session_state.present:  # one line, so the stage stays on the screen
        with st.container(key="lesson_line"):
            st.markdown(title + plain(own.question.replace("\n", " ")))
        return
    with st.container(border=True, key="own_lesson_box"):
        st.markdown(title + plain(own.question).replace("\n", "  \n"))


def write_lesson(setup: Setup) -> None:
    """The Export panel's own lesson: a title, a question and an answer for this setup (kept in its
    link), and the lesson page to download (descent_lab.page: one .html file that works offline)."""
    from descent_lab.page import page_html

    own, limits = setup.own_lesson, LESSON_TEXT
    with st.form("own_lesson_form", border=True):
        st.markdown("**Your own lesson** for this setup: it goes into the link and the page, shown as typed.")
        title = st.text_input("Title", own.title, max_chars=limits["title"])
        question = st.text_area("Question", own.question, max_chars=limits["question"], height=80)
        answer = st.text_area("Answer (folded under the map)", own.answer, max_chars=limits["answer"],
                              height=100)
        if st.form_submit_button("Use this lesson", icon=":material/edit_note:"):
            st.session_state.own_lesson = LessonText(title.strip(), question.strip(), answer.strip())
            st.rerun()
    app_url = st.context.url.split("?", 1)[0] if st.context.url else DEFAULT_APP_URL
    st.download_button("Lesson page (.html, works offline)", lambda: page_html(setup, app_url),
                       f"descent-lab-{setup.surface}.html", "text/html", icon=":material/web:",
                       on_click="ignore", help="The stage of this view as one file: play, keys, lr sliders, "
                       "3-D, explain and presenter mode work in any browser, with no server; a link in it "
                       "reopens this setup in the app.")


def run_notes(setup: Setup, ids: list[int], views) -> None:
    """Below the stage, per run: the learning rate a switch chose, and the stability hint (a warning
    when the run's lr is above the largest stable one at the start, or within 10 % of it)."""
    defined = False  # what λmax is, said in the first caption only
    for slot, (i, spec, view) in enumerate(zip(ids, setup.runs, views, strict=True)):
        rule = optimizers.rule(spec.name)
        who = f"Run {slot + 1} ({rule.short or rule.label})"
        note = st.session_state.get(RUNS.key(i, "lr.note"))
        hint = tuning.stability(setup, spec)
        parts = [note[1]] if note and note[0] == spec.hyper["lr"] else []
        warning = hint.warning(view.trajectory, setup.make_surface()) if hint is not None else None
        if warning and hint.alarming(view.trajectory):
            st.warning(f"**{who}**: {warning}", icon=":material/warning:")
        elif hint is not None:
            parts.append(warning or hint.caption(define=not defined))
            defined = defined or not warning
        if parts:
            st.caption(f"<span style='color:{view.color}'>●</span> {who}: " + "; ".join(parts),
                       unsafe_allow_html=True)


def set_present(on: bool) -> None:
    st.session_state.present = on


def export_panel(setup: Setup, surface, views) -> None:
    """Share link and downloads: animated GIF and PNG (for a slide: size, pace, loss chart, the lesson's
    question), CSV and JSON of the runs."""
    from viz import animation  # Matplotlib: loaded on the first visit to this panel, not on every page load
    link = "?" + urlencode(to_query(setup))
    st.caption("The address bar always holds the whole setup: copy it to share this view. "
               "The same link, relative to the app's address:")
    st.code(link, language=None, wrap_lines=True)
    stem = f"descent-lab-{setup.surface}"
    c1, c2, c3 = st.columns(3)
    size = c1.selectbox("Picture size", export.SLIDE_SIZES, key="gif.size",
                        format_func=lambda s: f"{s[0]} x {s[1]} px",
                        help="1280 x 720 fills a 1920 x 1080 slide at 1.5x; larger sizes make larger files")
    with c2:
        fps = param_widget(export.GIF_FPS, "gif.fps")
    with c3:
        frames = param_widget(export.GIF_FRAMES, "gif.frames")
    loss = c1.toggle("Loss chart beside the map", value=True, key="gif.loss")
    asked = lesson_question(setup)
    question = c2.toggle("The lesson's question on top", value=True, key="gif.question") if asked else False
    look = {"width_px": size[0], "height_px": size[1], "loss": loss, "question": asked if question else ""}
    made = st.session_state.get("gif")  # (link, options, bytes): one GIF per session, for the current setup
    wanted = (link, (frames, fps, *look.values()))
    slot = st.empty()  # the button, gone once its GIF is made
    if (made is None or made[:2] != wanted) and slot.button("Make an animated GIF", icon=":material/movie:"):
        bar = slot.progress(0.0, text="Drawing frames...")
        made = (*wanted, animation.gif_bytes(surface, views, frames=frames, fps=fps, **look,
                                             progress=lambda f: bar.progress(min(1.0, f))))
        st.session_state.gif = made
        slot.empty()
    if made is not None and made[:2] == wanted:
        gif = made[2]
        st.download_button(f"Download GIF ({len(gif) / 1e3:.0f} kB)", gif, f"{stem}.gif", "image/gif",
                           icon=":material/download:")
    c1, c2, c3 = st.columns(3)
    c1.download_button("PNG of the last frame", lambda: animation.png_bytes(surface, views, **look),
                       f"{stem}.png", "image/png", icon=":material/image:", on_click="ignore")
    c2.download_button("Trajectories CSV", lambda: export.trajectories_csv(views), f"{stem}.csv", "text/csv",
                       icon=":material/table:", on_click="ignore")
    c3.download_button("Trajectories JSON", lambda: export.trajectories_json(setup, views), f"{stem}.json",
                       "application/json", icon=":material/data_object:", on_click="ignore")
    write_lesson(setup)


pending = st.session_state.pop(PENDING_SETUP, None)  # sent by another page
arrived = st.query_params.to_dict()
if pending is not None:
    load(pending)  # from Explore: its rates are the cell's
elif "run_ids" not in st.session_state or (arrived and arrived != st.session_state.get(WRITTEN)):
    # a new session, or a link followed in this one (a Learn page's, or Back to an earlier setup)
    query = with_lesson(arrived)  # a bare lesson link: the lesson's runs
    st.session_state.present = query.pop("present", "0") == "1"
    first, problems = from_link(query)
    load(first, tuning.given_lrs(query, first.runs))
    # a browser that comes back from a replica that died: what it chose since the link wins
    reconnect.keep_browser_values(
        reconnect.browser_values(), LABELS, stage_key=STAGE_KEY,
        report=lambda name, v: apply_report(name, v, RUNS.ids(st.session_state), SPEEDS))
    if problems:
        st.warning("Some of this link could not be used: " + plain("; ".join(problems)) + ".",
                   icon=":material/link:")
st.session_state.setdefault("present", False)

st.markdown(
    "<style>.block-container{padding-top:4.3rem;padding-bottom:1rem}"  # the top bar is 3.75rem
    "[data-testid='stSidebarContent']{padding-top:0.5rem}"
    + (PRESENT_CSS if st.session_state.present else "") + "</style>",
    unsafe_allow_html=True,
)

with st.sidebar:
    st.title(":material/landscape: Descent Lab")
    st.selectbox("Lesson", ["", *PRESETS], key="lesson", on_change=open_lesson, format_func=lesson_label,
                 help="A question on a prepared comparison (the Learn pages' examples and classic races); "
                 "its answer folds out below the map.")
    if PICKED in st.session_state:
        close_sidebar_on_a_phone()
    surface = surface_picker(st.sidebar, allow_custom=True)
    (x0, x1), (y0, y1) = surface.domain
    kx, ky = f"start.{surface.name}.x", f"start.{surface.name}.y"
    inside = x0 <= st.session_state.get(kx, x0 - 1) <= x1 and y0 <= st.session_state.get(ky, y0 - 1) <= y1
    if not inside:  # first visit, or a new domain for a formula
        st.session_state[kx], st.session_state[ky] = float(surface.start[0]), float(surface.start[1])
    c1, c2 = st.columns(2)
    sx = c1.number_input("Start x", min_value=x0, max_value=x1, key=kx, step=0.1, format="%.3f")
    sy = c2.number_input("Start y", min_value=y0, max_value=y1, key=ky, step=0.1, format="%.3f")
    st.caption("Or drag the ring on the map, or Shift+click the map to start there.")
    steps = param_widget(STEPS, "steps")
    batch = 0
    if surface.data is not None:
        kind = st.radio("Gradient from", BATCH_KINDS, horizontal=True, key="batch_kind")
        if kind == BATCH_KINDS[1]:
            batch = 1
        elif kind == BATCH_KINDS[2]:
            sizes = [b for b in BATCH.options(st.session_state.batch_size) if b > 1]
            batch = st.select_slider(BATCH.label, sizes, key="batch_size", help=BATCH.help)
    noise = st.select_slider(NOISE.label, NOISE.options(st.session_state.noise), key="noise", help=NOISE.help)
    seed = st.number_input(SEED.label, SEED.lo, SEED.hi, key="seed", help=SEED.help) if noise or batch else 0
    st.divider()
    multiples = st.toggle("One panel per run", key="multiples")
    show_3d = st.toggle("3-D view", key="show3d", disabled=multiples)
    arrows = st.toggle("Gradient and step arrows", key="arrows")
    st.button(":material/slideshow: Presenter mode", key="present_on", on_click=set_present, args=(True,),
              help="Big map and loss chart, no sidebar; keys: Space, Left / Right, Home / End; Esc leaves")

sparams = ({"expression": surface.params["expression"], "domain": surface.domain}
           if surface.name == CUSTOM else dict(surface.params))
tune_switched_runs(Setup(surface=surface.name, surface_params=sparams, start=(float(sx), float(sy)),
                         steps=int(steps), noise=float(noise), seed=int(seed), batch=int(batch)))
speed = st.session_state.setdefault("speed", Setup.speed)
stage_area = st.container()  # first on the page (on a phone, the map comes before the run controls)
controls = st.container(key="controls")
with controls:
    ids, colors, runs = run_cards(RUNS, lr_on_stage=True)

setup = Setup(
    surface=surface.name, surface_params=sparams, start=(float(sx), float(sy)),
    steps=int(steps), runs=tuple(runs), noise=float(noise), seed=int(seed), batch=int(batch),
    multiples=multiples, show3d=show_3d, arrows=arrows, explain=st.session_state.explain, speed=speed,
    panel=next((k for k, v in PANELS.items() if v == st.session_state.get("panel")), ""),
    lesson=st.session_state.lesson or "",
    own_lesson=st.session_state.get("own_lesson", LessonText()),
)
query = to_query(setup)
if st.session_state.present:
    query["present"] = "1"
st.query_params.from_dict(query)
st.session_state[WRITTEN] = query

families, views = stage_runs(setup, lambda s, spec: family_for(s, spec, surface), colors)
with stage_area:
    lesson_box(setup)
    stage(stage_payload(setup, surface, families, views, image_for(surface),
                        present=st.session_state.present), ids, SPEEDS)
    for v in views:
        d = int(v.trajectory.diverged_at)
        if d >= 0:
            st.error(f"**{v.label}** diverged at step {d}: its steps grew without bound. "
                     "Try a smaller learning rate.", icon=":material/error:")
    with st.container(key="run_notes"):  # hidden in presenter mode
        run_notes(setup, ids, views)
    lesson_answer(setup)

# only the chosen panel is rendered: the table and code widgets cost seconds of first load
with controls:
    panel = st.segmented_control("Panel", list(PANELS.values()), key="panel", label_visibility="collapsed")
    if panel == "Step sizes":
        st.caption("The step size each parameter actually gets. Adaptive methods give x and y different "
                   "rates; AdaGrad's only ever shrink.")
        st.plotly_chart(viz.fast_figure(viz.rate_figure(views)), key="rates",
                        config={"displayModeBar": False})  # no toolbar over the legend
    elif panel == "Results":
        tol = st.select_slider("Tolerance (distance to a minimum)", [1e-4, 1e-3, 1e-2, 1e-1], value=1e-2,
                               key="tol", format_func=lambda v: f"{v:g}")
        if not surface.has_global_min:
            st.caption("J has no minimum in this domain (it keeps falling past an edge), so there is "
                       f"no J* and no {results.GAP} column: compare the {results.FINAL}.")
        rows = results.result_rows(views, surface, tol)
        sci = st.column_config.NumberColumn(format="%.3e")
        st.dataframe(rows, hide_index=True, width="stretch",
                     column_config={"run": st.column_config.TextColumn(width="medium"),
                                    results.FINAL: sci, results.GAP: sci, "distance": sci,
                                    results.SENSITIVE: st.column_config.NumberColumn(
                                        help=results.SENSITIVE_HELP)})
    elif panel == "Code":
        keras = st.radio("Framework", ["PyTorch", "Keras"], key="code.framework", horizontal=True,
                         label_visibility="collapsed") == "Keras"
        st.caption(CODE_CAPTIONS[keras])
        for n, (tab, v) in enumerate(zip(st.tabs([v.label for v in views]), views, strict=True)):
            code = (script.keras_script if keras else script.torch_script)(setup, v.trajectory)
            if code is None:
                tab.info(script.keras_difference(v.trajectory.optimizer), icon=":material/info:")
                continue
            if v.trajectory.sensitive_from is not None:
                tab.warning(v.trajectory.rounding.note("Keras" if keras else "PyTorch"),
                            icon=":material/info:")
            tab.code(code, language="python")
            tab.download_button("Download the script", code, f"descent-lab-run{n + 1}.py", "text/x-python",
                                key=f"script{n}", icon=":material/download:", on_click="ignore")
    elif panel == "Export":
        export_panel(setup, surface, views)
