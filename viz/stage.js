// The stage: map, loss chart, 3-D view and step-exact playback, drawn in the browser from
// viz/stage.py's payload (its fields: viz/stage.py FIELDS). One ES module for three hosts:
//   - the Playground (a Streamlit components.v2 module: the default export called with the component),
//   - a notebook (an anywidget module: the default export called with no argument returns { render }),
//   - a saved page (descent_lab/page.py: the page's own module calls mount(element, bytes, host)).
// It stays mounted: a new payload updates it in place (Plotly.react), and what only the browser needs
// (the step, play / pause, a learning-rate slider being dragged) asks nobody. What the viewer does is
// reported to the host (host.report(name, value)) when the host answers it (host.answers): lr {run, lr}
// when a drag ends, start {x, y} (a click or the dragged start ring), show3d, explain, present, speed.
// What a host does not answer the stage does itself where its payload allows: 3-D and explain toggle
// when their data is there, present is the browser's full screen, a start click is not offered.
// unpack, loadPlotly, appPlotly and el: viz/payload.js; the playback (keys, steps, Play and its pace) and svg:
// viz/playback.js. viz/stage.py module_text puts both in front of this file.

const REPORTS = ["lr", "start", "show3d", "explain", "present", "speed"];
const FONT = '"Source Sans", "Source Sans Pro", sans-serif'; // the page's, for what the canvases write
// a plain click on the map only gives the stage the keys; the start moves by the ring or a Shift+click
const MOVE_START = "Move the start: drag the ring, or Shift+click the map. Keys: Space plays, Left / Right step.";
const STATES = new WeakMap(); // parentElement -> the stage's state, kept across data updates
const FACES = { play: svg("M3 1.5v11l9-5.5z") + " Play", pause: svg("M3 2h3v10H3zM8 2h3v10H8z") + " Pause" }; // Play's button

const fmt = (v, d = 4) => (Number.isFinite(v) ? Number(v.toPrecision(d)).toString() : "–");

function decode(data) {
  const S = data.steps, K = data.kept, k = data.stride;
  const kept = new Float64Array(K);
  for (let i = 0; i < K; i++) kept[i] = Math.min(i * k, S);
  const runs = data.runs.map((r) => {
    const path = r.path, fam = r.fam_path, famGap = r.fam_gap;
    const R = r.lrs.length;
    return {
      ...r, R,
      x: path.subarray(0, S + 1), y: path.subarray(S + 1), loss: r.loss, gapv: r.gap,
      grad: r.grad, z: r.z || null, famZ: r.fam_z || null,
      xp: r.explain ? r.explain.values : null,
      fam, famGap,
    };
  });
  return { ...data, S, K, k, kept, runs, hoverF: data.hover_f, z3: data.grid3d ? data.grid3d.z : null };
}

// The run as drawn at learning-rate index j: exact arrays for the server's own lr, else the family row
// (step-exact too, with its loss, gradients and explain numbers, when the payload has every_lr).
function series(st, i) {
  const d = st.d, r = d.runs[i], j = st.lr[i], S = d.S;
  if (j === r.index) {
    const n = S + 1;
    const steps = Float64Array.from({ length: n }, (_, t) => t);
    return { exact: true, x: r.x, y: r.y, gap: r.gapv, z: r.z, steps, n, div: r.diverged[j], label: r.labels[j],
             loss: r.loss, grad: r.grad, xp: r.xp, code: null };
  }
  const K = d.K, base = j * 2 * K, every = !!r.fam_grad, C = r.explain ? r.explain.columns : 0;
  const row = (a, n) => (a ? a.subarray(j * n, (j + 1) * n) : null);
  return {
    exact: every, x: r.fam.subarray(base, base + K), y: r.fam.subarray(base + K, base + 2 * K),
    gap: row(r.famGap, K), z: row(r.famZ, K), steps: d.kept, n: K, div: r.diverged[j], label: r.labels[j],
    loss: row(r.fam_loss, S + 1), grad: row(r.fam_grad, 2 * S), xp: row(r.fam_xp, C * 2 * S),
    code: r.fam_code ? r.fam_code[j] : null,
  };
}

// index into a series' arrays of step t (the last kept step <= t for a thinned family)
const at = (s, t, k) => (s.exact ? t : Math.min(s.n - 1, Math.floor(t / k)));

function init(parent) {
  const root = playbackRoot("stage", "Map of the runs");
  const main = el("div", "stage-main");
  const map = el("div", "stage-map"), view3d = el("div", "stage-3d");
  const mapBox = el("div", "stage-mapbox"), mapCanvas = el("canvas", "stage-overlay"), land = el("div", "stage-land");
  mapBox.append(land, map, mapCanvas);
  const bar = el("div", "stage-bar");
  const btn = (label, title, cls) => {
    const b = el("button", cls, label);
    b.type = "button";
    b.title = title;
    b.setAttribute("aria-label", title);
    bar.append(b);
    return b;
  };
  const controls = playbackControls(btn, "stage"), { play, step, speed } = controls;
  const label = el("span", "stage-label", "step 0");
  bar.append(step, label);
  const tools = el("div", "stage-bar stage-tools");
  tools.append(speed);
  const tool = (label, title) => { const b = btn(label, title); tools.append(b); return b; };
  const whole = tool("Whole paths", "Show whole paths, not only what the runs have reached");
  const b3d = tool("3-D", "3-D view");
  const beside = tool("Map + 3-D", "Map and 3-D side by side (else the 3-D takes the map's place, at its size)");
  const present = tool("Present", "Presenter mode: big map, no sidebar (Esc leaves)");
  const bExplain = tool("Explain", "Explain mode: the update rule with this step's numbers");
  main.append(mapBox, bar, view3d);
  const side = el("div", "stage-side"), runs = el("div", "stage-runs"), loss = el("div", "stage-loss");
  const lossBox = el("div", "stage-lossbox"), lossCanvas = el("canvas", "stage-overlay");
  lossBox.append(loss, lossCanvas);
  const note = el("div", "stage-note", MOVE_START);
  const explainBox = el("div", "stage-explain");
  explainBox.hidden = true;
  side.append(tools, runs, explainBox, lossBox, note);
  const tip = el("div", "stage-tip");
  root.append(main, side, tip);
  parent.append(root);

  const st = {
    root, map, view3d, loss, runs, tip, bar, tools, note, mapCanvas, lossCanvas, lossBox, land, stepInput: step, label, play, speed, whole, b3d, beside, present,
    bExplain, explainBox, xpRun: 0, xpForm: "course",
    t: 0, playing: false, wholePaths: false, preview: new Set(), lr: [], d: null, version: null,
    busy: false, dirty: false, last3d: 0, drag: null, raf: 0,
    // playback (viz/playback.js): a learning-rate box keeps its keys; a step or Play the viewer picks ends
    // the previews of dragged learning rates
    playback: { draw, faces: FACES, ownsKey: (e) => e.target.classList.contains("lr-input"),
                onViewer: (st) => st.preview.clear() },
  };
  wirePlayback(st, controls);
  speed.onchange = () => report(st, "speed", speed.value);
  whole.onclick = () => { st.wholePaths = !st.wholePaths; draw(st); };
  b3d.onclick = () => setView(st, "show3d", !st.show3d);
  beside.onclick = () => { st.beside3d = !st.beside3d; viewClasses(st); draw(st); }; // the browser's own choice
  present.onclick = () => setView(st, "present", !st.presenting);
  bExplain.onclick = () => setView(st, "explain", !st.explain);
  lossBox.addEventListener("pointerdown", (e) => {
    const A = st.lossAxes && st.lossAxes[0], b = st.loss.getBoundingClientRect();
    if (!A) return;
    const x = A.x(e.clientX - b.left);
    if (x >= 0 && x <= st.d.S) setStep(st, x, true);
  });
  map.addEventListener("pointerdown", (e) => pointerDown(st, e), true);
  map.addEventListener("pointermove", (e) => pointerMove(st, e));
  map.addEventListener("pointerup", (e) => pointerUp(st, e));
  map.addEventListener("pointerleave", () => { if (!st.drag) tip.style.display = "none"; });
  st.onKey = (e) => { if (e.key === "Escape" && st.presenting && answers(st, "present")) report(st, "present", false); };
  document.addEventListener("keydown", st.onKey);
  st.onFullscreen = () => { // the page's presenter mode is the browser's full screen (Esc leaves it)
    const on = document.fullscreenElement === root;
    if (on !== st.presenting && !answers(st, "present")) { st.presenting = on; viewClasses(st); draw(st); }
  };
  document.addEventListener("fullscreenchange", st.onFullscreen);
  st.onResize = () => draw(st);
  root.stageRuns = () => st.info || []; // what the map shows of each run (read by the browser tests)
  window.addEventListener("resize", st.onResize);
  return st;
}

