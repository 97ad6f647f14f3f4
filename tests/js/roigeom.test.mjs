// ROI editing geometry (static/viewer/roigeom.js): hits, handles, drags and what they send, labels.
import assert from "node:assert/strict";
import { test } from "node:test";
import { dragEdit, handles, hitTest, placeLabels, rectFor, shapeOf } from "../../osirix_tasks/web/static/viewer/roigeom.js";

// the vocabulary as the host serves it (a part): codes are data here, as in the page
const types = new Map([
  [9, { code: 9, name: "OVAL", shape: "rectangle", closed: true }],
  [6, { code: 6, name: "RECTANGLE", shape: "rectangle", closed: true }],
  [11, { code: 11, name: "CLOSED_POLYGON", shape: "points", closed: true }],
  [5, { code: 5, name: "MEASURE", shape: "points", closed: false }],
]);
const square = { uid: "p", itype: 11, points: [[10, 10], [20, 10], [20, 20], [10, 20]], selected: true };
const line = { uid: "l", itype: 5, points: [[50, 50], [80, 50]], selected: false };

test("a click inside a closed ROI or near a line hits it; a selected ROI's point is a handle", () => {
  assert.equal(hitTest([square, line], [15, 15], 1, types).part, "body");
  assert.equal(hitTest([square, line], [60, 50.5], 1, types).roi.uid, "l");
  assert.deepEqual(hitTest([square, line], [20.5, 19.6], 1, types), { roi: square, part: "handle", index: 2 });
  assert.equal(hitTest([square, line], [40, 40], 1, types), null);
});

test("dragging the body moves every point; dragging a handle moves that point only", () => {
  const moved = dragEdit({ roi: square, part: "body" }, [15, 15], [18, 11], types);
  assert.deepEqual(moved.edit, { move: [3, -4] });
  assert.deepEqual(moved.points[0], [13, 6]);
  const reshaped = dragEdit({ roi: square, part: "handle", index: 1 }, [20, 10], [25, 5], types);
  assert.deepEqual(reshaped.edit.points, [[10, 10], [25, 5], [20, 20], [10, 20]]);
});

test("resizing an oval or a rectangle sends the rect OsiriX takes for its type", () => {
  const oval = { uid: "o", itype: 9, points: [[10, 20], [30, 20], [20, 10], [20, 30]], selected: true };
  assert.deepEqual(handles(oval, types), [[10, 10], [30, 10], [30, 30], [10, 30]]);
  const bigger = dragEdit({ roi: oval, part: "handle", index: 2 }, [30, 30], [40, 34], types);
  assert.deepEqual(bigger.edit, { rect: [25, 22, 15, 12] });  // centre and radii
  assert.deepEqual(rectFor("RECTANGLE", [30, 40, 10, 20]), [10, 20, 20, 20]);
  assert.deepEqual(shapeOf("OVAL", [[0, 0], [10, 4]]), { rect: [5, 2, 5, 2] });
});

test("labels go beside their outline without covering any outline or another label", () => {
  const outlines = [[100, 100, 200, 200], [206, 90, 300, 210]];  // a second outline right of the first
  const boxes = placeLabels(outlines, outlines, [[80, 40], [80, 40]]);
  const overlaps = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
  for (const box of boxes) for (const o of outlines) assert.ok(!overlaps(box, o), `${box} covers ${o}`);
  assert.ok(!overlaps(boxes[0], boxes[1]));
});
