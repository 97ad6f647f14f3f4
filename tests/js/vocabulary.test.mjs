// The page's vocabulary loader over the table Python serves, and the ROI tools agreeing with it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { pythonVocabulary, staticModule } from "./helpers.mjs";

const { indexVocabulary, loadVocabulary } = await import(staticModule("vocabulary.js"));
const { shapeOf } = await import(staticModule("viewer/roigeom.js"));
const data = pythonVocabulary();

test("the index finds every ROI type by code, with OsiriX's label, and names unknown codes", () => {
  const vocabulary = indexVocabulary(data);
  assert.equal(vocabulary.byCode.size, data.roi_types.length);
  for (const type of data.roi_types) assert.equal(vocabulary.label(type.code), type.label);
  assert.equal(vocabulary.label(7), "type 7");
  assert.deepEqual(vocabulary.rendering_modes, ["VR", "MIP"]);
});

test("closed and drawable sets hold exactly the flagged types", () => {
  const vocabulary = indexVocabulary(data);
  for (const type of data.roi_types) {
    assert.equal(vocabulary.closed.has(type.code), type.closed, type.label);
    assert.equal(vocabulary.drawable.has(type.code), type.drawable, type.label);
  }
});

test("every drawable type is sent the way the table says OsiriX builds it (a rectangle or points)", () => {
  const drag = [[10, 20], [14, 23], [30, 60]];
  for (const type of data.roi_types.filter((t) => t.drawable)) {
    const sent = shapeOf(type.name, drag);
    assert.equal("rect" in sent, type.shape === "rectangle", `${type.label}: ${JSON.stringify(sent)}`);
    assert.equal("points" in sent, type.shape === "points", `${type.label}: ${JSON.stringify(sent)}`);
  }
});

test("the loader asks the host once", async () => {
  const asked = [];
  const get = async (path) => { asked.push(path); return data; };
  const [first, second] = await Promise.all([loadVocabulary(get), loadVocabulary(get)]);
  assert.deepEqual(asked, ["/api/vocabulary"]);
  assert.equal(first, second);
});
