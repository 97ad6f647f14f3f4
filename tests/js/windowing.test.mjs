// WL/WW as OsiriX applies it (static/viewer/windowing.js), checked against the formula written out.
import assert from "node:assert/strict";
import { test } from "node:test";
import { dragWindow, fullDynamic, grey, presetOf, rangeOf, windowInto, windowTable, windowThrough } from "../../osirix_tasks/web/static/viewer/windowing.js";

test("grey levels follow (v - (WL - WW/2)) / WW * 255, clamped, inverted on request", () => {
  const [wl, ww] = [40, 400];
  for (const v of [-1000, -160, -159, 0, 40, 239, 240, 3000]) {
    const expected = Math.min(255, Math.max(0, Math.floor(((v - (wl - ww / 2)) / ww) * 255)));
    assert.equal(grey(v, wl, ww), expected, `value ${v}`);
    assert.equal(grey(v, wl, ww, true), 255 - expected);
  }
});

test("windowInto writes opaque grey words, the same as grey()", () => {
  const values = Float32Array.from([-500, 0, 20.5, 100, 1e6]);
  const out = windowInto(values, new Uint32Array(5), 10, 200, false);
  values.forEach((v, i) => {
    const g = grey(v, 10, 200);
    assert.equal(out[i] >>> 0, (0xff000000 | (g << 16) | (g << 8) | g) >>> 0);
  });
});

test("full dynamic spans the plane; a drag changes level and width; presets are named only when exact", () => {
  assert.deepEqual(fullDynamic(Int16Array.from([-1024, 0, 3071])), [1023.5, 4095]);
  const [wl, ww] = dragWindow([40, 400], 100, -50);
  assert.ok(ww > 400 && wl < 40);
  assert.equal(presetOf([300, 1500], [40, 80]), "Bone");
  assert.equal(presetOf([40, 80], [40, 80]), "Default");
  assert.equal(presetOf([41, 80], [40, 80]), "");
});

test("a table over a plane's range windows whole values exactly as the formula", () => {
  const values = Int16Array.from({ length: 4000 }, (_, i) => -1024 + ((i * 7919) % 4096));
  const [low, high] = rangeOf(values);
  assert.deepEqual([low, high], [Math.min(...values), Math.max(...values)]);
  for (const [wl, ww, invert] of [[40, 400, false], [40, 400, true], [-600, 1500, false], [0.5, 1, false], [3000, 0.2, true]]) {
    const out = windowThrough(values, new Uint32Array(values.length), windowTable(low, high, wl, ww, invert), low);
    values.forEach((v, i) => {
      let g = Math.min(255, Math.max(0, Math.floor(((v - (wl - ww / 2)) / Math.max(ww, 1e-6)) * 255)));
      if (invert) g = 255 - g;
      assert.equal(out[i] >>> 0, (0xff000000 | (g << 16) | (g << 8) | g) >>> 0, `value ${v} at ${wl}/${ww}`);
    });
  }
});

test("a table reuses the array it is given when it is large enough; unsigned planes too", () => {
  const spare = new Uint32Array(100);
  const table = windowTable(10, 19, 15, 10, false, spare);
  assert.equal(table.buffer, spare.buffer);
  assert.equal(table.length, 10);
  const values = Uint16Array.from([10, 19, 15, 65535 - 65520]);
  const out = windowThrough(values, new Uint32Array(4), table, 10);
  assert.deepEqual(Array.from(out, (w) => w & 0xff), [0, 229, 127, 127]);  // (v - 10) * 255 / 10, floored
  assert.deepEqual(rangeOf(new Float32Array(0)), [0, 0]);
  assert.deepEqual(fullDynamic(Float32Array.from([NaN, 2, 6])), [4, 4]);
});
