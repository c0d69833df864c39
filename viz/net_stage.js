// The Networks page's stage (a Streamlit components.v2 module): the weight-space plane with the runs'
// paths, the network's output shaded over the input plane with the data, the network drawn with a
// map of every unit, the curves and the projection's numbers, all at one step that plays in the
// browser (viz/net_stage.py's data; no server round trip until a setting changes). Canvas only: it
// paints as soon as the data is here. It stays mounted: new data repaints it in place. It reports
// back with trigger values: points (the user's drawn points, {points: [[x, y, class], ...], over}) and
// lr ({run, value}: the shown run's η one step down or up its card's slider, from the headline's − / +).
// unpack, loadPlotly, appPlotly and el: viz/payload.js; the playback (keys, steps, Play and its pace):
// viz/playback.js. viz/stage.py module_text puts both in front of this file.

const FONT = '"Source Sans", "Source Sans Pro", sans-serif';
const NARROW = 760; // below this width (the component's own): one column
const SHADES = 30; // TensorFlow Playground's shades of its colour scale
const ALPHA = 160; // and its shading's opacity (of 255)
const SEND_AFTER_MS = 700; // drawn points go to the server after this long without a click
const STATES = new WeakMap();
const FACES = { play: "▶ Play", pause: "❚❚ Pause" }; // Play's button
const FEATURES = {
  x: (x, y) => x, y: (x, y) => y, x2: (x, y) => x * x, y2: (x, y) => y * y, xy: (x, y) => x * y,
  sinx: (x, y) => Math.sin(x), siny: (x, y) => Math.sin(y),
};
const FEATURE_NAMES = { x: "x₁", y: "x₂", x2: "x₁²", y2: "x₂²", xy: "x₁x₂", sinx: "sin x₁", siny: "sin x₂" };

const fmt = (v, d = 3) => (Number.isFinite(v) ? Number(v.toPrecision(d)).toString() : "–");

// ---- the network's forward pass on a grid (the core's model: landscapes/mlp.py) ----------------------

// The grid: DENSITY points per side over the data's bounds, row i at y_i (bottom first), as the core's
// boundary grid: value [i * G + j] at (xs[j], ys[i]).
function gridPoints(d, G) {
  const [[x0, x1], [y0, y1]] = d.bounds;
  const xs = Float64Array.from({ length: G }, (_, j) => x0 + ((x1 - x0) * j) / (G - 1));
  const ys = Float64Array.from({ length: G }, (_, i) => y0 + ((y1 - y0) * i) / (G - 1));
  const inputs = d.features.map((f) => {
    const a = new Float64Array(G * G);
    for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) a[i * G + j] = FEATURES[f](xs[j], ys[i]);
    return a;
  });
  return { G, xs, ys, inputs };
}

// Every unit's value at every point of ``grid`` (gridPoints) for run r at kept step q: the inputs, each
// hidden layer's activations (units arrays of G * G) and the output's probability of class 1.
function forward(d, r, q, grid = d.grid) {
  const R = d.runs.length, D = d.dim, w = d.weights.subarray((q * R + r) * D, (q * R + r + 1) * D);
  const m = grid.inputs[0].length, sizes = [d.features.length, ...d.hidden, 1];
  const layers = [grid.inputs], tanh = d.activation === "tanh";
  let off = 0;
  for (let k = 0; k + 1 < sizes.length; k++) {
    const inp = sizes[k], out = sizes[k + 1], a = layers[k], next = [];
    const W = off, B = off + out * inp;
    for (let o = 0; o < out; o++) {
      const z = new Float64Array(m);
      for (let c = 0; c < inp; c++) {
        const wc = w[W + o * inp + c], ac = a[c];
        for (let p = 0; p < m; p++) z[p] += wc * ac[p];
      }
      const b = w[B + o];
      if (k + 2 === sizes.length) for (let p = 0; p < m; p++) z[p] = sigmoid(z[p] + b);
      else if (tanh) for (let p = 0; p < m; p++) z[p] = Math.tanh(z[p] + b);
      else for (let p = 0; p < m; p++) z[p] = Math.max(z[p] + b, 0);
      next.push(z);
    }
    off = B + out;
    layers.push(next);
  }
  return { layers, p: layers[layers.length - 1][0] };
}

function sigmoid(z) { const e = Math.exp(-Math.abs(z)), r = 1 / (1 + e); return z >= 0 ? r : e * r; }

// TensorFlow Playground's colour scale: -1 orange, 0 light grey, +1 blue, in SHADES steps
function shadeTable(colors) {
  const rgb = colors.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));
  return Array.from({ length: SHADES + 1 }, (_, k) => {
    const v = (2 * k) / SHADES - 1, [a, b, u] = v < 0 ? [rgb[1], rgb[0], -v] : [rgb[1], rgb[2], v];
    return a.map((c, i) => Math.round(c + (b[i] - c) * u));
  });
}
const shadeOf = (st, v) => st.shades[Math.max(0, Math.min(SHADES, Math.round(((v + 1) / 2) * SHADES)))] || st.shades[SHADES >> 1];

// values (G * G, row 0 at the bottom) in [-1, 1] (times scale) as a G x G picture, top row first, in a
// scratch canvas of that size (draw it at once: the next picture of that size reuses it)
const SCRATCH = new Map();
function picture(st, values, G, scale = 1) {
  let s = SCRATCH.get(G);
  if (!s) {
    const c = document.createElement("canvas");
    c.width = c.height = G;
    const ctx = c.getContext("2d");
    s = { c, ctx, img: ctx.createImageData(G, G) };
    SCRATCH.set(G, s);
  }
  const data = s.img.data;
  for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) {
    const [r, g, b] = shadeOf(st, values[i * G + j] * scale), p = 4 * ((G - 1 - i) * G + j);
    data[p] = r; data[p + 1] = g; data[p + 2] = b; data[p + 3] = ALPHA;
  }
  s.ctx.putImageData(s.img, 0, 0);
  return s.c;
}

const signed = (p) => p.map((v) => 2 * v - 1); // P(class 1) on TensorFlow Playground's -1..1 scale

// The level-0.5 line of p (G x G) by marching squares: segments in grid units [j0, i0, j1, i1]
function contour(p, G, level) {
  const seg = [];
  for (let i = 0; i + 1 < G; i++) for (let j = 0; j + 1 < G; j++) {
    const v = [p[i * G + j], p[i * G + j + 1], p[(i + 1) * G + j + 1], p[(i + 1) * G + j]];
    const corner = [[j, i], [j + 1, i], [j + 1, i + 1], [j, i + 1]], cut = [];
    for (let e = 0; e < 4; e++) {
      const a = v[e] - level, b = v[(e + 1) % 4] - level;
      if ((a < 0) !== (b < 0) && Number.isFinite(a) && Number.isFinite(b)) {
        const u = a / (a - b), [x0, y0] = corner[e], [x1, y1] = corner[(e + 1) % 4];
        cut.push([x0 + u * (x1 - x0), y0 + u * (y1 - y0)]);
      }
    }
    if (cut.length >= 2) seg.push([...cut[0], ...cut[1]]);
    if (cut.length === 4) seg.push([...cut[2], ...cut[3]]);
  }
  return seg;
}

// ---- the state ------------------------------------------------------------------------------------