// ---- figures ---------------------------------------------------------------------------------

function panels(d) {
  const n = d.multiples ? d.runs.length : 1, cols = Math.min(n, 3), rows = Math.ceil(n / cols);
  return { n, cols, rows };
}

function axisName(p) { return p === 0 ? ["x", "y"] : ["x" + (p + 1), "y" + (p + 1)]; }

// The map's height limit: the window below the stage's top (under the top bar, a lesson's question or
// presenter mode's lesson line) less the playback bar, so Play stays above the fold (a phone: near square).
function mapLimit(st) {
  const w = window.innerWidth, h = window.innerHeight;
  if (w <= 720) return Math.min(0.95 * w, 0.7 * h);
  return Math.max(340, h - pageTop(st.root) - st.bar.offsetHeight - 14);
}

// Presenter mode's text sizes (read from the back of a hall), except on a phone's narrow screen.
const hallText = (st) => st.presenting && window.innerWidth > 720;

// An element's top in the page (not the window): its place below whatever scrolls above it.
function pageTop(e) {
  let top = e.getBoundingClientRect().top + window.scrollY;
  for (let a = e.parentElement; a; a = a.parentElement) top += a.scrollTop;
  return top;
}

// Explain mode in presenter mode: the panel at the stage's text size, in the column beside the map where
// the runs, the panel and a loss chart fit in the window's height, else in a column of its own (the map
// narrows) so the loss chart stays on the screen.
function placeExplain(st) {
  const box = st.explainBox, side = st.root.querySelector(".stage-side");
  const need = st.tools.offsetHeight + st.runs.offsetHeight + box.offsetHeight + LOSS_MIN + 40;
  const apart = !!(st.explain && st.presenting && window.innerWidth > 720 &&
                   pageTop(st.root) + need > window.innerHeight);
  st.root.classList.toggle("xp-apart", apart);
  // apart: the map's column no wider than the map the window's height allows (the rest to the panel)
  if (apart) st.root.style.setProperty("--map-w", Math.ceil(mapFullWidth(st)) + "px");
  if (apart && box.parentElement === side) st.root.insertBefore(box, side);
  else if (!apart && box.parentElement !== side) side.insertBefore(box, st.lossBox);
}
// the loss chart's height that keeps the explain panel beside the runs in presenter mode (else apart)
const LOSS_MIN = 300;

// The map's margins, colour bar and gaps (px) at the stage's text size.
function mapFrame(st) {
  const d = st.d, fs = hallText(st) ? 20 : 14, narrow = window.innerWidth <= 720;
  // margins fixed (no autoexpand): the overlay computes the same axes as Plotly draws
  // t: room for half the top y tick label (Plotly hides a label that would cross the div's edge)
  const m = { l: fs * (narrow ? 2.6 : 3.6), r: 4, t: d.multiples ? fs * 2.2 : Math.ceil(fs * 0.8), b: fs * 3.2,
              autoexpand: false };
  // colour bar: its labels and title fit
  return { fs, narrow, m, cbw: fs * (narrow ? 5.6 : 6), gx: fs * 3.5, gy: fs * 4 };
}

// The map div's width when the window's height is all that limits the map.
function mapFullWidth(st) {
  const [x0, x1, y0, y1] = st.d.domain, { m, cbw, gx, gy } = mapFrame(st), { cols, rows } = panels(st.d);
  const ph = (mapLimit(st) - m.t - m.b - gy * (rows - 1)) / rows;
  return m.l + m.r + cbw + gx * (cols - 1) + cols * ph * (x1 - x0) / (y1 - y0);
}

// The loss chart's height: down to the map column's bottom (or the explain column's, when apart).
function lossHeight(st) {
  if (window.innerWidth <= 720) return 260;
  const inSide = st.explainBox.parentElement !== st.root;
  const column = Math.max(st.map.offsetHeight + st.bar.offsetHeight, inSide ? 0 : st.explainBox.offsetHeight);
  return Math.max(st.explain ? 160 : 220, column - st.runs.offsetHeight - st.tools.offsetHeight
                  - (inSide ? st.explainBox.offsetHeight : 0) - 56);
}

// Axes sized to the domain's aspect (x and y to the same scale) and as large as the space allows,
// the colour bar right beside them; the map's div takes exactly the height they need.
function mapLayout(st) {
  const d = st.d, [x0, x1, y0, y1] = d.domain, { fs, narrow, m, cbw, gx, gy } = mapFrame(st);
  const { n, cols, rows } = panels(d);
  // the 3-D view in the map's place, at its size; or beside it where the column is wide, else below the bar
  const besideMap = st.show3d && !!st.beside3d;
  st.root.classList.toggle("wide3d", besideMap && st.root.querySelector(".stage-main").clientWidth >= 1000);
  const W = Math.max(200, st.map.clientWidth), H = mapLimit(st);
  const aspect = (y1 - y0) / (x1 - x0);
  const availW = W - m.l - m.r - cbw - gx * (cols - 1), availH = H - m.t - m.b - gy * (rows - 1);
  const pw = Math.max(60, Math.min(availW / cols, availH / rows / aspect)), ph = pw * aspect;
  const inW = W - m.l - m.r, inH = rows * ph + gy * (rows - 1);
  const height = Math.round(inH + m.t + m.b);
  st.map.style.height = height + "px";
  st.view3d.style.height = (!besideMap || st.root.classList.contains("wide3d") ? height : Math.round(0.7 * H)) + "px";
  const layout = {
    width: W, height, autosize: false, margin: m,
    font: { size: fs }, showlegend: false, hovermode: false, dragmode: false, plot_bgcolor: "rgba(0,0,0,0)",
    paper_bgcolor: "rgba(0,0,0,0)", annotations: [], uirevision: "keep",
  };
  for (let p = 0; p < n; p++) {
    const [xa, ya] = axisName(p), c = p % cols, r = Math.floor(p / cols);
    const left = (c * (pw + gx)) / inW, top = (r * (ph + gy)) / inH;
    layout["xaxis" + xa.slice(1)] = {
      domain: [left, left + pw / inW], range: [x0, x1], title: { text: "x", standoff: 2 },
      showgrid: false, zeroline: false, anchor: ya, fixedrange: true, ticks: "outside", ticklen: 4,
    };
    layout["yaxis" + ya.slice(1)] = {
      domain: [Math.max(0, 1 - top - ph / inH), 1 - top], range: [y0, y1], title: { text: "y", standoff: 2 },
      showgrid: false, zeroline: false, anchor: xa, fixedrange: true, ticks: "outside", ticklen: 4,
    };
    if (d.multiples) {
      layout.annotations.push({ text: series(st, p).label, xref: xa + " domain", yref: ya + " domain", x: 0.5, y: 1,
                                yanchor: "bottom", showarrow: false, font: { color: d.runs[p].color, size: fs } });
    }
  }
  st.colorbar = { x: Math.min(1, (cols * pw + gx * (cols - 1) + fs * (narrow ? 0.6 : 1)) / inW),
                  len: Math.min(1, (rows * ph) / inH) };
  // the panels in the map's pixels, as Plotly places the axes: what the overlay and the pointer use
  st.mapAxes = [];
  for (let p = 0; p < n; p++) {
    const c = p % cols, r = Math.floor(p / cols);
    st.mapAxes.push(linearAxes([m.l + c * (pw + gx), m.t + r * (ph + gy), pw, ph], [x0, x1], [y0, y1], false));
  }
  return layout;
}

