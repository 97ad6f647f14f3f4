// What the page reads again after a poll (static/viewer/changes.js), from answers shaped as the host's
// change counters give them (GET /api/changes) and from per-viewer tokens.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromCounters, fromToken } from "../../osirix_tasks/web/static/viewer/changes.js";

const shown = new Map([["v1", []], ["v2", []]]);

test("the first answer reads again only the ROIs of shown viewers that have ROI changes", () => {
  const first = fromCounters({ supported: true, now: 7, windows: 2, viewers: {
    v1: { version: 5, pixels: 0, rois: 5, display: 3 }, v2: { version: 4, pixels: 4, rois: 0, display: 0 },
    hidden: { version: 6, pixels: 0, rois: 6, display: 0 } } }, null, shown);
  assert.equal(first.since, 7);
  assert.deepEqual([...first.reload], [["v1", new Set(["rois"])]]);
  assert.equal(first.titles, false);
});

test("later answers read again the aspects whose change is newer than the last one seen", () => {
  const seen = fromCounters({ supported: true, now: 7, windows: 2, viewers: { v1: { version: 5, pixels: 0, rois: 5, display: 3 } } }, null, shown);
  const next = fromCounters({ supported: true, now: 9, windows: 2, viewers: {
    v1: { version: 9, pixels: 8, rois: 5, display: 9 }, v2: { version: 8, pixels: 0, rois: 8, display: 0 } } }, seen, shown);
  assert.deepEqual(next.reload.get("v1"), new Set(["pixels", "display"]));
  assert.deepEqual(next.reload.get("v2"), new Set(["rois"]));
  assert.equal(next.titles, true);  // a display change: the title carries the image number
  const quiet = fromCounters({ supported: true, now: 9, windows: 3, viewers: {} }, next, shown);
  assert.equal(quiet.reload.size, 0);
  assert.equal(quiet.titles, true);  // a window opened or closed
  assert.equal(quiet.since, 9);
  assert.deepEqual(quiet.versions.get("v1"), { version: 9, pixels: 8, rois: 5, display: 9 });
});

test("a token reads the ROIs at first sight, everything when it changed, nothing when it did not", () => {
  assert.deepEqual(fromToken("a", undefined), new Set(["rois"]));
  assert.deepEqual(fromToken("a", "a"), new Set());
  assert.deepEqual(fromToken("b", "a"), new Set(["pixels", "rois", "display"]));
});
