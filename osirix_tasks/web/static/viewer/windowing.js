// WL/WW as OsiriX applies it, pure (node --test imports it): a value v shows as grey
// (v - (WL - WW/2)) / WW * 255, clamped to 0..255; inverted shows 255 - grey. The canvas path uses
// windowInto; the WebGL path computes the same in its shader (gl.js).

export const PRESETS = [
  ["Default", null], ["Full dynamic", "full"], ["Abdomen", [40, 350]], ["Bone", [300, 1500]],
  ["Brain", [40, 80]], ["Lung", [-600, 1500]], ["Mediastinum", [50, 500]],
];

export function grey(value, wl, ww, invert = false) {
  const low = wl - ww / 2, w = Math.max(ww, 1e-6);
  let g = ((value - low) * 255) / w;
  g = g < 0 ? 0 : g > 255 ? 255 : Math.floor(g);
  return invert ? 255 - g : g;
}

// Window `values` into opaque RGBA words (little-endian ABGR) of `out` (a Uint32Array).
export function windowInto(values, out, wl, ww, invert = false) {
  const low = wl - ww / 2, w = Math.max(ww, 1e-6), n = values.length;
  for (let i = 0; i < n; i++) {
    let g = ((values[i] - low) * 255) / w;
    g = g < 0 ? 0 : g > 255 ? 255 : g | 0;
    if (invert) g = 255 - g;
    out[i] = 0xff000000 | (g << 16) | (g << 8) | g;
  }
  return out;
}

// The grey word of every whole value from `low` to `high` (a plane's range): table[v - low] is what
// windowInto writes for v. A 16-bit plane is then windowed by one look-up per pixel (windowTable once per
// window and range, a few thousand entries for CT, instead of float maths on every pixel).
export function windowTable(low, high, wl, ww, invert = false, into = null) {
  const size = high - low + 1;
  const table = into && into.length >= size ? into.subarray(0, size) : new Uint32Array(size);
  const bottom = wl - ww / 2, w = Math.max(ww, 1e-6);
  for (let k = 0; k < size; k++) {
    let g = ((low + k - bottom) * 255) / w;
    g = g < 0 ? 0 : g > 255 ? 255 : g | 0;
    if (invert) g = 255 - g;
    table[k] = 0xff000000 | (g << 16) | (g << 8) | g;
  }
  return table;
}

// Window whole `values` (Int16Array, Uint16Array), all within [low, low + table.length), through `table`.
export function windowThrough(values, out, table, low) {
  const n = values.length;
  for (let i = 0; i < n; i++) out[i] = table[values[i] - low];
  return out;
}

// The smallest and largest of `values` ([0, 0] when empty).
export function rangeOf(values) {
  let low = Infinity, high = -Infinity;
  for (let i = 0; i < values.length; i++) { const v = values[i]; if (v < low) low = v; if (v > high) high = v; }
  return Number.isFinite(low) ? [low, high] : [0, 0];
}

// ARGB bytes (OsiriX's RGB planes) into RGBA words.
export function argbInto(bytes, out) {
  for (let i = 0, j = 0; i < out.length; i++, j += 4) out[i] = 0xff000000 | (bytes[j + 3] << 16) | (bytes[j + 2] << 8) | bytes[j + 1];
  return out;
}

// The window covering every value of a plane (OsiriX's "Full dynamic").
export function fullDynamic(values, range = null) {
  if (!values.length) return [0, 1];
  const [low, high] = range || rangeOf(values);
  return [(low + high) / 2, Math.max(high - low, 1)];
}

// WL/WW after a drag of (dx, dy) screen px from a starting window: right widens, down raises the level,
// by a step proportional to the width (OsiriX's feel: a drag across the image spans about the window).
export function dragWindow([wl, ww], dx, dy) {
  const step = Math.max(ww, 1) / 200;
  return [wl + dy * step, Math.max(1, ww + dx * step)];
}

// Which preset a window is (its name), or "" (a dragged window is no preset: the list says so).
export function presetOf([wl, ww], defaultWindow) {
  if (defaultWindow && wl === defaultWindow[0] && ww === defaultWindow[1]) return "Default";
  const found = PRESETS.find(([, p]) => Array.isArray(p) && p[0] === wl && p[1] === ww);
  return found ? found[0] : "";
}