// The map's static traces: the minima and the colour bar (what moves is drawn on the overlay).
function mapTraces(st) {
  const d = st.d, out = [];
  const { n } = panels(d);
  for (let p = 0; p < n; p++) {
    const [xa, ya] = axisName(p);
    out.push(...minimaTraces(d, xa, ya));
  }
  out.push({ type: "scatter", x: [null], y: [null], mode: "markers", hoverinfo: "skip", name: "colour bar",
             marker: { colorscale: d.colorscale, cmin: d.cmin, cmax: d.cmax, color: [d.cmin], showscale: true,
                       colorbar: { title: { text: d.cbtitle, side: "right" }, x: st.colorbar.x, xanchor: "left", y: 1,
                                   yanchor: "top", len: st.colorbar.len, thickness: 14, outlinewidth: 0 } } });
  return out;
}

// The known minima: global ones as stars, local ones as dots (small where there are many, as on Rastrigin).
function minimaTraces(d, xa, ya) {
  const glob = d.minima_global || [], pick = (g) => d.minima.filter((_, n) => !!glob[n] === g);
  const trace = (pts, name, marker) => ({ type: "scatter", x: pts.map((m) => m[0]), y: pts.map((m) => m[1]), xaxis: xa,
                                          yaxis: ya, mode: "markers", hoverinfo: "skip", name, marker });
  const local = pick(false), few = local.length <= 12;
  return [trace(local, "local minima", { symbol: "circle", size: few ? 9 : 5, color: "white", line: { color: "black", width: few ? 1.5 : 1 } }),
          trace(pick(true), "global minimum", { symbol: "star", size: 18, color: "white", line: { color: "black", width: 1.5 } })];
}