function decode(data) {
  const S = data.steps, R = data.runs.length, at = (a) => (t, r) => a[t * R + r];
  const d = { ...data, S, R };
  d.grid = gridPoints(d, data.density);
  d.thumbGrid = gridPoints(d, data.thumb_density);
  d.J = at(data.loss); d.Jtrain = at(data.train_loss); d.Jtest = at(data.test_loss); d.acc = at(data.acc); d.accTest = at(data.test_acc);
  d.Jp = at(data.projected); d.off = at(data.off);
  d.a = (t, r) => data.coords[2 * (t * R + r)];
  d.b = (t, r) => data.coords[2 * (t * R + r) + 1];
  d.projRange = logRange(data.loss, data.projected);
  d.lossRange = logRange(data.train_loss, data.test_loss);
  d.offMax = 1.08 * data.off.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, v) : m), 1e-12);
  d.gone = (t, r) => data.runs[r].diverged_at >= 0 && t >= data.runs[r].diverged_at;
  return d;
}

function init(parent) {
  const root = playbackRoot("ns", "Networks stage");
  const bar = el("div", "ns-bar");
  const btn = (text, title, box = bar) => {
    const b = el("button", "", text);
    b.type = "button"; b.title = title; b.setAttribute("aria-label", title);
    box.append(b);
    return b;
  };
  const controls = playbackControls(btn, "ns"), { play, step, speed } = controls;
  bar.append(step, speed);
  const present = btn("Present", "Present: the stage on the whole screen, its text larger (Esc leaves)");
  present.classList.add("ns-present");
  const head = el("div", "ns-head");
  const grid = el("div", "ns-grid");
  const planeBox = el("div", "ns-box ns-plane"), outBox = el("div", "ns-box ns-out");
  const netBox = el("div", "ns-box ns-net"), curveBox = el("div", "ns-box ns-curves");
  const planeTitle = el("div", "ns-title"), planeCanvas = el("canvas", "ns-canvas");
  const readout = el("div", "ns-readout"), projCanvas = el("canvas", "ns-canvas ns-small"), warn = el("div", "ns-warn");
  const view3d = el("div", "ns-3d");
  planeBox.append(planeTitle, planeCanvas, view3d, warn, readout, projCanvas);
  const outTitle = el("div", "ns-title"), outCanvas = el("canvas", "ns-canvas ns-draw");
  const tools = el("div", "ns-tools"), thumbs = el("div", "ns-thumbs");
  const drawMsg = el("div", "ns-msg"), legend = el("div", "ns-legend");
  outBox.append(outTitle, outCanvas, legend, tools, drawMsg, thumbs);
  const netTitle = el("div", "ns-title"), netCanvas = el("canvas", "ns-canvas");
  netBox.append(netTitle, netCanvas);
  const lossCanvas = el("canvas", "ns-canvas ns-curve"), accCanvas = el("canvas", "ns-canvas ns-curve");
  curveBox.append(lossCanvas, accCanvas);
  grid.append(planeBox, outBox, netBox, curveBox);
  const tip = el("div", "ns-tip");
  const lrMsg = el("div", "ns-lr-msg");
  const top = el("div", "ns-top"); // (kept in view while the stage scrolls: net_stage.css)
  top.append(bar, head, lrMsg);
  root.append(top, grid, tip);
  parent.append(root);
  const st = {
    root, bar, head, grid, play, step, speed, planeTitle, planeCanvas, view3d, readout, projCanvas, warn, outTitle,
    outCanvas, legend, tools, thumbs, drawMsg, netTitle, netCanvas, lossCanvas, accCanvas, tip,
    t: 0, run: 0, playing: false, raf: 0, d: null, version: null, showTest: false,
    mode: "", drawn: [], over: true, sendTimer: 0, cache: new Map(), lrMsg, lrSent: null,
    // viz/playback.js; Space and Enter on the η's − / + press them (every other key is the stage's)
    playback: { draw, faces: FACES, ownsKey: (e) => e.target.classList.contains("ns-lr-step") && [" ", "Enter"].includes(e.key) },
    present, presenting: false, overlay: false,
  };
  wirePlayback(st, controls);
  wirePresent(st);
  for (const c of [lossCanvas, accCanvas, projCanvas]) c.addEventListener("pointerdown", (e) => curveClick(st, c, e));
  outCanvas.addEventListener("pointerdown", (e) => drawAt(st, e));
  planeCanvas.addEventListener("pointermove", (e) => planeHover(st, e));
  planeCanvas.addEventListener("pointerleave", () => { tip.style.display = "none"; });
  buildTools(st);
  buildLr(st, btn);
  st.resize = new ResizeObserver(() => draw(st));
  st.resize.observe(root);
  root.netStage = st; // read by the browser tests (what is drawn at which step)
  return st;
}

// ---- present mode ----------------------------------------------------------------------------------
// The stage on the whole screen for a hall: the browser's full screen of the stage's root (Esc leaves),
// or, where full screen is refused (an iframe without allow="fullscreen"), a fixed full-window overlay
// (Esc leaves too). The plane, the output and the network side by side, the curves below, the text
// larger (textSize); the stage keeps the keys.
function wirePresent(st) {
  st.present.onclick = () => present(st, !st.presenting);
  const fullNow = () => st.root.getRootNode().fullscreenElement === st.root; // (a shadow root's own, else the document's)
  st.onFullscreen = () => { if (!st.overlay && fullNow() !== st.presenting) presentView(st, fullNow(), false); };
  st.onEscape = (e) => { if (e.key === "Escape" && st.presenting) { present(st, false); e.preventDefault(); } };
  document.addEventListener("fullscreenchange", st.onFullscreen);
  document.addEventListener("keydown", st.onEscape, true);
}

function present(st, on) {
  if (!on) {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    presentView(st, false, false);
    return;
  }
  const full = st.root.requestFullscreen ? st.root.requestFullscreen() : Promise.reject(new Error("no full screen"));
  full.then(() => presentView(st, true, false), () => presentView(st, true, true));
}

function presentView(st, on, overlay) {
  st.presenting = on; st.overlay = on && overlay;
  st.root.classList.toggle("present", on);
  st.root.classList.toggle("overlay", st.overlay);
  st.present.classList.toggle("on", on);
  st.present.textContent = on ? "Leave (Esc)" : "Present";
  st.root.scrollTop = 0;
  draw(st);
  st.root.focus({ preventScroll: true });
}

// the forward pass of the selected run at the kept step nearest below t (cached: playing back reuses it)
function state(st, r, grid = st.d.grid) {
  const d = st.d, q = Math.min(d.kept - 1, Math.floor(st.t / d.stride)), key = `${r}:${q}:${grid.G}`;
  let f = st.cache.get(key);
  if (!f) {
    f = forward(d, r, q, grid);
    f.step = Math.min(q * d.stride, d.S);
    if (st.cache.size > 64) st.cache.delete(st.cache.keys().next().value);
    st.cache.set(key, f);
  }
  return f;
}

// ---- drawing -------------------------------------------------------------------------------------

// ---- the text scale ---------------------------------------------------------------------------------
// One text size fs for the whole stage, read from the back of a hall: the canvases' fonts (ticks and
// names fs - 1, titles fs), the CSS's text (--fs) and the charts' margins (times fs / 13) all follow it.
// From the component's own width: 13 px up to 900 px wide (a phone, a laptop with the sidebar), 18 px
// at 1460 (a 1920 screen with the sidebar), 19 at most; in present mode the screen's, 19 px at 1366
// wide to 23 at 1920 and more (the Playground's presenter mode: 20).
const BASE_FS = 13;
function textSize(st) {
  const w = st.root.clientWidth, half = (v) => Math.round(2 * v) / 2;
  if (st.presenting && w >= NARROW) return half(Math.min(23, Math.max(19, 10.5 + w / 160)));
  if (st.presenting) return 15;
  return half(Math.min(19, Math.max(BASE_FS, BASE_FS + (w - 900) / 112)));
}
// a canvas's font: its stage's text size plus ``more`` px
const font = (ctx, more = -1, weight = "") => `${weight} ${ctx.canvas.fs + more}px ${FONT}`.trim();
// ``px`` at the stage's text size (a margin laid out for 13 px text)
const em = (ctx, px) => Math.round((px * ctx.canvas.fs) / BASE_FS);

