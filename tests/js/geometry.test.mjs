// Patient geometry (static/viewer/geometry.js): orientation markers, scale bar, sync by position, MPR maps.
import assert from "node:assert/strict";
import { test } from "node:test";
import { makeCamera, rotateBy, flipScreen, transform } from "../../osirix_tasks/web/static/viewer/camera.js";
import { directionLabel, markers, nearestSlice, planePoint, scaleBar, voxelOf } from "../../osirix_tasks/web/static/viewer/geometry.js";

const view = { width: 512, height: 512, columns: 256, rows: 256, spacing: [1, 1] };
const m = (camera = makeCamera()) => transform(camera, view);

test("an axial image shows R on the left, L on the right, A on top, P at the bottom", () => {
  assert.deepEqual(markers([1, 0, 0], [0, 1, 0], m()), { left: "R", right: "L", top: "A", bottom: "P" });
});

test("a sagittal image shows A left, P right, S top, I bottom", () => {
  assert.deepEqual(markers([0, 1, 0], [0, 0, -1], m()), { left: "A", right: "P", top: "S", bottom: "I" });
});

test("markers follow a flip and a rotation of the view", () => {
  assert.deepEqual(markers([1, 0, 0], [0, 1, 0], m(flipScreen(makeCamera(), true))), { left: "L", right: "R", top: "A", bottom: "P" });
  assert.deepEqual(markers([1, 0, 0], [0, 1, 0], m(rotateBy(makeCamera(), 90))), { left: "P", right: "A", top: "R", bottom: "L" });
});

test("oblique directions give the strongest letters first", () => {
  assert.equal(directionLabel([0.8, -0.6, 0]), "LA");
  assert.equal(directionLabel([0.1, 0, -0.99]), "I");
});

test("the scale bar is a round length that fits", () => {
  assert.deepEqual(scaleBar(2, 150), { mm: 50, pixels: 100, label: "5 cm" });
  assert.equal(scaleBar(10, 150).label, "1 cm");
  assert.equal(scaleBar(0, 150), null);
});

test("synchronised scrolling finds the nearest slice of a parallel series and none of an orthogonal one", () => {
  const axial = [1, 0, 0, 0, 1, 0];
  const a = { orientation: axial, origins: [0, 1, 2, 3].map((i) => [0, 0, i * 5]) };
  const b = { orientation: axial, origins: [0, 1, 2, 3, 4, 5, 6].map((i) => [10, 10, 1 + i * 2.5]) };
  assert.equal(nearestSlice(a, 2, b), 4);  // z = 10 -> b's z = 11 (i = 4) or 8.5 (i = 3): 11 is nearer
  const sagittal = { orientation: [0, 1, 0, 0, 0, -1], origins: [[0, 0, 0], [1, 0, 0]] };
  assert.equal(nearestSlice(a, 1, sagittal), null);
});

test("MPR: a point on one plane is a voxel, and the voxel shows back at the same point", () => {
  const row = { plane: "row", count: 128, x: { axis: "column", size: 256, reversed: false }, y: { axis: "slice", size: 40, reversed: true } };
  const voxel = voxelOf(row, 70, [12, 5], [0, 0, 0]);
  assert.deepEqual(voxel, [34, 70, 12]);  // y reversed: screen row 5 is slice 40 - 1 - 5
  assert.deepEqual(planePoint(row, voxel), { index: 70, point: [12, 5] });
});
