// WL/WW as OsiriX applies it (static/viewer/windowing.js), checked against the formula written out.
import assert from "node:assert/strict";
import { test } from "node:test";
import { dragWindow, fullDynamic, grey, presetOf, windowInto } from "../../osirix_tasks/web/static/viewer/windowing.js";

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