function sizeCanvas(canvas, w, h) {
  const r = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * r) || canvas.height !== Math.round(h * r)) {
    canvas.width = Math.round(w * r); canvas.height = Math.round(h * r);
    canvas.style.width = w + "px"; canvas.style.height = h + "px";
  }
  const ctx = canvas.getContext("2d");
  canvas.fs = canvas.fs || BASE_FS;
  ctx.setTransform(r, 0, 0, r, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = font(ctx, 0);
  canvas.titleRight = 0; // the right end of the titles drawn on it (chart)
  return ctx;
}

function draw(st) {
  if (!st.d) return;
  const d = st.d, narrow = st.root.clientWidth < NARROW;
  st.root.classList.toggle("narrow", narrow);
  st.fs = textSize(st);
  st.root.style.setProperty("--fs", st.fs + "px");
  for (const c of st.root.querySelectorAll("canvas")) c.fs = st.fs;
  // every width read before anything is written (no layout forced between the canvases)
  const width = (c) => c.parentElement.clientWidth;
  st.widths = { plane: width(st.planeCanvas), out: width(st.outCanvas), net: width(st.netCanvas),
                curves: width(st.lossCanvas) };
  st.rooms = { plane: room(st, st.planeCanvas), out: room(st, st.outCanvas), net: room(st, st.netCanvas) };
  st.step.max = d.S; st.step.value = st.t;
  const r = st.run, f = state(st, r);
  headline(st);
  drawPlane(st);
  drawOutput(st, f);
  drawThumbs(st);
  drawNetwork(st, state(st, r, d.thumbGrid));
  drawCurves(st);
  draw3d(st);
  honesty(st);
  st.root.dataset.step = String(st.t);
  st.root.dataset.drawn = `${d.version}:${st.t}:${r}`;
}

// The height a canvas may take: in present mode down to the screen's bottom (the plane, the output and
// the network side by side, all on the screen), else the network up to most of the window's height.
function room(st, canvas) {
  if (st.presenting && !st.root.classList.contains("narrow")) return st.root.clientHeight - canvas.offsetTop - 12;
  return canvas === st.netCanvas ? Math.max(440, 0.8 * window.innerHeight) : Infinity;
}

// the headline (step, train and test loss, accuracy) and the run it is about: built once per data, then
// only its numbers change
function buildHead(st) {
  const d = st.d, stat = (name) => {
    const box = el("div", "ns-stat"), b = el("b");
    box.append(el("span", "", name), b);
    st.head.insertBefore(box, st.runBox);
    return b;
  };
  for (const c of [...st.head.children]) if (c !== st.runBox && c !== st.lrBox) c.remove();
  st.stats = [stat("Step"), stat("Train loss"), stat("Test loss"), stat("Train / test accuracy")];
  if (d.l2) st.stats.push(stat(`J with weight decay λ = ${fmt(d.l2)}`));
  st.pick.replaceChildren(...d.runs.map((run, i) => new Option(run.label, i)));
}

// The run shown (a menu) and its η with − and + (the values its card's slider offers, the payload's
// runs[r].lrs): built once, so a focused − or + keeps the keys while new data comes. A step shows the
// new η at once and asks the server for it (trigger lr {run, value}); the runs it trains arrive as data.
function buildLr(st, btn) {
  const runBox = el("div", "ns-stat ns-runpick"), pick = el("select");
  pick.setAttribute("aria-label", "Run shown in the output and the network");
  pick.onchange = () => { st.run = Number(pick.value); draw(st); };
  runBox.append(el("span", "", "Run shown"), pick);
  const lrBox = el("div", "ns-stat ns-lr"), row = el("div", "ns-lr-row");
  st.lrLabel = el("span", "", "Learning rate η");
  st.lrValue = el("b");
  st.lrDown = btn("−", "A smaller learning rate", row);
  row.append(st.lrValue);
  st.lrUp = btn("+", "A larger learning rate", row);
  for (const [b, by] of [[st.lrDown, -1], [st.lrUp, 1]]) {
    b.classList.add("ns-lr-step");
    b.onclick = () => stepLr(st, by);
  }
  lrBox.append(st.lrLabel, row);
  st.head.append(runBox, lrBox);
  Object.assign(st, { pick, runBox, lrBox });
}

// the η shown for the run shown: the one just asked for, until the data answers; else the data's
const lrShown = (st) => (st.lrSent && st.lrSent.run === st.run ? st.lrSent.value : st.d.runs[st.run].lr);

function stepLr(st, by) {
  const lrs = st.d.runs[st.run].lrs, j = lrs.indexOf(lrShown(st)) + by;
  if (j < 0 || j >= lrs.length) return;
  st.lrSent = { run: st.run, value: lrs[j] };
  showLr(st);
  st.api.setTriggerValue("lr", st.lrSent);
}

function showLr(st) {
  const r = st.run, lrs = st.d.runs[r].lrs, v = lrShown(st), j = lrs.indexOf(v);
  const busy = st.lrSent?.run === r && v !== st.d.runs[r].lr; // (a step there and back: the runs it has)
  st.lrValue.textContent = fmt(v, 3);
  st.lrLabel.textContent = busy ? "Learning rate η: training…" : "Learning rate η";
  st.lrBox.classList.toggle("pending", busy);
  st.lrBox.setAttribute("aria-busy", String(busy));
  st.lrDown.disabled = j <= 0;
  st.lrUp.disabled = j < 0 || j >= lrs.length - 1;
  for (const [b, k, words] of [[st.lrDown, j - 1, "down"], [st.lrUp, j + 1, "up"]]) {
    const text = b.disabled ? `η of run ${r + 1}: no step ${words} on its slider` : `η of run ${r + 1} ${words} to ${fmt(lrs[k], 3)}`;
    b.title = text; b.setAttribute("aria-label", text);
  }
}

function headline(st) {
  const d = st.d, t = st.t, r = st.run, [step, train, test, acc, J] = st.stats;
  step.textContent = `${t} / ${d.S}`;
  train.textContent = fmt(d.Jtrain(t, r), 4);
  if (J) J.textContent = fmt(d.J(t, r), 4);
  test.textContent = fmt(d.Jtest(t, r), 4);
  acc.textContent = `${fmt(100 * d.acc(t, r), 3)}% / ${fmt(100 * d.accTest(t, r), 3)}%`;
  st.pick.value = String(r);
  st.pick.style.borderLeft = `6px solid ${d.runs[r].color}`;
  showLr(st);
}

const square = (w, most = w) => Math.max(160, Math.min(w, most));

