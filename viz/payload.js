// What every stage's module starts with (viz/stage.py module_text puts this file in front of viz/stage.js
// and viz/net_stage.js: an inline Streamlit component cannot import another module).

// viz/stage.py's pack: uint32 header length n, the JSON header, padding to 8, then the arrays' bytes;
// the header refers to each array as {"$a": [dtype, byte offset, length]}. One copy of the body (the
// bytes Streamlit hands over need not be aligned), then every array is a typed view into it.
const TYPED = { f4: Float32Array, f8: Float64Array };
export function unpack(bytes) {
  const n = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  const start = 4 + n + ((8 - ((4 + n) % 8)) % 8);
  const body = bytes.slice(start).buffer;
  return JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n)), (key, v) => {
    if (v && typeof v === "object" && Array.isArray(v.$a)) {
      const [dtype, offset, length] = v.$a;
      return new TYPED[dtype](body, offset, length);
    }
    return v;
  });
}

// an element: <tag class=cls>text</tag>
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

// plotly.js from ``src`` (a URL: the app's static file, or a blob: URL of the text a page or a kernel holds),
// once per page (every stage on the page shares the promise)
export function loadPlotly(src) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__stagePlotly) {
    window.__stagePlotly = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => { window.__stagePlotly = null; reject(new Error("plotly.js did not load")); };
      document.head.appendChild(s);
    });
  }
  return window.__stagePlotly;
}

// plotly.js as the app serves it (static/plotly.min.js, enableStaticServing), the version in the query so
// a new plotly is fetched anew
export const appPlotly = (version) => "app/static/plotly.min.js?v=" + encodeURIComponent(version || "");
