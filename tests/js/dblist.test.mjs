// The database window's search, filters and sort (static/dblist.js), on studies shaped as GET /api/database lists them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { filterStudies, modalitiesOf, sortStudies } from "../../osirix_tasks/web/static/dblist.js";

const study = (patient, fields = {}, series = []) => ({ patient, patient_id: "", accession: "", study_id: "", description: "",
  date: null, modality: "", images: 0, ...fields, series: series.map((description) => ({ description, modality: fields.modality || "" })) });
const studies = [
  study("Doe^Jane", { patient_id: "P-7", accession: "ACC42", date: "2026-12-06 10:00", modality: "CT", images: 120 }, ["Thorax"]),
  study("Roe^Rick", { study_id: "S900", date: "2026-11-01 09:00", modality: "MR\\PT", images: 8 }, ["T1 axial"]),
  study("adams^amy", { description: "Knee", date: null, modality: "CR", images: 3 }, []),
];
const names = (list) => list.map((s) => s.patient);

test("search looks in patient name and ID, accession, study ID, description and series descriptions, any case", () => {
  assert.deepEqual(names(filterStudies(studies, { text: "p-7" })), ["Doe^Jane"]);
  assert.deepEqual(names(filterStudies(studies, { text: "acc4" })), ["Doe^Jane"]);
  assert.deepEqual(names(filterStudies(studies, { text: "s900" })), ["Roe^Rick"]);
  assert.deepEqual(names(filterStudies(studies, { text: "KNEE" })), ["adams^amy"]);
  assert.deepEqual(names(filterStudies(studies, { text: "t1 ax" })), ["Roe^Rick"]);
  assert.deepEqual(names(filterStudies(studies, { text: "  " })), names(studies));
});

test("modality and date filters", () => {
  assert.deepEqual(modalitiesOf(studies[1]), ["MR", "PT"]);
  assert.deepEqual(names(filterStudies(studies, { modality: "PT" })), ["Roe^Rick"]);
  const today = new Date(2026, 11, 7);
  assert.deepEqual(names(filterStudies(studies, { when: "Last 7 days" }, today)), ["Doe^Jane"]);
  assert.deepEqual(names(filterStudies(studies, { when: "Last month" }, today)), ["Doe^Jane"]);
  assert.deepEqual(names(filterStudies(studies, { when: "Last year" }, today)), ["Doe^Jane", "Roe^Rick"]);
  assert.deepEqual(names(filterStudies(studies, { when: "Today" }, new Date(2026, 11, 6))), ["Doe^Jane"]);
});

test("sort by a column, either way, empty values last, case-insensitive names, numbers as numbers", () => {
  assert.deepEqual(names(sortStudies(studies, "patient")), ["adams^amy", "Doe^Jane", "Roe^Rick"]);
  assert.deepEqual(names(sortStudies(studies, "patient", false)), ["Roe^Rick", "Doe^Jane", "adams^amy"]);
  assert.deepEqual(names(sortStudies(studies, "images")), ["adams^amy", "Roe^Rick", "Doe^Jane"]);
  assert.deepEqual(names(sortStudies(studies, "date")), ["Roe^Rick", "Doe^Jane", "adams^amy"]);
  assert.deepEqual(names(sortStudies(studies, "date", false)), ["Doe^Jane", "Roe^Rick", "adams^amy"]);
  assert.deepEqual(names(sortStudies(studies, null)), names(studies));
});