// the plane: its picture, the paths as far as each run got, the markers at step t, a readout beside
function drawPlane(st) {
  const d = st.d, p = d.plane, t = st.t, W = square(st.widths.plane, st.rooms.plane / 0.86), H = Math.round(W * 0.86);
  const ctx = sizeCanvas(st.planeCanvas, W, H), L = em(ctx, 58), T = em(ctx, 6), w = W - L - em(ctx, 78), h = H - T - em(ctx, 30);
  st.planeTitle.textContent = p.title;
  if (!st.planeImg || st.planeImg.dataset.src !== p.image) {
    st.planeImg = new Image();
    st.planeImg.dataset.src = p.image;
    st.planeImg.onload = () => drawPlane(st); // (the picture is all that changed)
    st.planeImg.src = p.image;
  }
  if (st.planeImg.complete && st.planeImg.naturalWidth) ctx.drawImage(st.planeImg, L, T, w, h);
  const [a0, a1] = p.a, [b0, b1] = p.b;
  const X = (a) => L + ((a - a0) / (a1 - a0)) * w, Y = (b) => T + ((b1 - b) / (b1 - b0)) * h;
  st.planeAxes = { X, Y, L, T, w, h };
  axes(ctx, [L, T, w, h], [a0, a1], [b0, b1], "a (first direction)", "b (second direction)");
  colorBar(st, ctx, [L + w + 12, T, em(ctx, 12), h]);
  for (const [text, a, b] of p.marks) label(ctx, text, X(a) + 6, Y(b) - 8);
  ctx.save();
  ctx.beginPath(); ctx.rect(L, T, w, h); ctx.clip();
  for (let r = d.R - 1; r >= 0; r--) {
    ctx.strokeStyle = d.runs[r].color; ctx.lineWidth = r === st.run ? 3 : 2.2;
    ctx.beginPath();
    for (let s = 0; s <= t && !d.gone(s, r); s++) {
      if (s) ctx.lineTo(X(d.a(s, r)), Y(d.b(s, r))); else ctx.moveTo(X(d.a(s, r)), Y(d.b(s, r)));
    }
    ctx.stroke();
  }
  ring(ctx, X(d.a(0, 0)), Y(d.b(0, 0)));
  const shown = [];
  for (let r = d.R - 1; r >= 0; r--) {
    let s = t;
    while (s > 0 && d.gone(s, r)) s--;
    const x = X(d.a(s, r)), y = Y(d.b(s, r));
    dot(ctx, x, y, r === st.run ? 8 : 6.5, d.runs[r].color);
    shown[r] = { run: r, step: s, a: d.a(s, r), b: d.b(s, r), x, y };
  }
  ctx.restore();
  st.markers = shown;
  readout(st);
  drawProjection(st);
}

// the plane's colour bar in ``box`` (its bands, lowest loss at the bottom), ticks in J, titled
function colorBar(st, ctx, [l, t, w, h]) {
  const p = st.d.plane, n = p.bands.length, y = (v) => t + ((p.hi - v) / (p.hi - p.lo)) * h;
  p.bands.forEach((c, k) => { ctx.fillStyle = c; ctx.fillRect(l, t + h - ((k + 1) * h) / n, w, h / n + 0.5); });
  ctx.strokeStyle = "#9a9ca5"; ctx.lineWidth = 1; ctx.strokeRect(l, t, w, h);
  ctx.fillStyle = "#555866"; ctx.font = font(ctx); ctx.textAlign = "left"; ctx.textBaseline = "middle";
  const labels = barTicks(p.lo, p.hi, t, h, em(ctx, LABEL_PX)), x = l + w + TICK + TICK_GAP;
  let widest = 0;
  for (const [text, ty] of labels) {
    ctx.fillText(text, x, ty); ctx.fillRect(l + w, ty, TICK, 1);
    widest = Math.max(widest, ctx.measureText(text).width);
  }
  st.planeBar = { box: [l, t, w, h], ticks: labels, text: x };
  const W = parseFloat(ctx.canvas.style.width), title = Math.max(l + w + em(ctx, 44), x + widest + em(ctx, 10));
  vertical(ctx, "J (loss, log scale)", Math.min(W - 0.6 * ctx.canvas.fs, title), t + h / 2, "#6b6f7b");
}

// the colour bar's labels: [J as text, its y] for the bar from t to t + h over log10 J from lo to hi,
// at least ``apart`` px apart (LABEL_PX at 13 px text)
const TICK = 3, TICK_GAP = 4, LABEL_PX = 30; // the tick mark, the space between it and its label
function barTicks(lo, hi, t, h, apart = LABEL_PX) {
  const y = (v) => t + ((hi - v) / (hi - lo)) * h, at = logTicks(lo, hi, Math.max(2, Math.floor(h / apart)));
  let digits = 3;
  while (digits < 8 && new Set(at.map((v) => fmt(Math.pow(10, v), digits))).size < at.length) digits++;
  return at.map((v) => [fmt(Math.pow(10, v), digits), y(v)]);
}

// ``text`` written upwards, centred on (x, y)
function vertical(ctx, text, x, y, color) {
  ctx.save(); ctx.translate(x, y); ctx.rotate(-Math.PI / 2);
  ctx.fillStyle = color; ctx.font = font(ctx); ctx.textAlign = "center"; ctx.textBaseline = "middle";
  ctx.fillText(text, 0, 0); ctx.restore();
}

function ring(ctx, x, y) {
  ctx.setLineDash([]); ctx.lineWidth = 2.5; ctx.strokeStyle = "#31333f";
  ctx.beginPath(); ctx.arc(x, y, 8, 0, 2 * Math.PI); ctx.stroke();
}

function dot(ctx, x, y, r, color, stroke = "white") {
  ctx.setLineDash([]);
  ctx.fillStyle = color; ctx.strokeStyle = stroke; ctx.lineWidth = 2;
  ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
}

function label(ctx, text, x, y) {
  ctx.font = font(ctx);
  const w = ctx.measureText(text).width, h = ctx.canvas.fs + 6;
  ctx.fillStyle = "rgba(255,255,255,0.85)"; ctx.fillRect(x - 3, y - h / 2, w + 6, h);
  ctx.fillStyle = "#31333f"; ctx.textBaseline = "middle"; ctx.fillText(text, x, y);
}

// at most n + 1 round values from lo to hi, each an integer times the step (no sums of steps: no drift)
function ticks(lo, hi, n) {
  const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n))), k = [1, 2, 5, 10].find((m) => (hi - lo) / (m * step) <= n) || 10;
  const s = k * step, out = [];
  for (let i = Math.ceil(lo / s - 1e-9); i <= Math.floor(hi / s + 1e-9); i++) out.push(Number((i * s).toPrecision(12)));
  return out;
}

// ticks of a log10 axis from lo to hi (log10 values), at most n and never closer than (hi - lo) / n:
// whole decades first (every 2nd, 5th... when they are many), then the 5s and 2s between them where they
// fit; when that gives fewer than 3, round values of J itself in even steps (a span of less than a decade)
const LOG10 = { 2: Math.log10(2), 5: Math.log10(5) };
function logTicks(lo, hi, n) {
  const gap = (hi - lo) / n, eps = 1e-9 * Math.max(1, Math.abs(lo), Math.abs(hi));
  const within = (v) => v >= lo - eps && v <= hi + eps;
  const k0 = Math.floor(lo), k1 = Math.ceil(hi), decades = [];
  for (let k = k0; k <= k1; k++) if (within(k)) decades.push(k);
  const every = [1, 2, 5, 10, 20, 50, 100].find((m) => decades.filter((k) => k % m === 0).length <= n) || 100;
  const wanted = decades.filter((k) => k % every === 0);
  if (every === 1) for (const m of [5, 2]) for (let k = k0; k <= k1; k++) if (within(k + LOG10[m])) wanted.push(k + LOG10[m]);
  const spaced = (list, least = gap) => {
    const kept = [];
    for (const v of list) if (kept.every((u) => Math.abs(u - v) >= least - eps)) kept.push(v);
    return kept.sort((a, b) => a - b);
  };
  const out = spaced(wanted);
  if (out.length >= 3) return out;
  const linear = (m) => ticks(Math.pow(10, lo), Math.pow(10, hi), m).filter((v) => v > 0).map(Math.log10);
  for (let m = n; m >= 2; m--) { // the finest even step of J whose ticks are 0.6 of that apart (a label's height)
    const even = linear(m);
    if (even.length >= 2 && spaced(even, 0.6 * gap).length === even.length) return even.length > out.length ? even : out;
  }
  const thinned = spaced(linear(n));
  return thinned.length > out.length ? thinned : out;
}

