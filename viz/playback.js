// Playback, the same in every stage (viz/stage.py module_text puts this file in front of viz/stage.js and
// viz/net_stage.js, after viz/payload.js). The step st.t runs from 0 to st.d.S; the viewer steps with the
// buttons, the step slider and the keys (Space or k plays or pauses, Left / Right step, 10 with Shift,
// Home / End jump), or plays: the step advances at the payload's pace, steps_per_s a second at 1x times
// the speed menu's factor (a new speed applies at once), and stops at the last step.
// A stage's state st holds st.d (the payload, with S and steps_per_s), st.t, st.playing, st.raf, its Play
// button st.play, its speed menu st.speed, and st.playback, what differs from stage to stage:
//   draw(st): paint the stage at st.t;
//   faces: { play, pause }, the Play button's HTML when paused and when playing;
//   ownsKey(e) (optional): true for a key the stage's own input takes (a menu's always does);
//   onViewer(st) (optional): what else a step or a Play the viewer chose does.

const SPEEDS = ["0.25x", "0.5x", "1x", "2x", "4x"];
const svg = (path) => `<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true"><path d="${path}" fill="currentColor"/></svg>`;
const STEP_ICONS = { first: svg("M2 2h2v10H2zM12 2v10L5 7z"), last: svg("M10 2h2v10h-2zM2 2v10l7-5z") };

// The stage's root element (class ``cls``): focused, it takes the playback keys, as its label says.
function playbackRoot(cls, name) {
  const root = el("div", cls);
  root.tabIndex = 0;
  root.setAttribute("role", "application");
  root.setAttribute("aria-label", name + ": Space plays or pauses, Left / Right step, Home / End jump");
  return root;
}

// On load, a stage takes the keys (Space plays at once) unless the viewer is already somewhere else; the
// page does not scroll to it.
function takeFocus(st) {
  const a = document.activeElement;
  if (!a || a === document.body || a === document.documentElement) st.root.focus({ preventScroll: true });
}

// The playback controls: First, −1, Play, +1, Last made by the stage's btn(text, title) (which places
// them), then a step slider and a speed menu for the stage to place; class names ``prefix``-play, -step, -speed.
function playbackControls(btn, prefix) {
  const first = btn("", "First step (Home)"), back = btn("−1", "Step back (Left)");
  const play = btn("", "Play / pause (Space)");
  const fwd = btn("+1", "Step forward (Right)"), last = btn("", "Last step (End)");
  first.innerHTML = STEP_ICONS.first;
  last.innerHTML = STEP_ICONS.last;
  play.classList.add(prefix + "-play");
  const step = el("input", prefix + "-step");
  step.type = "range"; step.min = 0; step.value = 0;
  step.setAttribute("aria-label", "Step");
  const speed = el("select", prefix + "-speed");
  speed.title = "Playback speed";
  speed.setAttribute("aria-label", "Playback speed");
  for (const s of SPEEDS) speed.append(new Option(s, s));
  speed.value = "1x";
  return { first, back, play, fwd, last, step, speed };
}

// The controls' actions and the keys (on the stage's root, which has the keys when focused).
function wirePlayback(st, { first, back, play, fwd, last, step }) {
  play.innerHTML = st.playback.faces.play;
  first.onclick = () => setStep(st, 0, true);
  last.onclick = () => setStep(st, st.d ? st.d.S : 0, true);
  back.onclick = () => setStep(st, st.t - 1, true);
  fwd.onclick = () => setStep(st, st.t + 1, true);
  play.onclick = () => toggle(st);
  step.oninput = () => setStep(st, Number(step.value), true);
  st.root.addEventListener("keydown", (e) => keys(st, e));
}

function keys(st, e) {
  if (!st.d || e.target.tagName === "SELECT" || (st.playback.ownsKey && st.playback.ownsKey(e))) return;
  const big = e.shiftKey ? 10 : 1;
  if (e.key === " " || e.key === "Spacebar" || e.key === "k") toggle(st);
  else if (e.key === "ArrowLeft") setStep(st, st.t - big, true);
  else if (e.key === "ArrowRight") setStep(st, st.t + big, true);
  else if (e.key === "Home") setStep(st, 0, true);
  else if (e.key === "End") setStep(st, st.d.S, true);
  else return;
  e.preventDefault();
  e.stopPropagation();
}

// Step t (rounded, within 0..S); ``user``: the viewer chose it, so playing stops.
function setStep(st, t, user) {
  if (!st.d) return;
  if (user) { viewerActs(st); if (st.playing) pause(st); }
  st.t = Math.max(0, Math.min(st.d.S, Math.round(t)));
  st.playback.draw(st);
}

const viewerActs = (st) => { if (st.playback.onViewer) st.playback.onViewer(st); };

function toggle(st) {
  if (st.playing) pause(st);
  else playFrom(st);
}

// Play from the current step (from the first when at the last), one frame at a time.
function playFrom(st) {
  if (!st.d) return;
  viewerActs(st);
  if (st.t >= st.d.S) st.t = 0;
  st.playing = true;
  st.play.innerHTML = st.playback.faces.pause;
  let prev = performance.now(), acc = 0;
  const tick = (now) => {
    if (!st.playing) return;
    acc += ((now - prev) / 1000) * stepsPerSecond(st);
    prev = now;
    const n = Math.floor(acc);
    if (n > 0) {
      acc -= n;
      st.t = Math.min(st.d.S, st.t + n);
      st.playback.draw(st);
    }
    if (st.t >= st.d.S) pause(st);
    else st.raf = requestAnimationFrame(tick);
  };
  st.raf = requestAnimationFrame(tick);
}

// the pace, read at every frame (a new speed applies at once)
const stepsPerSecond = (st) => st.d.steps_per_s * parseFloat(st.speed.value || "1");

function pause(st) {
  st.playing = false;
  cancelAnimationFrame(st.raf);
  st.play.innerHTML = st.playback.faces.play;
}
