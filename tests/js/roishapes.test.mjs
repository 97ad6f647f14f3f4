// What a drawing gesture sends, its preview, hit testing (static/viewer/roigeom.js), with the ROI types
// as the host serves them (osirix_tasks/vocabulary.py). Expected values are worked out from OsiriX's
// conventions (an oval's rect is its centre and half-axes; x = column, y = row), not the code's output.
// (Carried over from the tests of the page's former rois.js.)
import assert from "node:assert/strict";
import { test } from "node:test";

import { angleDegrees, hitTest, isValidShape, preview, shapeOf } from "../../osirix_tasks/web/static/viewer/roigeom.js";
import { pythonVocabulary } from "./helpers.mjs";

const vocabulary = pythonVocabulary();
const types = new Map(vocabulary.roi_types.map((t) => [t.code, t]));
const code = (name) => vocabulary.roi_types.find((t) => t.name === name).code;
const hit = (rois, point, tolerance) => hitTest(rois, point, tolerance, types)?.roi ?? null;

test("an oval drag is sent as OsiriX's oval rect: centre and half-axes, whatever the drag direction", () => {
  for (const drag of [[[10, 20], [30, 60]], [[30, 60], [10, 20]]]) assert.deepEqual(shapeOf("OVAL", drag), { rect: [20, 40, 10, 20] });
});

test("a rectangle drag is sent as its top-left corner and size", () => {
  assert.deepEqual(shapeOf("RECTANGLE", [[30, 60], [22, 14]]), { rect: [22, 14, 8, 46] });
});

test("a point and a text are placed where the drag starts; a line and an arrow keep both ends", () => {
  assert.deepEqual(shapeOf("POINT", [[5, 6], [9, 9]]), { rect: [5, 6, 1, 1] });
  assert.deepEqual(shapeOf("TEXT", [[5, 6]]), { rect: [5, 6, 1, 1] });
  const path = [[0, 0], [1, 5], [3, 4]];
  assert.deepEqual(shapeOf("MEASURE", path), { points: [[0, 0], [3, 4]] });
  assert.deepEqual(shapeOf("ARROW", path), { points: [[0, 0], [3, 4]] });
  assert.deepEqual(shapeOf("CLOSED_POLYGON", path), { points: path });
});

test("the oval preview lies on the ellipse the drag spans and closes on itself", () => {
  const outline = preview("OVAL", [[10, 20], [30, 60]]);
  for (const [x, y] of outline) assert.ok(Math.abs(((x - 20) / 10) ** 2 + ((y - 40) / 20) ** 2 - 1) < 1e-9);
  assert.ok(Math.hypot(outline[0][0] - outline.at(-1)[0], outline[0][1] - outline.at(-1)[1]) < 1e-9);
});

test("the rectangle preview visits the four corners and closes", () => {
  assert.deepEqual(preview("RECTANGLE", [[1, 2], [5, 7]]), [[1, 2], [5, 2], [5, 7], [1, 7], [1, 2]]);
  assert.deepEqual(preview("RECTANGLE", []), []);
});

test("hit testing: inside a closed shape, near a line, the topmost first, nothing elsewhere", () => {
  const square = { itype: code("CLOSED_POLYGON"), points: [[0, 0], [10, 0], [10, 10], [0, 10]] };
  const line = { itype: code("OPEN_POLYGON"), points: [[20, 0], [20, 10]] };
  const covering = { itype: code("PENCIL"), points: [[2, 2], [8, 2], [8, 8], [2, 8]] };
  assert.equal(hit([square, line], [5, 5], 1), square);
  assert.equal(hit([square, covering], [5, 5], 1), covering);  // drawn last, on top
  assert.equal(hit([square, line], [20.8, 5], 1), line);
  assert.equal(hit([square, line], [22.5, 5], 1), null);
  assert.equal(hit([square, line], [15, 5], 1), null);
});

test("hit testing a brush ROI reads its mask bits (row-major, most significant bit first)", () => {
  const rows = 3, columns = 5, on = new Set([1 * columns + 2, 2 * columns + 4]);  // (x=2, y=1) and (x=4, y=2)
  const bytes = new Uint8Array(Math.ceil((rows * columns) / 8));
  for (const i of on) bytes[i >> 3] |= 0x80 >> (i & 7);
  const bits = Buffer.from(bytes).toString("base64");
  const brush = { itype: code("BRUSH"), points: [], mask: { rows, columns, bits } };
  assert.equal(hit([brush], [2, 1], 1), brush);
  assert.equal(hit([brush], [4.2, 1.9], 1), brush);
  assert.equal(hit([brush], [3, 1], 1), null);
  assert.equal(hit([brush], [9, 9], 1), null);
});

test("angles in degrees at the vertex", () => {
  assert.ok(Math.abs(angleDegrees([1, 0], [0, 0], [0, 1]) - 90) < 1e-9);
  assert.ok(Math.abs(angleDegrees([1, 0], [0, 0], [-1, 0]) - 180) < 1e-9);
  assert.ok(Math.abs(angleDegrees([1, 0], [0, 0], [1, 1]) - 45) < 1e-9);
});

test("a gesture makes a shape only when OsiriX would accept it", () => {
  assert.equal(isValidShape("CLOSED_POLYGON", [[0, 0], [1, 1]]), false);
  assert.equal(isValidShape("CLOSED_POLYGON", [[0, 0], [1, 1], [2, 0]]), true);
  assert.equal(isValidShape("ANGLE", [[0, 0], [1, 1], [2, 0], [3, 3]]), false);
  assert.equal(isValidShape("OVAL", [[0, 0], [0.5, 3]]), false);
  assert.equal(isValidShape("RECTANGLE", [[0, 0], [2, 3]]), true);
  assert.equal(isValidShape("MEASURE", [[0, 0], [0.3, 0.3]]), false);
});