function axes(ctx, [l, t, w, h], [x0, x1], [y0, y1], xname, yname, logY) {
  ctx.strokeStyle = "#9a9ca5"; ctx.lineWidth = 1; ctx.setLineDash([]);
  ctx.strokeRect(l, t, w, h);
  ctx.fillStyle = "#555866"; ctx.font = font(ctx);
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const v of ticks(x0, x1, Math.max(4, Math.floor(w / em(ctx, 70))))) ctx.fillText(fmt(v, 3), l + ((v - x0) / (x1 - x0)) * w, t + h + 3);
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const v of (logY ? logTicks : ticks)(y0, y1, Math.max(2, Math.floor(h / em(ctx, 30))))) {
    ctx.fillText(logY ? fmt(Math.pow(10, v), 3) : fmt(v, 3), l - 4, t + ((y1 - v) / (y1 - y0)) * h);
  }
  ctx.textAlign = "left"; ctx.textBaseline = "alphabetic";
  if (xname) { ctx.fillStyle = "#6b6f7b"; ctx.fillText(xname, l + 4, t + h + em(ctx, 27)); }
  if (yname) vertical(ctx, yname, em(ctx, 8), t + h / 2, "#6b6f7b");
}

// beside the plane: each run's real loss, the plane's loss under its marker and its distance from the
// plane (the table built once per data, its cells updated)
function buildReadout(st) {
  const d = st.d, table = el("table"), head = el("tr");
  st.readStep = el("th");
  head.append(st.readStep, el("th", "", "J(w) the run's loss"), el("th", "", "J under its marker"),
    distanceHead(d));
  const body = el("tbody");
  st.readCells = d.runs.map((run) => {
    const row = el("tr"), name = el("td"), dot = el("i");
    dot.style.background = run.color;
    name.append(dot, run.label);
    const cells = [el("td"), el("td"), el("td")];
    row.append(name, ...cells);
    body.append(row);
    return cells;
  });
  const thead = el("thead");
  thead.append(head);
  table.append(thead, body);
  st.readout.replaceChildren(table);
}

// the distance column's header: Euclidean distance in weight space, not in the plane's axis units
function distanceHead(d) {
  const th = el("th", "", "distance from the plane");
  th.append(el("br"), el("small", "", `(${d.plane.units})`));
  return th;
}

function readout(st) {
  const d = st.d;
  st.readStep.textContent = `at step ${st.t}`;
  st.readCells.forEach(([J, Jp, off], r) => {
    const s = st.markers[r].step;
    J.textContent = fmt(d.J(s, r), 4); Jp.textContent = fmt(d.Jp(s, r), 4); off.textContent = fmt(d.off(s, r), 3);
  });
}

// the small chart: for every run its loss (solid) and the plane's loss under its projection (dotted),
// and the distance from the plane (below), the cursor at step t
function drawProjection(st) {
  const d = st.d, W = st.widths.plane, c = st.projCanvas, L = chartLeft(c), w = W - L - 16, line = titleLine(c);
  const loss = "J(w) of the run (solid), J under its marker (dotted)", off = `distance from the plane (${d.plane.units})`;
  const t1 = 4 + line * titleLines(c, loss, W - L).length, h1 = 84;
  const t2 = t1 + h1 + 1.55 * c.fs + line * titleLines(c, off, W - L).length, h2 = 72;
  const ctx = sizeCanvas(c, W, t2 + h2 + 1.55 * c.fs);
  const top = [L, t1, w, h1], bottom = [L, t2, w, h2];
  const [y0, y1] = d.projRange, omax = d.offMax;
  chart(ctx, st, top, [y0, y1], true, (r, s) => d.J(s, r), [], loss);
  chart(ctx, st, top, [y0, y1], true, (r, s) => d.Jp(s, r), [2, 3]);
  chart(ctx, st, bottom, [0, omax], false, (r, s) => d.off(s, r), [], off);
  st.projAxes = [top, bottom];
}

// a log10 axis's range over the positive finite values of the arrays, padded
function logRange(...arrays) {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays) for (const v of a) if (v > 0 && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  lo = Math.log10(lo); hi = Math.log10(hi);
  if (!Number.isFinite(lo)) { lo = -1; hi = 0; }
  if (hi - lo < 0.1) { lo -= 0.05; hi += 0.05; }
  return [lo - 0.04 * (hi - lo), hi + 0.04 * (hi - lo)];
}

// a chart's title in lines that fit ``width`` css px (a phone's canvas is narrow), split between words,
// at the stage's text size; titleLine: its lines' height
const titleFont = (ctx) => font(ctx, 0, "600"), titleLine = (canvas) => Math.round(1.25 * canvas.fs);
function titleLines(canvas, title, width) {
  const ctx = canvas.getContext("2d"), lines = [];
  ctx.font = titleFont(ctx);
  let line = "";
  for (const word of title.split(" ")) {
    const next = line ? line + " " + word : word;
    if (line && ctx.measureText(next).width > width) { lines.push(line); line = word; } else line = next;
  }
  return [...lines, line];
}

// one chart's lines, every run up to step t (each as far as it got), with axes and the cursor
function chart(ctx, st, box, [y0, y1], logY, value, dash, title) {
  const d = st.d, [l, t, w, h] = box, S = d.S || 1;
  if (title !== undefined) {
    axes(ctx, box, [0, S], [y0, y1], "", "", logY);
    const lines = titleLines(ctx.canvas, title, parseFloat(ctx.canvas.style.width) - l);
    ctx.fillStyle = "#31333f"; ctx.font = titleFont(ctx); ctx.textBaseline = "bottom";
    lines.forEach((line, k) => ctx.fillText(line, l, t - 3 - (lines.length - 1 - k) * titleLine(ctx.canvas)));
    ctx.canvas.titleRight = Math.max(ctx.canvas.titleRight || 0, ...lines.map((x) => l + ctx.measureText(x).width));
  }
  const X = (s) => l + (s / S) * w, Y = (v) => t + ((y1 - (logY ? Math.log10(v) : v)) / (y1 - y0)) * h;
  ctx.save(); ctx.beginPath(); ctx.rect(l, t, w, h); ctx.clip();
  for (let r = d.R - 1; r >= 0; r--) {
    ctx.strokeStyle = d.runs[r].color; ctx.lineWidth = r === st.run ? 2.6 : 1.8; ctx.setLineDash(dash);
    ctx.beginPath();
    let pen = false;
    for (let s = 0; s <= st.t; s++) {
      const v = value(r, s), y = Y(v);
      if (!Number.isFinite(y)) { pen = false; continue; }
      if (pen) ctx.lineTo(X(s), y); else { ctx.moveTo(X(s), y); pen = true; }
    }
    ctx.stroke();
  }
  ctx.setLineDash([4, 4]); ctx.strokeStyle = "#31333f"; ctx.lineWidth = 1.2;
  ctx.beginPath(); ctx.moveTo(X(st.t), t); ctx.lineTo(X(st.t), t + h); ctx.stroke();
  ctx.restore();
  ctx.setLineDash([]);
  // each run's value at step t as a dot on the cursor (at step 0: where every run starts); the dashed
  // series' dots hollow
  for (let r = d.R - 1; r >= 0; r--) {
    const y = Y(value(r, st.t));
    if (!(y >= t - 1 && y <= t + h + 1)) continue;
    const c = d.runs[r].color, size = r === st.run ? 4.5 : 3.5;
    if (dash.length) dot(ctx, X(st.t), y, size, "transparent", c); else dot(ctx, X(st.t), y, size, c);
  }
}