// The loss chart's axes: steps, and J − J* on a log scale over what is drawn so far (whole decades),
// as the map shows only the paths so far: before Play the range gives away no ending (how low the runs
// will go); the floor stays a decade below the lowest point drawn, so the curves do not run along it and
// the axis moves a decade at a time. All of it is drawn on the chart's canvas (drawLossOverlay), so a new
// range costs one canvas redraw, no Plotly relayout.
function lossAxes(st) {
  const d = st.d, fs = hallText(st) ? 18 : 13;
  let lo = Infinity, hi = -Infinity;
  d.runs.forEach((r, i) => {
    const s = series(st, i), last = lastDrawn(st, i);
    for (let q = 0; q <= last; q++) {
      const v = s.gap[q];
      if (v > 0 && v < Infinity) { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
  });
  if (!(lo <= hi)) { lo = 1e-3; hi = 1; }
  const a = Math.floor(Math.log10(lo)) - 1 - 0.1, b = Math.ceil(Math.log10(hi) * 2) / 2 + 0.1;
  const m = { l: fs * 4, r: 8, t: 8, b: fs * 3 }, W = st.loss.clientWidth, H = st.loss.clientHeight;
  st.lossAxes = [linearAxes([m.l, m.t, W - m.l - m.r, H - m.t - m.b], [0, d.S], [a, b], true)];
  st.lossTicks = { fs, decades: Math.max(1, Math.ceil((b - a) / 6)) };
  st.loss.dataset.range = `${a.toFixed(1)},${b.toFixed(1)}`; // log10 J − J*: what a test reads
}

// The last step of run i the loss chart draws: the curve so far (the ending is not shown before it is
// played, like the map), or all of it (whole paths, a previewed run).
const lastDrawn = (st, i) => {
  const s = series(st, i);
  return st.wholePaths || st.preview.has(i) ? s.n - 1 : at(s, st.t, st.d.k);
};

// About n round steps (1, 2 or 5 times a power of ten) covering [lo, hi].
function niceTicks(lo, hi, n) {
  const raw = (hi - lo) / Math.max(1, n), p = 10 ** Math.floor(Math.log10(raw || 1));
  const stepv = [1, 2, 5, 10].map((f) => f * p).find((v) => v >= raw) || 10 * p;
  const out = [];
  for (let v = Math.ceil(lo / stepv) * stepv; v <= hi + 1e-9 * stepv; v += stepv) out.push(v);
  return out;
}

// The loss chart's frame: white plot area, light grid at the ticks, tick labels (1, 10, 10 with a raised
// exponent), the axis titles.
function drawLossAxes(st, ctx, A) {
  const d = st.d, { decades } = st.lossTicks, fs = st.lossTicks.fs + 1, [l, t, w, h] = A.box;
  const font = (px) => `${px}px ${FONT}`;
  ctx.save();
  ctx.fillStyle = "white"; ctx.fillRect(l, t, w, h);
  ctx.strokeStyle = "#eee"; ctx.lineWidth = 1; ctx.setLineDash([]);
  ctx.fillStyle = "#444"; ctx.font = font(fs);
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const v of niceTicks(0, d.S, Math.max(3, Math.floor(w / 60)))) {
    const X = Math.round(A.px(v)) + 0.5, half = ctx.measureText(String(v)).width / 2;
    ctx.beginPath(); ctx.moveTo(X, t); ctx.lineTo(X, t + h); ctx.stroke();
    ctx.fillText(String(v), Math.min(X, l + w + 8 - half), t + h + 4); // the last label inside the chart
  }
  const [e0, e1] = [Math.ceil(A.yRange[0] / decades) * decades, A.yRange[1]];
  ctx.textBaseline = "middle";
  for (let e = e0; e <= e1; e += decades) {
    const Y = Math.round(A.py(10 ** e)) + 0.5;
    ctx.beginPath(); ctx.moveTo(l, Y); ctx.lineTo(l + w, Y); ctx.stroke();
    const base = e === 0 ? "1" : "10", sup = e === 0 || e === 1 ? "" : String(e).replace("-", "\u2212");
    ctx.font = font(Math.round(0.7 * fs));
    const ws = sup ? ctx.measureText(sup).width : 0;
    ctx.textAlign = "right";
    ctx.fillText(sup, l - 5, Y - 0.4 * fs);
    ctx.font = font(fs);
    ctx.fillText(base, l - 5 - ws, Y);
  }
  ctx.textAlign = "center"; ctx.textBaseline = "bottom"; ctx.font = font(fs + 1);
  ctx.fillText("step", l + w / 2, t + h + 2.9 * fs);
  ctx.translate(0.35 * fs, t + h / 2); ctx.rotate(-Math.PI / 2); ctx.textBaseline = "top";
  ctx.fillText(d.gap_title, 0, 0);
  ctx.restore();
}

// A 3-D axis's ticks inside its range, not at its ends: a tick at an end sits at a corner of the box,
// on the next axis's end tick or the z axis's labels.
function innerTicks(lo, hi) {
  const span = hi - lo, tickvals = niceTicks(lo, hi, 4).filter((v) => v > lo + 1e-6 * span && v < hi - 1e-6 * span);
  return { tickmode: "array", tickvals, ticktext: tickvals.map((v) => fmt(v)) };
}

function view3dFigure(st) {
  const d = st.d, g = d.grid3d, [x0, x1, y0, y1] = d.domain, n = g.n, t = st.t;
  const xs = Array.from({ length: n }, (_, i) => x0 + ((x1 - x0) * i) / (n - 1));
  const ys = Array.from({ length: n }, (_, i) => y0 + ((y1 - y0) * i) / (n - 1));
  const z = Array.from({ length: n }, (_, i) => Array.from(d.z3.subarray(i * n, (i + 1) * n)));
  const traces = [{ type: "surface", x: xs, y: ys, z, colorscale: g.colorscale, showscale: false, opacity: 0.85,
                    cmin: d.cmin, cmax: d.cmax, hoverinfo: "skip", contours: { z: { show: false } } }];
  d.runs.forEach((r, i) => {
    const s = series(st, i);
    if (!s.z) return;
    const k = at(s, t, d.k), m = st.wholePaths || st.preview.has(i) ? s.n : k + 1;
    const lift = (a) => Array.from(a.subarray(0, m), (v) => v + g.lift);
    traces.push({ type: "scatter3d", mode: "lines", x: Array.from(s.x.subarray(0, m)), y: Array.from(s.y.subarray(0, m)),
                  z: lift(s.z), line: { color: r.color, width: 7 }, hoverinfo: "skip" });
    traces.push({ type: "scatter3d", mode: "markers", x: [s.x[k]], y: [s.y[k]], z: [s.z[k] + g.lift], hoverinfo: "skip",
                  marker: { size: 6, color: r.color, line: { color: "white", width: 2 } } });
  });
  const narrow = window.innerWidth <= 720;
  const layout = {
    margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false, uirevision: "keep", paper_bgcolor: "rgba(0,0,0,0)",
    font: { size: hallText(st) ? 16 : 12 },
    scene: {
      xaxis: { title: { text: "x" }, range: [x0, x1], ...innerTicks(x0, x1) },
      yaxis: { title: { text: "y" }, range: [y0, y1], ...innerTicks(y0, y1) },
      zaxis: { title: { text: narrow ? "" : g.ztitle }, range: g.zrange, nticks: 4 }, aspectmode: "manual",
      // a phone: the z title over the axis's top end, where no tick label is (beside the axis it lay on them)
      annotations: narrow ? [{ x: x0, y: y1, z: g.zrange[1], text: g.ztitle, showarrow: false, yanchor: "bottom",
                               yshift: 6, font: { size: 12 } }] : [],
      aspectratio: { x: 1, y: (y1 - y0) / (x1 - x0), z: 0.6 }, camera: { eye: { x: -0.9, y: -1.3, z: 1.7 } },
    },
  };
  return { traces, layout };
}

const CONFIG = { displayModeBar: false, responsive: true, doubleClick: false, showTips: false, staticPlot: false };
const MAP_CONFIG = { ...CONFIG, responsive: false }; // sized by mapLayout

// Data <-> pixels in a plot rectangle [left, top, width, height] (y up; logY: the y range in log10).
function linearAxes(box, [x0, x1], [y0, y1], logY) {
  const [l, t, w, h] = box, ly = logY ? Math.log10 : (v) => v;
  return {
    box, yRange: [y0, y1], px: (x) => l + ((x - x0) / (x1 - x0)) * w, py: (y) => t + ((y1 - ly(y)) / (y1 - y0)) * h,
    x: (px) => x0 + ((px - l) / w) * (x1 - x0), y: (py) => y1 - ((py - t) / h) * (y1 - y0),
  };
}

function sizeCanvas(canvas, gd) {
  const w = gd.clientWidth, h = gd.clientHeight, r = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * r) || canvas.height !== Math.round(h * r)) {
    canvas.width = Math.round(w * r);
    canvas.height = Math.round(h * r);
    canvas.style.width = w + "px";
    canvas.style.height = h + "px";
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(r, 0, 0, r, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

function polyline(ctx, s, m, px, py) {
  ctx.beginPath();
  let pen = false;
  for (let q = 0; q < m; q++) {
    const X = px(s.x[q]), Y = py(s.y[q]);
    if (!Number.isFinite(X) || !Number.isFinite(Y)) { pen = false; continue; }
    if (pen) ctx.lineTo(X, Y);
    else { ctx.moveTo(X, Y); pen = true; }
  }
  ctx.stroke();
}

function marker(ctx, shape, X, Y, size, color) {
  const r = size / 2;
  ctx.fillStyle = color;
  ctx.strokeStyle = "white";
  ctx.lineWidth = 2;
  ctx.setLineDash([]);
  ctx.beginPath();
  if (shape === "square") ctx.rect(X - r, Y - r, 2 * r, 2 * r);
  else if (shape === "x") {
    const a = r * 0.9;
    ctx.moveTo(X - a, Y - a); ctx.lineTo(X + a, Y + a); ctx.moveTo(X + a, Y - a); ctx.lineTo(X - a, Y + a);
    ctx.lineWidth = 6; ctx.stroke(); ctx.strokeStyle = color; ctx.lineWidth = 3.5; ctx.stroke();
    return;
  } else ctx.arc(X, Y, r, 0, 2 * Math.PI);
  ctx.fill();
  ctx.stroke();
}

function arrow(ctx, X, Y, vx, vy, len, color, dash) {
  const n = Math.hypot(vx, vy);
  if (!(n > 0) || !Number.isFinite(n)) return;
  const ux = vx / n, uy = vy / n, EX = X + len * ux, EY = Y + len * uy;
  ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 2.5; ctx.setLineDash(dash);
  ctx.beginPath(); ctx.moveTo(X, Y); ctx.lineTo(EX - 8 * ux, EY - 8 * uy); ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath(); ctx.moveTo(EX, EY);
  ctx.lineTo(EX - 11 * ux - 5 * uy, EY - 11 * uy + 5 * ux); ctx.lineTo(EX - 11 * ux + 5 * uy, EY - 11 * uy - 5 * ux);
  ctx.closePath(); ctx.fill();
}

function label(ctx, text, X, Y, fs, color, border) {
  ctx.font = `${fs}px ${FONT}`;
  const w = ctx.measureText(text).width;
  ctx.fillStyle = "rgba(255,255,255,0.88)";
  ctx.fillRect(X, Y, w + 10, fs + 8);
  if (border) { ctx.strokeStyle = border; ctx.lineWidth = 1; ctx.setLineDash([]); ctx.strokeRect(X, Y, w + 10, fs + 8); }
  ctx.fillStyle = color;
  ctx.textBaseline = "top";
  ctx.fillText(text, X + 5, Y + 4);
}

const DASHES = [[], [], [], [9, 5], [3, 4], [9, 4, 3, 4]];
const width = (d, i) => 2.2 + Math.min(1.6, 3.2 / Math.max(d.runs.length - 1, 1)) * (d.runs.length - 1 - i);
const dashOf = (d, i) => (d.runs.length > 3 ? DASHES[i] : []);

// Everything on the map that moves: paths (trail, or whole), markers, arrows, the start ring, notes.
function drawMapOverlay(st) {
  const d = st.d, t = st.t, fs = hallText(st) ? 20 : 14, axes = st.mapAxes;
  const ctx = sizeCanvas(st.mapCanvas, st.map);
  const [x0, x1, y0, y1] = d.domain, arrowLen = 0.1 * Math.min(x1 - x0, y1 - y0);
  const info = [];
  // explain mode: the explained run's arrows and marker last (on top), the others' arrows faded
  const xp = st.explain && d.runs[st.xpRun] ? st.xpRun : -1;
  const all = d.runs.map((_, i) => i), order = all.filter((i) => i !== xp).concat(xp >= 0 ? [xp] : []);
  for (let layer = 0; layer < 2; layer++) { // paths first, then every marker on top of every path
    (layer === 0 ? all : order).forEach((i) => {
      const r = d.runs[i], s = series(st, i), A = axes[d.multiples ? i : 0], k = at(s, t, d.k);
      ctx.save();
      ctx.beginPath(); ctx.rect(...A.box); ctx.clip();
      const full = st.wholePaths || st.preview.has(i);
      const diverged = s.div >= 0 && t >= s.div - 1, ended = t >= d.S || diverged;
      if (layer === 0) {
        ctx.strokeStyle = r.color; ctx.lineWidth = width(d, i); ctx.setLineDash(dashOf(d, i));
        ctx.lineJoin = "round"; ctx.lineCap = "round";
        if (full) { ctx.globalAlpha = 0.55; polyline(ctx, s, s.n, A.px, A.py); }
        ctx.globalAlpha = 0.95;
        polyline(ctx, s, k + 1, A.px, A.py);
        info.push({ name: s.label, color: r.color, x0: s.x[0], y0: s.y[0], n: k + 1, now: [s.x[k], s.y[k]],
                    whole: full ? [s.x[s.n - 1], s.y[s.n - 1]] : null, diverged: diverged ? s.div : -1,
                    key: s.label + ":" + s.x[s.n - 1] + "," + s.y[s.n - 1] });
      } else {
        const X = A.px(s.x[k]), Y = A.py(s.y[k]);
        if ((d.arrows || explaining(st, i)) && s.exact && !ended) {
          const gx = s.grad[t], gy = s.grad[d.S + t], len = Math.abs(A.px(x0 + arrowLen) - A.px(x0));
          const screen = (vx, vy) => [A.px(s.x[k] + vx) - X, A.py(s.y[k] + vy) - Y]; // a data vector on screen
          const g = Math.hypot(gx, gy) || 1;
          ctx.globalAlpha = xp >= 0 && i !== xp ? 0.3 : 1;
          // the step under the dashed -gradient: where they point the same way (GD) both show
          arrow(ctx, X, Y, A.px(s.x[k + 1]) - X, A.py(s.y[k + 1]) - Y, len, r.color, []);
          arrow(ctx, X, Y, ...screen(-gx / g, -gy / g), len, "black", [3, 4]);
          ctx.globalAlpha = 1;
          if (explaining(st, i)) explainArrows(st, ctx, r, s, t, X, Y, len, screen);
        }
        marker(ctx, diverged ? "x" : ended ? "square" : "circle", X, Y, 14, r.color);
      }
      ctx.restore();
    });
  }
  // notes (diverged), the start ring and the step label
  d.runs.forEach((r, i) => {
    const s = series(st, i), A = axes[d.multiples ? i : 0];
    if (s.div >= 0 && t >= s.div - 1) {
      const k = at(s, t, d.k), [bx, by, bw, bh] = A.box;
      const X = Math.min(Math.max(A.px(s.x[k]), bx), bx + bw - 160), Y = Math.min(Math.max(A.py(s.y[k]) - 34, by), by + bh - 30);
      label(ctx, `diverged at step ${s.div}`, X + 6, Y, fs - 2, r.color, r.color);
    }
  });
  const r0 = d.runs[0];
  if (r0) {
    const sx = st.drag && st.drag.ring ? st.drag.x : r0.x[0], sy = st.drag && st.drag.ring ? st.drag.y : r0.y[0];
    for (const A of axes) {
      ctx.save(); ctx.beginPath(); ctx.rect(...A.box); ctx.clip();
      ctx.setLineDash([]); ctx.lineWidth = 5; ctx.strokeStyle = "white";
      ctx.beginPath(); ctx.arc(A.px(sx), A.py(sy), 9, 0, 2 * Math.PI); ctx.stroke();
      ctx.lineWidth = 3; ctx.strokeStyle = "black"; ctx.stroke();
      ctx.restore();
    }
  }
  const A = axes[0];
  label(ctx, `step ${t}`, A.box[0] + 6, A.box[1] + 6, fs + 2, "#31333f");
  if (d.runs[st.xpRun] && explaining(st, st.xpRun)) {
    explainLegend(st, ctx, axes[d.multiples ? st.xpRun : 0], d.runs[st.xpRun], fs - 2);
  }
  st.info = info;
}

// The loss curves, the cursor at the current step and each run's point there.
function drawLossOverlay(st) {
  const d = st.d, t = st.t, A = st.lossAxes[0];
  const ctx = sizeCanvas(st.lossCanvas, st.loss);
  drawLossAxes(st, ctx, A);
  ctx.save();
  ctx.beginPath(); ctx.rect(A.box[0] - 6, A.box[1] - 6, A.box[2] + 12, A.box[3] + 12); ctx.clip();
  const pts = [];
  d.runs.forEach((r, i) => {
    const s = series(st, i);
    ctx.strokeStyle = r.color; ctx.lineWidth = 2.5; ctx.setLineDash(dashOf(d, i)); ctx.lineJoin = "round";
    ctx.beginPath();
    let pen = false;
    const last = lastDrawn(st, i);
    for (let q = 0; q <= last; q++) {
      const v = s.gap[q];
      if (!(v > 0) || !Number.isFinite(v)) { pen = false; continue; }
      const X = A.px(s.steps[q]), Y = A.py(v);
      if (pen) ctx.lineTo(X, Y); else { ctx.moveTo(X, Y); pen = true; }
    }
    ctx.stroke();
    const k = at(s, t, d.k), v = s.gap[k];
    if (v > 0 && Number.isFinite(v)) pts.push([A.px(s.steps[k]), A.py(v), r.color]);
  });
  ctx.setLineDash([4, 4]); ctx.strokeStyle = "#31333f"; ctx.lineWidth = 1.5;
  ctx.beginPath(); ctx.moveTo(A.px(t), A.box[1]); ctx.lineTo(A.px(t), A.box[1] + A.box[3]); ctx.stroke();
  for (const [X, Y, c] of pts) marker(ctx, "circle", X, Y, 10, c);
  ctx.restore();
}

// Draw the current state: the landscape picture and the canvases at once (no Plotly needed, so the
// map shows as soon as the data is here), then Plotly's axes, minima and colour bar when what they
// show changed (new surface, size, presenter mode, the loss chart's range) and plotly.js is loaded.
function draw(st) {
  if (!st.d) return;
  const d = st.d;
  st.stepInput.max = d.S;
  st.stepInput.value = st.t;
  st.label.textContent = `step ${st.t} / ${d.S}`;
  st.whole.classList.toggle("on", st.wholePaths);
  placeExplain(st);
  const layout = mapLayout(st);
  placeLandscape(st);
  drawExplain(st);
  st.loss.style.height = lossHeight(st) + "px";
  lossAxes(st);
  drawMapOverlay(st);
  drawLossOverlay(st);
  st.root.dataset.step = String(st.t);
  st.root.dataset.drawn = [d.version, st.t, st.lr.join(","), st.wholePaths ? "whole" : "trail"].join(":");
  plotlyPass(st, layout);
}

function plotlyPass(st, layout) {
  if (!window.Plotly) return;
  if (st.busy) { st.again = true; return; }
  const d = st.d, jobs = [];
  const labels = d.multiples ? d.runs.map((r, i) => series(st, i).label).join("|") : "";
  const mapKey = [d.map_version, d.multiples, labels, layout.width, layout.height, st.presenting].join("|");
  if (mapKey !== st.mapKey) {
    st.mapKey = mapKey;
    jobs.push(Plotly.react(st.map, mapTraces(st), layout, MAP_CONFIG));
  }
  const now = performance.now();
  if (st.show3d && d.grid3d && (!st.playing || now - st.last3d > 250)) {
    st.last3d = now;
    const f3 = view3dFigure(st);
    jobs.push(Plotly.react(st.view3d, f3.traces, f3.layout, CONFIG));
  }
  if (!jobs.length) return;
  st.busy = true;
  Promise.all(jobs).finally(() => {
    st.busy = false;
    st.root.dataset.axes = mapKey;
    if (st.again) { st.again = false; requestAnimationFrame(() => draw(st)); }
  });
}

// The landscape picture, one per panel, under Plotly's (transparent) axes.
function placeLandscape(st) {
  const d = st.d, boxes = st.mapAxes.map((A) => A.box);
  while (st.land.children.length < boxes.length) st.land.append(el("img"));
  while (st.land.children.length > boxes.length) st.land.lastChild.remove();
  boxes.forEach(([l, t, w, h], p) => {
    const img = st.land.children[p];
    if (img.getAttribute("src") !== d.image) img.src = d.image;
    img.alt = p ? "" : `${d.title}: the landscape`;
    Object.assign(img.style, { left: l + "px", top: t + "px", width: w + "px", height: h + "px" });
  });
}

// ---- run list with learning-rate sliders ---------------------------------------------------------

function buildRuns(st) {
  const d = st.d, nRuns = d.runs.length;
  st.runs.replaceChildren();
  const widen = Math.min(1.6, 3.2 / Math.max(nRuns - 1, 1));
  d.runs.forEach((r, i) => {
    const row = el("div", "stage-run");
    const lw = 2.2 + widen * (nRuns - 1 - i);
    const dash = nRuns > 3 ? ["", "", "", "6 4", "2 3", "6 3 2 3"][i] : "";
    row.innerHTML = `<svg width="34" height="14" aria-hidden="true"><line x1="1" y1="7" x2="33" y2="7" ` +
      `stroke="${r.color}" stroke-width="${lw}" stroke-dasharray="${dash}"/></svg>`;
    const name = el("div", "name");
    const lr = el("label", "lr");
    const input = el("input", "lr-input");
    input.type = "range"; input.min = 0; input.max = r.R - 1; input.step = 1; input.value = st.lr[i];
    input.setAttribute("aria-label", `Learning rate of run ${i + 1}`);
    const value = el("span");
    const show = () => {
      const j = st.lr[i];
      name.textContent = r.labels[j];
      value.textContent = "η " + fmt(r.lrs[j], 3);
      stableWarn(r, j, value);
      input.setAttribute("aria-valuetext", fmt(r.lrs[j], 3));
    };
    input.oninput = () => {
      st.lr[i] = Number(input.value);
      st.preview.add(i);
      show();
      draw(st);
    };
    input.onchange = () => report(st, "lr", { run: i, lr: r.lrs[Number(input.value)] });
    show();
    lr.append(stableTrack(r, input), value);
    row.append(name, lr);
    st.runs.append(row);
  });
}

// ---- pointer: hover read-out, click to start, drag the start ring ---------------------------------

function locate(st, e) {
  if (!st.mapAxes) return null;
  const box = st.map.getBoundingClientRect(), mx = e.clientX - box.left, my = e.clientY - box.top;
  for (let p = 0; p < st.mapAxes.length; p++) {
    const A = st.mapAxes[p], [l, t, w, h] = A.box;
    if (mx >= l && mx <= l + w && my >= t && my <= t + h) {
      return { p, A, px: mx, py: my, x: A.x(mx), y: A.y(my), left: mx, top: my };
    }
  }
  return null;
}

function nearStart(st, loc) {
  const r0 = st.d.runs[0];
  return r0 && Math.hypot(loc.A.px(r0.x[0]) - loc.px, loc.A.py(r0.y[0]) - loc.py) <= 14;
}

function pointerDown(st, e) {
  st.root.focus({ preventScroll: true }); // a click on the map gives the stage the keys, and nothing else
  if (!st.d || e.button > 0 || !answers(st, "start")) return;
  const loc = locate(st, e);
  if (!loc) return;
  const ring = nearStart(st, loc);
  if (!ring && !e.shiftKey) return;
  st.drag = { x: loc.x, y: loc.y, ring, moved: false, x0: e.clientX, y0: e.clientY };
  st.map.setPointerCapture(e.pointerId);
  if (st.drag.ring) st.map.classList.add("dragging");
  e.preventDefault();
  e.stopPropagation();
}

function pointerMove(st, e) {
  if (!st.d) return;
  const loc = locate(st, e);
  if (st.drag) {
    if (Math.hypot(e.clientX - st.drag.x0, e.clientY - st.drag.y0) > 4) st.drag.moved = true;
    if (loc && st.drag.ring) {
      st.drag.x = loc.x;
      st.drag.y = loc.y;
      draw(st);
    }
    st.tip.style.display = "none";
    return;
  }
  if (!loc) { st.tip.style.display = "none"; return; }
  st.map.classList.toggle("near-start", answers(st, "start") && nearStart(st, loc));
  hover(st, loc);
}

function pointerUp(st, e) {
  const drag = st.drag;
  if (!drag) return;
  st.map.classList.remove("dragging");
  const loc = locate(st, e);
  st.drag = null;
  if (drag.ring && drag.moved) {
    report(st, "start", { x: drag.x, y: drag.y });
  } else if (!drag.moved && loc) {
    report(st, "start", { x: loc.x, y: loc.y });
  } else {
    draw(st);
  }
}

// A read-out of every run within reach of the pointer (so a path hidden under another is named),
// the minima there, or f at the pointer.
function hover(st, loc) {
  const d = st.d, lines = [], reach = 10;
  d.runs.forEach((r, i) => {
    if (d.multiples && i !== loc.p) return;
    const s = series(st, i), full = st.wholePaths || st.preview.has(i);
    const m = full ? s.n : at(s, st.t, d.k) + 1;
    let best = -1, bestD = reach;
    for (let q = 0; q < m; q++) {
      const dist = Math.hypot(loc.A.px(s.x[q]) - loc.px, loc.A.py(s.y[q]) - loc.py);
      if (dist < bestD) { bestD = dist; best = q; }
    }
    if (best >= 0) {
      const f = s.exact ? ` J = ${fmt(s.loss[best])}` : "";
      lines.push(`<b style="color:${r.color}">${s.label}</b>: step ${s.steps[best]}, ` +
                 `(${fmt(s.x[best])}, ${fmt(s.y[best])})${f}` + explainHover(st, i, best));
    }
  });
  d.minima.forEach(([mx, my], n) => {
    const kind = d.minima_global && d.minima_global[n] ? "global" : "local";
    if (Math.hypot(loc.A.px(mx) - loc.px, loc.A.py(my) - loc.py) < reach) lines.push(`${kind} minimum (${fmt(mx)}, ${fmt(my)})`);
  });
  if (!lines.length) {
    const [x0, x1, y0, y1] = d.domain, n = d.hover_n;
    const i = Math.round(((loc.x - x0) / (x1 - x0)) * (n - 1)), j = Math.round(((loc.y - y0) / (y1 - y0)) * (n - 1));
    const f = d.hoverF[Math.max(0, Math.min(n - 1, j)) * n + Math.max(0, Math.min(n - 1, i))];
    lines.push(`(${fmt(loc.x, 3)}, ${fmt(loc.y, 3)}) J ≈ ${fmt(f)}`);
    if (answers(st, "start")) lines.push(`<span class="stage-note">Shift+click: start here</span>`);
  }
  const tip = st.tip, mapBox = st.map.getBoundingClientRect(), rootBox = st.root.getBoundingClientRect();
  tip.innerHTML = lines.join("<br>");
  tip.style.display = "block";
  const left = mapBox.left - rootBox.left + loc.left + 14, top = mapBox.top - rootBox.top + loc.top + 14;
  tip.style.left = Math.min(left, rootBox.width - tip.offsetWidth - 4) + "px";
  tip.style.top = top + "px";
}

// ---- entry -----------------------------------------------------------------------------------

// Does the host answer the stage's report ``name`` (recompute, or keep it in its state)?
const answers = (st, name) => !!(st.host && st.host.report && st.host.answers.includes(name));

function report(st, name, value) {
  if (!answers(st, name)) return;
  if (name === "lr" || name === "start") st.pending = { name, value, resent: false };
  st.host.report(name, value);
}

// A learning rate or start the host has not shown yet (a server that died with the report, or a new
// one that started from the link): the next data that does not show it sends it once more.
const shows = (d, p) => p.name === "lr"
  ? !!d.runs[p.value.run] && d.runs[p.value.run].lrs[d.runs[p.value.run].index] === p.value.lr
  : d.runs.every((r) => Math.abs(r.x[0] - p.value.x) < 6e-4 && Math.abs(r.y[0] - p.value.y) < 6e-4);

function resendPending(st) {
  const p = st.pending;
  if (!p) return;
  if (shows(st.d, p) || p.resent) { st.pending = null; return; }
  p.resent = true;
  st.host.report(p.name, p.value);
}

// The viewer turns 3-D, explain or presenter mode on or off: the host's to answer when it does;
// else the stage's own (3-D and explain from the data it has, presenter mode as the browser's full screen).
function setView(st, name, on) {
  if (answers(st, name)) { report(st, name, on); return; }
  if (name === "present") {
    if (on && st.root.requestFullscreen) st.root.requestFullscreen().catch(() => {});
    else if (!on && document.fullscreenElement) document.exitFullscreen();
    return;
  }
  st[name] = on;
  if (name === "show3d" && !on && st.view3d.data && window.Plotly) Plotly.purge(st.view3d);
  viewClasses(st);
  if (name === "explain") buildExplain(st);
  draw(st);
}

function viewClasses(st) {
  const d = st.d;
  st.root.classList.toggle("present", st.presenting);
  st.present.classList.toggle("on", st.presenting);
  st.root.classList.toggle("with3d", st.show3d);
  st.b3d.classList.toggle("on", st.show3d);
  st.root.classList.toggle("beside3d", !!st.beside3d);
  st.beside.classList.toggle("on", !!st.beside3d);
  st.beside.hidden = !st.show3d;
  st.bExplain.classList.toggle("on", st.explain);
  if (!d) return;
  st.b3d.disabled = !!d.multiples;
  // a button the host does not answer and the data cannot serve is not offered
  st.b3d.hidden = !answers(st, "show3d") && !d.grid3d;
  st.bExplain.hidden = !answers(st, "explain") && !d.runs.some((r) => r.explain);
  st.note.hidden = !answers(st, "start");
}

/** Mount the stage in ``parentElement`` (or update the one there) with ``bytes``, a payload of
 * viz/stage.py (stage_payload). ``host``: { report(name, value), answers: names it answers (REPORTS),
 * plotly: where plotly.js comes from (a URL, or a function of the payload's data returning one or a
 * promise of one) }.
 * Returns the clean-up to call when the element goes away. */
export function mount(parentElement, bytes, host) {
  const data = unpack(bytes);
  let st = STATES.get(parentElement);
  if (!st) {
    st = init(parentElement);
    STATES.set(parentElement, st);
  }
  st.host = { report: null, answers: [], ...host };
  if (answers(st, "present") || st.presenting === undefined) st.presenting = !!data.present;
  st.show3d = !!data.show3d;
  st.explain = !!data.explain;
  st.speed.value = data.speed;
  st.speed.title = `Playback speed (1x: ${data.steps_per_s} steps a second)`;
  if (data.version !== st.version) {
    const old = st.d;
    st.d = decode(data);
    st.version = data.version;
    st.lr = st.d.runs.map((r) => r.index);
    if (!old || old.runs.length !== st.d.runs.length) st.preview.clear(); // a finished lr drag keeps its preview
    if (!old) st.t = 0;
    st.t = Math.min(st.t, st.d.S);
    buildRuns(st);
    buildExplain(st);
    resendPending(st);
  }
  if (!st.show3d && st.view3d.data && window.Plotly) Plotly.purge(st.view3d);
  viewClasses(st);
  if (st.presentWas === undefined) takeFocus(st); // the first mount
  if (st.presentWas !== undefined && st.presentWas !== st.presenting) {
    requestAnimationFrame(() => { st.root.focus({ preventScroll: true }); });
  }
  st.presentWas = st.presenting;
  draw(st);
  if (!window.Plotly && st.host.plotly) { // then the axes (once loaded, draw has them)
    Promise.resolve(typeof st.host.plotly === "function" ? st.host.plotly(data) : st.host.plotly)
      .then(loadPlotly).then(() => draw(st)).catch((e) => console.warn(e));
  }
  return () => {
    // called when the host removes the element: stop playing; drop the plots once it is gone
    setTimeout(() => {
      if (st.root.isConnected) return;
      pause(st);
      document.removeEventListener("keydown", st.onKey);
      document.removeEventListener("fullscreenchange", st.onFullscreen);
      window.removeEventListener("resize", st.onResize);
      for (const g of [st.map, st.view3d]) if (window.Plotly) Plotly.purge(g);
      STATES.delete(parentElement);
    }, 0);
  };
}

// The module's default export, for the two hosts that import it:
// Streamlit components v2 calls it with the component ({parentElement, data, setTriggerValue});
// anywidget calls it with nothing and takes { render } (descent_lab/notebook.py).
export default function stage(component) {
  if (component === undefined) return { render: renderWidget };
  const { parentElement, data, setTriggerValue } = component;
  return mount(parentElement, data, { report: setTriggerValue, answers: REPORTS,
                                      plotly: (d) => appPlotly(d.plotly_version) });
}

// A notebook's stage: the payload is the model's ``payload`` (bytes), reports go to the kernel as custom
// messages {report: name, value}, plotly.js comes from the kernel once (asked with {want: "plotly"}).
function renderWidget({ model, el }) {
  const bytes = () => { const v = model.get("payload"); return new Uint8Array(v.buffer, v.byteOffset, v.byteLength); };
  const host = {
    report: (name, value) => model.send({ report: name, value }), answers: model.get("answers"),
    plotly: () => new Promise((resolve) => {
      const take = (msg, buffers) => {
        if (!msg || msg.plotly !== true) return;
        model.off("msg:custom", take);
        resolve(URL.createObjectURL(new Blob([buffers[0]], { type: "text/javascript" })));
      };
      model.on("msg:custom", take);
      model.send({ want: "plotly" });
    }),
  };
  let cleanup = mount(el, bytes(), host);
  const update = () => { cleanup = mount(el, bytes(), host); };
  model.on("change:payload", update);
  return () => { model.off("change:payload", update); cleanup(); };
}

// ---- explain mode: the selected run's update at the current step (viz/explain.py's numbers, picked
// at index t, nothing computed here), its arrows on the map, and each run's stability mark ------------

const FORMS = [["course", "Course"], ["torch", "PyTorch"]];
const GRAD_LABEL = "−g: downhill";

// 4 significant digits, in exponent form outside 0.001..99999
function xpNum(v) {
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  return v === 0 ? "0" : a >= 1e-3 && a < 1e5 ? v.toPrecision(4) : v.toExponential(3);
}

// the value of a column of run r's explain numbers at step t, coordinate dim
const xpAt = (d, xp, column, dim, t) => xp[(column * 2 + dim) * d.S + t];

const explaining = (st, i) => !!(st.explain && st.xpRun === i && st.d.runs[i].xp);

// The panel for the selected run and form: formula lines with the rows they define, their cells
// filled at every draw by drawExplain.
function buildExplain(st) {
  const d = st.d, box = st.explainBox;
  box.replaceChildren();
  st.xpCells = null;
  box.hidden = !st.explain;
  if (!st.explain || !d.runs.length) return;
  if (!(st.xpRun < d.runs.length)) st.xpRun = 0;
  const r = d.runs[st.xpRun], form = r.explain.forms[st.xpForm];
  const head = el("div", "xp-head");
  const pick = el("select", "xp-run");
  pick.setAttribute("aria-label", "Run to explain");
  d.runs.forEach((run, i) => pick.append(new Option(run.label, String(i))));
  pick.value = String(st.xpRun);
  pick.onchange = () => { st.xpRun = Number(pick.value); buildExplain(st); draw(st); };
  const forms = el("span", "xp-forms");
  forms.setAttribute("role", "group");
  forms.setAttribute("aria-label", "Formula as written in");
  for (const [key, name] of FORMS) {
    const b = el("button", key === st.xpForm ? "on" : "", r.explain.forms[key].title || name);
    b.type = "button";
    b.setAttribute("aria-pressed", String(key === st.xpForm));
    b.onclick = () => { st.xpForm = key; buildExplain(st); draw(st); };
    forms.append(b);
  }
  head.append(pick, forms);
  const legend = el("div", "xp-legend");
  legend.innerHTML = legendHTML(r);
  st.xpLegend = legend;
  const table = el("table", "xp-table");
  table.innerHTML = "<thead><tr><th class='xp-where'></th><th>x</th><th>y</th></tr></thead>";
  st.xpWhere = table.querySelector(".xp-where");
  const body = el("tbody");
  const line = (n) => {
    const tr = el("tr", "xp-line"), td = el("td");
    td.colSpan = 3;
    td.innerHTML = form.lines[n];
    tr.append(td);
    body.append(tr);
  };
  st.xpCells = [];
  let next = 0; // the next formula line to list: the gradient comes first, the step and new point last
  form.rows.forEach((row, n) => {
    const upto = row.line >= 0 ? row.line : n === 0 ? -1 : form.lines.length - 1;
    while (next <= upto) line(next++);
    const tr = el("tr"), th = el("th");
    th.scope = "row";
    th.innerHTML = row.symbol;
    const tds = row.scalar ? [el("td")] : [el("td"), el("td")];
    if (row.scalar) tds[0].colSpan = 2;
    tr.append(th, ...tds);
    body.append(tr);
    st.xpCells.push({ column: row.column, tds });
  });
  while (next < form.lines.length) line(next++);
  table.append(body);
  box.append(head, legend, table);
  if (r.explain.rounding) box.append(el("div", "stage-note xp-rounding", r.explain.rounding));
  st.xpCode = null;
  if (st.xpForm === "torch") {
    st.xpCode = el("code", "xp-code", form.code);
    box.append(st.xpCode, el("div", "stage-note", form.note));
  }
}

function drawExplain(st) {
  const d = st.d;
  if (!st.explain || !st.xpCells) return;
  const i = st.xpRun, r = d.runs[i], s = series(st, i), t = st.t;
  const update = !!s.xp && t < d.S;
  if (st.xpCode) st.xpCode.textContent = s.code || r.explain.forms[st.xpForm].code;
  // no numbers for this lr: the host computes them when the slider is released, or the page says why not
  const absent = answers(st, "lr") ? "This learning rate's numbers come when the slider is released."
    : d.every_lr_note || "This page holds explain numbers for each run's own learning rate only.";
  st.xpWhere.textContent = !s.xp ? absent
    : t >= d.S ? `Step ${t}: the last point, no update after it.`
    : `Update ${t + 1}: from step ${t} to step ${t + 1}` + (s.div >= 0 && t >= s.div - 1 ? ` (diverged at step ${s.div})` : "");
  for (const c of st.xpCells) c.tds.forEach((td, dim) => { td.textContent = update ? xpNum(xpAt(d, s.xp, c.column, dim, t)) : "–"; });
  st.explainBox.dataset.step = String(t);
}

// The selected run's velocity-like arrows (the gradient and step arrows are drawMapOverlay's own).
function explainArrows(st, ctx, r, s, t, X, Y, len, screen) {
  if (!s.xp) return;
  for (const a of r.explain.arrows) {
    const vx = a.sign * xpAt(st.d, s.xp, a.column, 0, t), vy = a.sign * xpAt(st.d, s.xp, a.column, 1, t), n = Math.hypot(vx, vy);
    if (!(n > 0) || !Number.isFinite(n)) continue;
    ctx.save();
    ctx.shadowColor = "rgba(0,0,0,0.9)"; ctx.shadowBlur = 3;
    arrow(ctx, X, Y, ...screen(vx / n, vy / n), len, "white", []);
    ctx.restore();
  }
}

// What the selected run's arrows are: label, colour, dash (white ones get a dark halo).
const legendItems = (r) => [[GRAD_LABEL, "black", [3, 4]], ...r.explain.arrows.map((a) => [a.label, "white", []]),
                            ["Δw: step", r.color, []]];

// A legend naming the selected run's arrows, in the top right corner of its panel where it fits
// (small multiples leave no room: the explain panel's own legend names them there).
function explainLegend(st, ctx, A, r, fs) {
  const items = legendItems(r);
  ctx.save();
  ctx.font = `${fs}px "Source Sans", "Source Sans Pro", sans-serif`;
  const w = Math.max(...items.map(([t]) => ctx.measureText(t).width)) + 44, h = items.length * (fs + 6) + 8;
  const [bx, by, bw, bh] = A.box, X = bx + bw - w - 6, Y = by + 6;
  const fits = w <= 0.45 * bw && h <= 0.3 * bh;
  st.explainBox.dataset.legend = "";
  if (st.xpLegend) st.xpLegend.hidden = fits;
  if (!fits) { ctx.restore(); return; }
  ctx.fillStyle = "rgba(255,255,255,0.9)"; ctx.fillRect(X, Y, w, h);
  ctx.strokeStyle = "#c9cbd3"; ctx.lineWidth = 1; ctx.setLineDash([]); ctx.strokeRect(X, Y, w, h);
  items.forEach(([text, color, dash], n) => {
    const y = Y + 4 + n * (fs + 6) + (fs + 6) / 2;
    if (color === "white") { ctx.shadowColor = "rgba(0,0,0,0.9)"; ctx.shadowBlur = 3; }
    arrow(ctx, X + 6, y, 1, 0, 28, color, dash);
    ctx.shadowBlur = 0;
    ctx.fillStyle = "#31333f"; ctx.textBaseline = "middle";
    ctx.fillText(text, X + 38, y);
  });
  ctx.restore();
  st.explainBox.dataset.legend = items.map(([t]) => t).join("|");
}

// the same legend in the explain panel (SVG arrows), shown where the map has no room for it
function legendHTML(r) {
  return legendItems(r).map(([text, color, dash]) => {
    const line = (c, wd) => `<line x1="1" y1="6" x2="19" y2="6" stroke="${c}" stroke-width="${wd}" stroke-dasharray="${dash.join(" ")}"/>`;
    const halo = color === "white" ? line("#31333f", 4.5) : "";
    return `<span><svg width="28" height="12" aria-hidden="true">${halo}${line(color, 2.5)}` +
      `<path d="M27 6 L18 1.5 L18 10.5Z" fill="${color}" stroke="${color === "white" ? "#31333f" : "none"}"/></svg>` +
      `${text}</span>`;
  }).join("");
}

// the hover read-out's extra line for run i at path point q: its gradient and step there
function explainHover(st, i, q) {
  const d = st.d, r = d.runs[i];
  const xp = series(st, i).xp;
  if (!xp || q >= d.S) return "";
  const pair = (c) => `(${xpNum(xpAt(d, xp, c, 0, q))}, ${xpNum(xpAt(d, xp, c, 1, q))})`;
  return `<br>&nbsp;&nbsp;g = ${pair(r.explain.hover.grad)}, Δw = ${pair(r.explain.hover.step)}`;
}

// The largest stable learning rate (runs[i].stable_lr, when the server sends one within the slider's
// range) as a tick on run r's slider; returns what goes where the slider went.
function stableTrack(r, input) {
  const v = r.stable_lr, lrs = r.lrs, R = lrs.length;
  if (typeof v !== "number" || !Number.isFinite(v) || R < 2 || !(v >= lrs[0] && v <= lrs[R - 1])) return input;
  let j = 0;
  while (j < R - 2 && lrs[j + 1] < v) j++;
  const frac = lrs[j + 1] > lrs[j] ? Math.log(v / lrs[j]) / Math.log(lrs[j + 1] / lrs[j]) : 0;
  const p = (j + Math.min(1, Math.max(0, frac))) / (R - 1);
  const track = el("span", "lr-track"), tick = el("span", "lr-stable");
  tick.style.left = `calc(8px + (100% - 16px) * ${p})`;
  tick.title = track.title = `largest stable η ≈ ${fmt(v, 3)}`; // the track's title: the mark takes no pointer
  track.append(input, tick);
  return track;
}

// the lr value's warning colour when the chosen lr is above the run's largest stable one
function stableWarn(r, j, value) {
  const v = r.stable_lr, over = typeof v === "number" && Number.isFinite(v) && r.lrs[j] > v;
  value.classList.toggle("lr-warn", over);
  value.title = over ? `above the largest stable η ≈ ${fmt(v, 3)}: expect this run to diverge` : "";
}
