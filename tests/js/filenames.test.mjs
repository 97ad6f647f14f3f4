// The file name of a download from its Content-Disposition header (static/filenames.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { filenameOf } from "../../osirix_tasks/web/static/filenames.js";

test("the quoted name of an attachment", () => {
  assert.equal(filenameOf('attachment; filename="rois.seg.dcm"'), "rois.seg.dcm");
  assert.equal(filenameOf('attachment; filename="a \\"b\\".csv"'), 'a "b".csv');
});

test("an unquoted name, and the UTF-8 one first when both are given", () => {
  assert.equal(filenameOf("attachment; filename=rois.csv; size=10"), "rois.csv");
  assert.equal(filenameOf("attachment; filename=\"plain.csv\"; filename*=UTF-8''r%C3%B6is.csv"), "röis.csv");
});

test("folders are dropped; no name, or only dots, gives the fallback", () => {
  assert.equal(filenameOf('attachment; filename="../../etc/passwd"'), "passwd");
  assert.equal(filenameOf('attachment; filename="C:\\\\x\\\\rois.json"'), "rois.json");
  assert.equal(filenameOf("attachment"), "download");
  assert.equal(filenameOf(null, "rois"), "rois");
  assert.equal(filenameOf('attachment; filename=".."', "rois"), "rois");
  assert.equal(filenameOf("attachment; filename*=UTF-8''%E0%A4%A", "x"), "x");
});
