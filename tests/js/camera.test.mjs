// The viewport camera (static/viewer/camera.js): fitting, zoom about the cursor, pan, flips, rotation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apply, displayedZoom, flipScreen, invert, makeCamera, rotateBy, toImage, toScreen, transform, zoomAt } from "../../osirix_tasks/web/static/viewer/camera.js";

const view = { width: 800, height: 600, columns: 256, rows: 128, spacing: [2, 1] };  // 256 x 256 mm
const close = (a, b, eps = 1e-9) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < eps, `${a} != ${b}`));

test("the image's physical size is fitted and centred (non-square pixels)", () => {
  const camera = makeCamera();
  // 256 mm square into 800 x 600: 600/256 px per mm; the image edges land on the viewport's
  close(toScreen(camera, view, [-0.5, -0.5]), [400 - 300, 0]);
  close(toScreen(camera, view, [255.5, 127.5]), [400 + 300, 600]);
});

test("screen and image coordinates invert each other", () => {
  const camera = { zoom: 2.5, pan: [13, -7], rotation: 90, flipH: true, flipV: false };
  for (const p of [[0, 0], [10.25, 99], [255, 127]]) close(toImage(camera, view, toScreen(camera, view, p)), p, 1e-9);
  const m = transform(camera, view);
  close(apply(invert(m), apply(m, [3, 4])), [3, 4]);
});

test("zooming at a point keeps the image point under the cursor", () => {
  const camera = { ...makeCamera(), pan: [20, 30] };
  const cursor = [611, 123];
  const before = toImage(camera, view, cursor);
  const zoomed = zoomAt(camera, view, cursor, 3.7);
  close(toImage(zoomed, view, cursor), before, 1e-9);
  assert.equal(zoomed.zoom, 3.7);
});

test("flips and rotation act as the screen shows them", () => {
  const c0 = makeCamera();
  const right = toScreen(c0, view, [255, 64]);
  const flipped = flipScreen(c0, true);
  assert.ok(toScreen(flipped, view, [255, 64])[0] < 400 && right[0] > 400);
  const turned = rotateBy(c0, 90);  // a quarter turn clockwise: the image's right goes down
  const p = toScreen(turned, view, [255, 64]);
  assert.ok(p[1] > 590 && Math.abs(p[0] - 400) < 3, String(p));
  // after a quarter turn a screen-horizontal flip swaps the image's vertical axis
  assert.equal(flipScreen(turned, true).flipV, true);
  assert.equal(rotateBy(turned, 270).rotation, 0);
});

test("the zoom shown is screen pixels per image column", () => {
  const camera = makeCamera();
  assert.ok(Math.abs(displayedZoom(camera, view) - 600 / 256) < 1e-9);
  assert.ok(Math.abs(displayedZoom({ ...camera, zoom: 2 }, view) - 1200 / 256) < 1e-9);
});
