// The 3D window's orientation cube (static/cube.js): the faces' letters and where they turn to, with the
// renderer's convention (render3d.py: at 0, 0 screen x = columns, y = rows, the eye looks along the slices).
import assert from "node:assert/strict";
import { test } from "node:test";
import { cubeEdges, cubeFaces, toCamera, volumeAxes } from "../../osirix_tasks/web/static/cube.js";

// An axial series shown head first: columns to the patient's left, rows to posterior, slices going down.
const axial = volumeAxes({ orientation: [1, 0, 0, 0, 1, 0], origins: [[0, 0, 50], [0, 0, 47.5], [0, 0, 45]] });
const rightmost = (faces) => faces.reduce((a, b) => (b.x > a.x ? b : a)).letter;
const lowest = (faces) => faces.reduce((a, b) => (b.y > a.y ? b : a)).letter;
const close = (a, b) => a.every((v, i) => Math.abs(v - b[i]) < 1e-9);

test("at 0, 0 the screen shows the image plane and the eye looks from the first slice", () => {
  assert.ok(close(toCamera([0, 0, 1], 0, 0), [1, 0, 0]));
  assert.ok(close(toCamera([0, 1, 0], 0, 0), [0, 1, 0]));
  assert.ok(close(toCamera([1, 0, 0], 0, 0), [0, 0, 1]));
  const faces = cubeFaces(axial, 0, 0);
  assert.equal(rightmost(faces), "L");
  assert.equal(lowest(faces), "P");
  assert.deepEqual(faces.filter((f) => f.visible).map((f) => f.letter), ["S"]);  // the first slice is the head's
});

test("turning keeps the faces on the directions they name", () => {
  assert.equal(rightmost(cubeFaces(axial, 90, 0)), "I");   // azimuth 90: the slices run to the right
  assert.equal(rightmost(cubeFaces(axial, 180, 0)), "R");  // seen from the other side
  assert.equal(lowest(cubeFaces(axial, 0, 90)), "I");      // elevation 90: the slices run down the screen
  const visible = cubeFaces(axial, 30, 20).filter((f) => f.visible).map((f) => f.letter).sort();
  assert.deepEqual(visible, ["L", "P", "S"]);  // turned towards +column and +row: their faces come into view
});

test("a turn is a rotation: lengths kept; the cube has 12 edges inside the unit square", () => {
  for (const [a, e] of [[0, 0], [37, -15], [200, 80]]) {
    const p = toCamera([0.3, -0.7, 0.2], a, e);
    assert.ok(Math.abs(Math.hypot(...p) - Math.hypot(0.3, -0.7, 0.2)) < 1e-9);
    const edges = cubeEdges(a, e);
    assert.equal(edges.length, 12);
    assert.ok(edges.flat(2).every((v) => Math.abs(v) <= 1 + 1e-9));
  }
});