// the curves' left margin (their y ticks and no axis name)
const chartLeft = (canvas) => Math.round((44 * canvas.fs) / BASE_FS);

function curveClick(st, canvas, e) {
  const d = st.d;
  if (!d) return;
  const b = canvas.getBoundingClientRect(), x = e.clientX - b.left, L = chartLeft(canvas), w = b.width - L - 16;
  if (x >= L && x <= L + w) setStep(st, ((x - L) / w) * d.S, true);
}

// the output: P(class 1) shaded over the input plane, the boundary P = 0.5, the points
function drawOutput(st, f) {
  const d = st.d, W = square(st.widths.out, st.presenting ? st.rooms.out : 560), H = W;
  const ctx = sizeCanvas(st.outCanvas, W, H), L = em(ctx, 34), T = em(ctx, 4), w = W - L - 6, h = H - T - em(ctx, 22);
  const tail = f.step !== st.t ? ` (weights of step ${f.step})` : "";
  st.outTitle.textContent = `Output of run ${st.run + 1} at step ${st.t}${tail}: orange class 0, blue class 1, the line P = 0.5`;
  const pic = picture(st, signed(f.p), d.density);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(pic, L, T, w, h);
  const [[x0, x1], [y0, y1]] = d.bounds, G = d.density;
  const X = (x) => L + ((x - x0) / (x1 - x0)) * w, Y = (y) => T + ((y1 - y) / (y1 - y0)) * h;
  st.outAxes = { X, Y, L, T, w, h, x: (px) => x0 + ((px - L) / w) * (x1 - x0), y: (py) => y1 - ((py - T) / h) * (y1 - y0) };
  axes(ctx, [L, T, w, h], [x0, x1], [y0, y1]);
  ctx.strokeStyle = "#31333f"; ctx.lineWidth = 2.2;
  ctx.beginPath();
  const gx = (j) => L + (j / (G - 1)) * w, gy = (i) => T + h - (i / (G - 1)) * h;
  for (const [j0, i0, j1, i1] of contour(f.p, G, 0.5)) { ctx.moveTo(gx(j0), gy(i0)); ctx.lineTo(gx(j1), gy(i1)); }
  ctx.stroke();
  const cc = d.class_colors, pts = (s, stroke, rad) => {
    for (let k = 0; k < s.y.length; k++) dot(ctx, X(s.x[2 * k]), Y(s.x[2 * k + 1]), rad, cc[s.y[k] ? 2 : 0], stroke);
  };
  ctx.save(); ctx.beginPath(); ctx.rect(L, T, w, h); ctx.clip();
  const data = st.over || !d.over; // (a data set switched off here, not yet by the server: only your points)
  if (data && st.showTest) pts(d.test, "#31333f", 3.6);
  if (data) pts(d.train, "white", 3.6);
  for (const [x, y, c] of st.drawn) diamond(ctx, X(x), Y(y), DIAMOND, cc[c ? 2 : 0]);
  ctx.restore();
  pointLegend(st, data && st.showTest, st.drawn.length > 0);
}

// the user's own point: a diamond (half its diagonal r) in the class colour, white inside a dark edge
const DIAMOND = 7;
function diamond(ctx, x, y, r, color) {
  ctx.setLineDash([]);
  ctx.beginPath(); ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath();
  ctx.strokeStyle = "#31333f"; ctx.lineWidth = 4; ctx.stroke();
  ctx.strokeStyle = "white"; ctx.lineWidth = 1.6; ctx.stroke();
  ctx.fillStyle = color; ctx.fill();
}

// under the output, when test points or the user's points are shown: which marks are which
function pointLegend(st, test, drawn) {
  const key = `${test}:${drawn}`;
  st.legend.hidden = !test && !drawn;
  if (st.legend.dataset.key === key) return;
  st.legend.dataset.key = key;
  const mark = (svg, text) => { const s = el("span"); s.innerHTML = svg + " " + text; return s; };
  const disc = (stroke) => `<svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="6.3" fill="none" stroke="#c9cbd3"/>`
    + `<circle cx="7" cy="7" r="4.6" fill="#8a8d96" stroke="${stroke}" stroke-width="2"/></svg>`;
  st.legend.replaceChildren(mark(disc("white"), "training points"));
  if (test) st.legend.append(mark(disc("#31333f"), "test points (dark edge)"));
  if (drawn) st.legend.append(mark('<svg width="16" height="16" aria-hidden="true"><path d="M8 1.5 14.5 8 8 14.5 1.5 8Z" '
    + 'fill="#8a8d96" stroke="#31333f" stroke-width="1.6"/></svg>', "your own points"));
}

// every run's output as a small panel: click one to show it
function drawThumbs(st) {
  const d = st.d;
  if (st.thumbs.children.length !== d.R) {
    st.thumbs.replaceChildren(...d.runs.map((run, r) => {
      const c = el("canvas", "ns-thumb");
      c.title = `${run.label}: click to show this run`;
      c.onclick = () => { st.run = r; draw(st); };
      return c;
    }));
  }
  const S = d.R > 4 ? 72 : 92;
  d.runs.forEach((run, r) => {
    const c = st.thumbs.children[r], ctx = sizeCanvas(c, S, S), f = state(st, r, d.thumbGrid);
    ctx.drawImage(picture(st, signed(f.p), d.thumb_density), 0, 0, S, S);
    ctx.strokeStyle = run.color; ctx.lineWidth = r === st.run ? 6 : 3;
    ctx.strokeRect(0, 0, S, S);
  });
}

// the network: inputs, hidden units and the output, each as the map of its value over the input plane
// (TensorFlow Playground: links coloured by the weight's sign, as wide as |w| (1 to 10 px over 0..5))
function drawNetwork(st, f) {
  const d = st.d, W = Math.max(280, st.widths.net), cols = f.layers.length;
  const widest = Math.max(...d.hidden, d.features.length);
  st.netCanvas.style.display = widest > d.drawn_units ? "none" : "";
  if (widest > d.drawn_units) {
    st.netTitle.textContent = `This network has ${widest} units in a layer: the page draws networks of up to `
      + `${d.drawn_units} units a layer.`;
    return;
  }
  const fs = st.fs, m = st.netCanvas.getContext("2d"), inputs = d.features.map((n) => FEATURE_NAMES[n] || n);
  const names = [["inputs"], ...d.hidden.map((n, k) => [`layer ${k + 1}`, `(${n})`]), ["output"]];
  m.font = font(m);
  const wide = (texts) => Math.max(...texts.map((n) => m.measureText(n).width));
  const left = Math.max(20, 6 + Math.ceil(wide(inputs)));
  // the unit maps as large as the width and the height allowed allow (3 text heights at most); the
  // layers' names in two lines ("layer 1" over "(16)") where in one they would touch
  const sizeFor = (top) => Math.max(16, Math.min(3 * fs, Math.floor((W - 40) / (cols * 2.2)),
    Math.floor((st.rooms.net - top) / (widest * 1.22))));
  let top = Math.round(1.9 * fs), size = sizeFor(top);
  const twoLines = wide(names.map((n) => n.join(" "))) > (W - left - 20 - size) / (cols - 1) - 8;
  if (twoLines) { top += Math.round(1.2 * fs); size = sizeFor(top); }
  const gap = Math.round(size * 0.22);
  const H = widest * (size + gap) + top + 6;
  const ctx = sizeCanvas(st.netCanvas, W, H);
  const colX = (k) => left + (k / (cols - 1)) * (W - left - 20 - size);
  st.netTitle.textContent = `Network of run ${st.run + 1} at step ${st.t}: each unit's output over the input `
    + "plane; links blue for positive weights, orange for negative, as thick as |w|";
  const units = f.layers.map((layer, k) => layer.map((_, u) => {
    const x = colX(k), y = top + ((widest - layer.length) / 2 + u) * (size + gap);
    return { x, y };
  }));
  const R = d.R, D = d.dim, q = Math.min(d.kept - 1, Math.floor(st.t / d.stride));
  const w = d.weights.subarray((q * R + st.run) * D, (q * R + st.run + 1) * D);
  const sizes = [d.features.length, ...d.hidden, 1];
  let off = 0;
  for (let k = 0; k + 1 < sizes.length; k++) {
    const inp = sizes[k], out = sizes[k + 1];
    for (let o = 0; o < out; o++) for (let c = 0; c < inp; c++) {
      const v = w[off + o * inp + c], a = units[k][c], b = units[k + 1][o];
      const [r, g, bl] = shadeOf(st, Math.max(-1, Math.min(1, v)));
      ctx.strokeStyle = `rgb(${r},${g},${bl})`;
      ctx.lineWidth = 1 + 9 * Math.min(1, Math.abs(v) / 5);
      ctx.beginPath();
      const x0 = a.x + size + 1, y0 = a.y + size / 2, x1 = b.x - 1, y1 = b.y + size / 2, mx = (x0 + x1) / 2;
      ctx.moveTo(x0, y0); ctx.bezierCurveTo(mx, y0, mx, y1, x1, y1);
      ctx.stroke();
    }
    off += out * (inp + 1);
  }
  const maps = [...f.layers.slice(0, -1), [signed(f.p)]];
  st.unitMaps = [];
  maps.forEach((layer, k) => layer.forEach((values, u) => {
    const { x, y } = units[k][u];
    let scale = 1;
    if (k === 0) scale = 1 / values.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12); // an input: its own range
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(picture(st, values, d.thumb_density, scale), x, y, size, size);
    ctx.strokeStyle = "#31333f"; ctx.lineWidth = 1; ctx.strokeRect(x, y, size, size);
    st.unitMaps.push({ layer: k, unit: u, x, y, size });
  }));
  ctx.fillStyle = "#555866"; ctx.font = font(ctx); ctx.textAlign = "center"; ctx.textBaseline = "bottom";
  st.netNames = []; // where each name's lines are (read by the browser tests)
  names.forEach((n, k) => {
    const lines = twoLines ? n : [n.join(" ")], x = colX(k) + size / 2;
    lines.forEach((line, i) => {
      const y = top - 0.45 * fs - (lines.length - 1 - i) * 1.2 * fs, half = ctx.measureText(line).width / 2;
      ctx.fillText(line, x, y);
      st.netNames.push({ text: line, left: x - half, right: x + half, top: y - fs, bottom: y });
    });
  });
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  st.inputLabels = inputs.map((n, c) => {
    const x = units[0][c].x - 3;
    ctx.fillText(n, x, units[0][c].y + size / 2);
    return { text: n, left: x - ctx.measureText(n).width };
  });
  ctx.textAlign = "left";
}

function drawCurves(st) {
  const d = st.d, narrow = st.root.classList.contains("narrow");
  const W = st.widths.curves, each = narrow ? W : Math.floor((W - 16) / 2), c = st.lossCanvas, L = chartLeft(c);
  const logs = d.lossRange, h = Math.round(162 * Math.sqrt(c.fs / BASE_FS)), below = Math.round(2 * c.fs);
  const titled = 4 + titleLine(c) * titleLines(c, "Cross-entropy: train (solid), test (dashed)", each - L).length;
  const loss = sizeCanvas(c, each, titled + h + below), box = [L, titled, each - L - 16, h];
  chart(loss, st, box, logs, true, (r, s) => d.Jtrain(s, r), [], "Cross-entropy: train (solid), test (dashed)");
  chart(loss, st, box, logs, true, (r, s) => d.Jtest(s, r), [6, 4]);
  const acc = sizeCanvas(st.accCanvas, each, titled + h + below);
  chart(acc, st, box, [0, 1.02], false, (r, s) => d.acc(s, r), [], "Accuracy: train (solid), test (dashed)");
  chart(acc, st, box, [0, 1.02], false, (r, s) => d.accTest(s, r), [6, 4]);
}

// the runs whose loss at step t and the plane's loss under their marker differ by more than one colour
// band of the plane's picture (in log10 of the loss): [run, the difference]
function mismatched(d, t) {
  const out = [];
  for (let r = 0; r < d.R; r++) {
    const gap = Math.abs(Math.log10(d.J(t, r)) - Math.log10(d.Jp(t, r)));
    if (Number.isFinite(gap) && gap > d.plane.resolution) out.push([r, gap]);
  }
  return out;
}

// the words under the plane: where the plane's colours under a marker differ from the run's loss by more
// than the colour scale resolves, and the server's notes on the plane
function honesty(st) {
  const d = st.d, res = d.plane.resolution, out = [];
  const bits = [];
  let worst = 0;
  for (const [r, gap] of mismatched(d, st.t)) {
    const J = d.J(st.t, r), Jp = d.Jp(st.t, r);
    worst = Math.max(worst, gap);
    bits.push(`run ${r + 1} had J = ${fmt(J)} where the colour under its marker means ${fmt(Jp)} `
      + `(${fmt(d.off(st.t, r))} off the plane)`);
  }
  if (bits.length) {
    out.push(`At step ${st.t} the plane's colours under the markers are not the loss the runs had: `
      + `${bits.join("; ")}. They differ up to ${fmt(Math.pow(10, worst), 3)}×, more than one colour band `
      + `(${fmt(Math.pow(10, res), 3)}×) resolves: the paths are projections.`);
  }
  st.warn.innerHTML = "";
  for (const text of [...d.notes, ...out]) st.warn.append(el("p", "", text));
  st.warn.hidden = !st.warn.childElementCount;
  st.root.dataset.mismatch = String(bits.length);
}

function planeHover(st, e) {
  if (!st.d || !st.markers) return;
  const b = st.planeCanvas.getBoundingClientRect(), x = e.clientX - b.left, y = e.clientY - b.top;
  let best = null;
  for (const m of st.markers) if (m && Math.hypot(m.x - x, m.y - y) < 14 && !best) best = m;
  if (!best) { st.tip.style.display = "none"; return; }
  const d = st.d, r = best.run, s = best.step;
  st.tip.innerHTML = `<b>${d.runs[r].label}</b>, step ${s}<br>J(w), the run's loss: ${fmt(d.J(s, r), 4)}`
    + `<br>J under the marker (projection): ${fmt(d.Jp(s, r), 4)}<br>distance from the plane: ${fmt(d.off(s, r), 3)} (${d.plane.units})`;
  const rb = st.root.getBoundingClientRect();
  st.tip.style.display = "block";
  st.tip.style.left = Math.min(e.clientX - rb.left + 14, rb.width - st.tip.offsetWidth - 4) + "px";
  st.tip.style.top = e.clientY - rb.top + 14 + "px";
}

// the 3-D view (when the page asks for it): the plane's log10 loss as a surface, each run's projected
// path on it up to step t (Plotly, loaded on first use; redrawn at most every 250 ms while playing)
function draw3d(st) {
  const d = st.d, sf = d.surface;
  st.view3d.hidden = !sf;
  if (!sf) { if (window.Plotly && st.view3d.data) Plotly.purge(st.view3d); return; }
  if (!window.Plotly) { loadPlotly(appPlotly(d.plotly_version)).then(() => draw(st)); return; }
  const now = performance.now();
  if (st.playing && now - (st.last3d || 0) < 250) return;
  st.last3d = now;
  const n = sf.n, rows = Array.from({ length: n }, (_, i) => Array.from(sf.z.subarray(i * n, (i + 1) * n)));
  const traces = [{ type: "surface", x: Array.from(sf.a), y: Array.from(sf.b), z: rows, colorscale: "Viridis",
    showscale: false, opacity: 0.85, hoverinfo: "skip" }];
  for (let r = 0; r < d.R; r++) {
    const x = [], y = [], z = [];
    for (let s = 0; s <= st.t && !d.gone(s, r); s++) { x.push(d.a(s, r)); y.push(d.b(s, r)); z.push(Math.log10(d.Jp(s, r))); }
    traces.push({ type: "scatter3d", mode: "lines", x, y, z, name: d.runs[r].label, line: { color: d.runs[r].color, width: 6 },
      hoverinfo: "skip" });
    traces.push({ type: "scatter3d", mode: "markers", x: x.slice(-1), y: y.slice(-1), z: z.slice(-1), showlegend: false,
      marker: { color: d.runs[r].color, size: 5, line: { color: "white", width: 1 } }, hoverinfo: "skip" });
  }
  const W = st.widths.plane, layout = {
    width: W, height: Math.round(W * 0.8), margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false, uirevision: "keep",
    font: { family: FONT, size: st.fs - 1 }, // the stage's text size, as its canvases
    scene: { xaxis: { title: { text: "a" } }, yaxis: { title: { text: "b" } }, zaxis: { title: { text: "log10 J" } } },
  };
  Plotly.react(st.view3d, traces, layout, { displayModeBar: false, responsive: false });
}

// ---- your own points --------------------------------------------------------------------------------

function buildTools(st) {
  const modes = [["0", "+ orange (class 0)"], ["1", "+ blue (class 1)"], ["erase", "Erase"]];
  st.modeButtons = modes.map(([mode, text]) => {
    const b = el("button", "", text);
    b.type = "button";
    b.onclick = () => { st.mode = st.mode === mode ? "" : mode; tools(st); };
    return b;
  });
  const clear = el("button", "", "Clear my points");
  clear.type = "button";
  clear.onclick = () => { st.drawn = []; changed(st); };
  const over = el("label", "ns-check"), box = el("input");
  box.type = "checkbox"; box.checked = true;
  box.onchange = () => { st.over = box.checked; changed(st); };
  over.append(box, " over the data set");
  const test = el("label", "ns-check"), tbox = el("input");
  tbox.type = "checkbox";
  tbox.onchange = () => { st.showTest = tbox.checked; draw(st); };
  test.append(tbox, " test points");
  st.overBox = over.firstChild;
  st.tools.append(el("span", "ns-tools-label", "Draw:"), ...st.modeButtons, clear, over, test);
  tools(st);
}

function tools(st) {
  st.modeButtons.forEach((b, k) => b.classList.toggle("on", ["0", "1", "erase"][k] === st.mode));
  st.outCanvas.classList.toggle("drawing", !!st.mode);
}

function drawAt(st, e) {
  if (!st.d || !st.mode || !st.outAxes) return;
  const b = st.outCanvas.getBoundingClientRect(), A = st.outAxes, px = e.clientX - b.left, py = e.clientY - b.top;
  if (px < A.L || px > A.L + A.w || py < A.T || py > A.T + A.h) return;
  if (st.mode === "erase") {
    st.drawn = st.drawn.filter(([x, y]) => Math.hypot(A.X(x) - px, A.Y(y) - py) > 12);
  } else if (st.drawn.length >= st.d.max_points) {
    st.drawMsg.textContent = `At most ${st.d.max_points} points of your own: erase some first.`;
    return;
  } else {
    st.drawn.push([Number(A.x(px).toFixed(2)), Number(A.y(py).toFixed(2)), Number(st.mode)]);
  }
  changed(st);
}

// repaint at once; the server hears of it once the clicks stop (then it trains on the new data). A blank
// plane needs a few points of both classes first.
const BLANK_LEAST = 4;
function changed(st) {
  const n = st.drawn.length, classes = new Set(st.drawn.map((p) => p[2])).size;
  clearTimeout(st.sendTimer);
  draw(st);
  if (asSent(st)) { st.drawMsg.textContent = drawnNote(st); return; } // the runs already have these
  if (!st.over && (n < BLANK_LEAST || classes < 2)) {
    st.drawMsg.textContent = `A blank plane: draw at least ${BLANK_LEAST} points of both classes to train on them.`;
    return;
  }
  st.drawMsg.textContent = `${n} point${n === 1 ? "" : "s"} of your own`
    + (st.over ? " over the data set" : " on a blank plane") + ": training on them…";
  st.sendTimer = setTimeout(() => st.api.setTriggerValue("points", { points: st.drawn, over: st.over }), SEND_AFTER_MS);
}

// whether the points and the over flag are what the server last trained on (the payload's)
function asSent(st) {
  const d = st.d, sent = d.drawn || [];
  return st.over === (d.over !== false) && st.drawn.length === sent.length
    && st.drawn.every((p, k) => p.every((v, i) => v === sent[k][i]));
}

const drawnNote = (st) => (st.drawn.length ? `${st.drawn.length} points of your own` : "");

// ---- entry -----------------------------------------------------------------------------------------

export default function (component) {
  performance.mark("net_stage:data"); // (marks for scripts/bench_networks_page.py: data in, painted)
  const { parentElement, setTriggerValue } = component, data = unpack(component.data);
  let st = STATES.get(parentElement), first = false;
  if (!st) {
    st = init(parentElement);
    STATES.set(parentElement, st);
    first = true;
  }
  st.api = { setTriggerValue };
  if (data.version !== st.version) {
    const old = st.d;
    st.d = decode(data);
    st.version = data.version;
    st.cache.clear();
    st.shades = shadeTable(data.class_colors);
    buildHead(st);
    buildReadout(st);
    if (!old) st.t = 0;
    st.t = Math.min(st.t, st.d.S);
    st.run = Math.min(st.run, st.d.R - 1);
    st.drawn = (data.drawn || []).map((p) => [...p]);
    st.over = data.over !== false;
    st.overBox.checked = st.over;
    st.drawMsg.textContent = drawnNote(st);
    if (data.problem) st.drawMsg.textContent = data.problem;
    st.lrSent = null; // (the data answers the η step: it holds that η, or says why not)
    st.lrMsg.textContent = data.lr_problem || "";
  }
  draw(st);
  if (first) takeFocus(st); // Space plays at once, unless the viewer is already in another input
  performance.mark("net_stage:drawn", { detail: st.version }); // (the data's version: what a bench waits for)
  return () => {
    setTimeout(() => {
      if (st.root.isConnected) return;
      pause(st);
      st.resize.disconnect();
      document.removeEventListener("fullscreenchange", st.onFullscreen);
      document.removeEventListener("keydown", st.onEscape, true);
      clearTimeout(st.sendTimer);
      STATES.delete(parentElement);
    }, 0);
  };
}

// for tests/test_net_stage.py (run in Node): the payload as the stage reads it and its forward pass
export { barTicks, decode, forward, logTicks, mismatched };
