// The database window: studies and their series with OsiriX's columns (patient name, patient ID, date
// of birth, accession number, study ID, description, date, modality, images), a thumbnail per series;
// search, modality and date filters, sort by a column (click its heading, again to reverse). A click
// selects (the browser selection Database tasks see; ctrl/cmd-click adds); a double-click or "Open"
// opens the series in a 2D viewer; Delete (after a confirmation) and Export work on the selection;
// files are imported by picking them or by path, with the import's progress. "Batch..." runs a task
// over every selected row (a selected study stands for its series when the task works on series): the
// host records the batch and drives it, and the Batches view shows it.
// The list follows the host's database: it is read again when the host's "browser" change counter
// moves (an import, a series received by its DICOM node), asked with GET /api/changes.
import { escapeHtml, get, pixels, post, setStatus, upload } from "./api.js";
import { emit, on } from "./bus.js";
import { COLUMNS, WHEN, filterStudies, modalitiesOf, sortStudies } from "./dblist.js";
import { listing } from "./early.js";
import { register } from "./menus.js";

let studies = [];
let canSelect = false;
let chosen = [];  // [{kind: "study"|"series", uid}] in the order clicked
let sort = { key: null, ascending: true };
let showView = null;
const FOLLOW_MS = 1500;
const $ = (s) => document.querySelector(s);
const status = () => $("#db-status");
const cell = (value) => `<td>${escapeHtml(value ?? "")}</td>`;
const isChosen = (kind, uid) => chosen.some((c) => c.kind === kind && c.uid === uid);

function shownStudies() {
  const filters = { text: $("#db-search").value, modality: $("#db-modality").value, when: $("#db-when").value };
  return sortStudies(filterStudies(studies, filters), sort.key, sort.ascending);
}

function rows(list) {
  return list.map((s) => `<tr class="study ${isChosen("study", s.uid) ? "selected" : ""}" data-kind="study" data-uid="${escapeHtml(s.uid)}">
      <td></td>${COLUMNS.map(([key]) => cell(s[key])).join("")}</tr>` +
    s.series.map((r) => `<tr class="series ${isChosen("series", r.uid) ? "selected" : ""}" data-kind="series" data-uid="${escapeHtml(r.uid)}" data-study="${escapeHtml(s.uid)}">
      <td><canvas class="thumb" data-series="${escapeHtml(r.uid)}" width="48" height="48"></canvas></td>
      <td class="note" title="${escapeHtml(r.series_uid)}">Series</td><td></td><td></td><td></td><td></td>
      ${cell(r.description)}${cell(r.date)}${cell(r.modality)}${cell(r.images)}</tr>`).join("")).join("");
}

function showList() {
  const list = shownStudies();
  $("#db-table tbody").innerHTML = rows(list);
  document.querySelectorAll("#db-table canvas.thumb").forEach(drawThumbnail);
  for (const th of document.querySelectorAll("#db-table thead th[data-sort]")) {
    th.dataset.order = th.dataset.sort === sort.key ? (sort.ascending ? "up" : "down") : "";
  }
  const series = list.reduce((n, s) => n + s.series.length, 0);
  $("#db-count").textContent = `${list.length} of ${studies.length} ${studies.length === 1 ? "study" : "studies"}, ${series} series`;
}

export async function drawThumbnail(canvas) {
  try {
    const image = await pixels(`/api/series/${encodeURIComponent(canvas.dataset.series)}/thumbnail`);
    canvas.width = image.columns;
    canvas.height = image.rows;  // RGBA, windowed as the viewer shows the image
    canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(image.data), image.columns, image.rows), 0, 0);
  } catch { /* a series without a readable image keeps a black icon */ }
}

let early = listing;  // the first listing, asked for while the page starts (early.js)

export async function load() {
  try {
    const data = await (early || get("/api/database"));
    early = null;
    studies = data.studies;
    canSelect = data.can_select;
    const known = new Set(studies.flatMap((s) => [`study:${s.uid}`, ...s.series.map((r) => `series:${r.uid}`)]));
    chosen = chosen.filter((c) => known.has(`${c.kind}:${c.uid}`));
    if (!chosen.length) {  // the host's selection (a task, or OsiriX's own rule after a delete)
      chosen = studies.flatMap((s) => [...(s.selected ? [{ kind: "study", uid: s.uid }] : []),
        ...s.series.filter((r) => r.selected).map((r) => ({ kind: "series", uid: r.uid }))]);
    }
    const modalities = [...new Set(studies.flatMap(modalitiesOf))].sort();
    const picked = $("#db-modality").value;
    $("#db-modality").innerHTML = '<option value="">All modalities</option>' + modalities.map((m) => `<option>${escapeHtml(m)}</option>`).join("");
    $("#db-modality").value = modalities.includes(picked) ? picked : "";
    showList();
    updateButtons();
    if (!studies.length) setStatus(status(), "The database is empty - import DICOM files.");
  } catch (error) { setStatus(status(), error.message, true); }
}

function updateButtons() {
  $("#db-open").disabled = !chosen.length;
  $("#db-delete").disabled = !chosen.length || !canSelect;
  $("#db-delete").title = canSelect ? "Delete the selected studies and series from the database"
    : "Deleting is done in OsiriX's own database window for this OsiriX";
  $("#db-export").disabled = !chosen.length;
  $("#db-batch").disabled = !chosen.length;
}

// The DICOM UIDs (as the host's selection and delete take them) of the chosen rows.
function chosenUids() {
  const out = { studies: [], series: [] };
  for (const c of chosen) {
    if (c.kind === "study") out.studies.push(studies.find((s) => s.uid === c.uid).study_uid);
    else out.series.push(studies.flatMap((s) => s.series).find((r) => r.uid === c.uid).series_uid);
  }
  return out;
}

async function select(row, add) {
  const item = { kind: row.dataset.kind, uid: row.dataset.uid };
  chosen = add ? (isChosen(item.kind, item.uid) ? chosen.filter((c) => c.kind !== item.kind || c.uid !== item.uid) : [...chosen, item]) : [item];
  for (const r of document.querySelectorAll("#db-table tbody tr")) r.classList.toggle("selected", isChosen(r.dataset.kind, r.dataset.uid));
  updateButtons();
  if (!canSelect) { setStatus(status(), "Selection is made in OsiriX's own database window for this OsiriX"); return; }
  try { setStatus(status(), (await post("/api/database/select", chosenUids())).message); }
  catch (error) { setStatus(status(), error.message, true); }
}

async function openChosen() {
  const first = chosen[0];
  if (!first) return;
  let seriesUid = first.uid;
  if (first.kind === "study") seriesUid = studies.find((s) => s.uid === first.uid)?.series[0]?.uid;
  if (!seriesUid) { setStatus(status(), "This study has no series to open", true); return; }
  try {
    setStatus(status(), "Opening...");
    const data = await post(`/api/series/${encodeURIComponent(seriesUid)}/open`);
    setStatus(status(), "");
    emit("viewer-opened", data.viewer);
    showView("viewer");
  } catch (error) { setStatus(status(), error.message, true); }
}

// What the chosen rows are, in words ("2 studies and 1 series").
function describeChosen() {
  const count = (kind) => chosen.filter((c) => c.kind === kind).length;
  const studiesCount = count("study"), seriesCount = count("series");
  return [studiesCount ? `${studiesCount} ${studiesCount === 1 ? "study" : "studies"}` : "", seriesCount ? `${seriesCount} series` : ""]
    .filter(Boolean).join(" and ");
}

// OsiriX asks before it deletes: the in-page sheet says what goes and waits for Delete or Cancel.
function askDelete() {
  if (!chosen.length) return;
  $("#db-confirm-text").textContent = `Delete ${describeChosen()} from the database? The files the database copied go too; this cannot be undone.`;
  $("#db-confirm").hidden = false;
  $("#db-confirm button[type='submit']").focus();
}

async function deleteChosen(event) {
  event.preventDefault();
  $("#db-confirm").hidden = true;
  try {
    setStatus(status(), (await post("/api/database/delete", chosenUids())).message);
    chosen = [];
    await load();
    emit("database-changed");
  } catch (error) { setStatus(status(), error.message, true); }
}

async function exportChosen(event) {
  event.preventDefault();
  const folder = $("#db-export-folder").value.trim();
  const body = { folder, studies: chosen.filter((c) => c.kind === "study").map((c) => c.uid), series: chosen.filter((c) => c.kind === "series").map((c) => c.uid) };
  try {
    setStatus(status(), `Exporting ${describeChosen()}...`);
    const data = await post("/api/database/export", body);
    $("#db-export-form").hidden = true;
    setStatus(status(), data.message);
  } catch (error) { setStatus(status(), error.message, true); }
}

let batchTasks = [];  // [{name, type}] offered in the batch sheet

// The batch sheet: every task of every window's menu, one batch over the chosen rows.
async function askBatch() {
  if (!chosen.length) return;
  try {
    const data = await get("/api/menus");
    const seen = new Set();
    batchTasks = data.windows.flatMap((w) => w.menus.flatMap((m) => m.entries.map((e) => ({ name: e.name, type: m.type }))))
      .filter((t) => !seen.has(`${t.type}:${t.name}`) && seen.add(`${t.type}:${t.name}`));
  } catch (error) { setStatus(status(), error.message, true); return; }
  $("#db-batch-task").innerHTML = batchTasks.map((t, i) => `<option value="${i}">${escapeHtml(t.name)} (${escapeHtml(t.type)})</option>`).join("");
  showRoiNames();
  $("#db-batch-text").textContent = `Run a task on ${describeChosen()}:`;
  $("#db-batch-form").hidden = false;
  $("#db-batch-task").focus();
}

// The ROI names field is for ROI tasks only.
function showRoiNames() {
  $("#db-batch-rois").closest("label").hidden = batchTasks[Number($("#db-batch-task").value)]?.type !== "ROI";
}

async function startBatch(event) {
  event.preventDefault();
  const task = batchTasks[Number($("#db-batch-task").value)];
  if (!task) return;
  const workers = $("#db-batch-workers").value.trim();
  const rois = task.type === "ROI" ? $("#db-batch-rois").value.split(",").map((n) => n.trim()).filter(Boolean) : [];
  try {
    setStatus(status(), `Starting '${task.name}' on ${describeChosen()}...`);
    const data = await post("/api/batches/start", { name: task.name, type: task.type, ...chosenUids(), rois, ...(workers ? { workers: Number(workers) } : {}) });
    $("#db-batch-form").hidden = true;
    setStatus(status(), data.message);
    emit("batch-started", data.batch.id);
    showView("batch");
  } catch (error) { setStatus(status(), error.message, true); }
}

function sortBy(key) {
  sort = sort.key === key ? { key, ascending: !sort.ascending } : { key, ascending: true };
  showList();
}

async function importFiles(files) {
  const batch = Math.random().toString(36).slice(2);
  const paths = [];
  let sent = 0;
  for (const file of files) {
    const data = await upload(`/api/database/upload?batch=${batch}&name=${encodeURIComponent(file.name)}`, file);
    paths.push(data.path);
    setStatus(status(), `Uploaded ${++sent} of ${files.length}`);
  }
  return post("/api/database/import", { paths });
}

// Show what came of an import (what the CLI reports: imported, already there, skipped and why) once
// the host has it; another OsiriX does not tell, so the list is refreshed for a while instead.
function pollAfterImport(started) {
  setStatus(status(), started.message);
  const bar = $("#db-progress");
  bar.hidden = !started.import;
  bar.removeAttribute("value");
  const before = JSON.stringify(studies.map((s) => [s.uid, s.images]));
  let tries = 0;
  const timer = setInterval(async () => {
    if (started.import) {
      let outcome;
      try { outcome = await get(`/api/database/imports/${encodeURIComponent(started.import)}`); }
      catch (error) { clearInterval(timer); bar.hidden = true; setStatus(status(), error.message, true); return; }
      if (!outcome.done) {
        setStatus(status(), outcome.message);
        if (outcome.total) { bar.max = outcome.total; bar.value = outcome.read; }
        return;
      }
      clearInterval(timer);
      bar.hidden = true;
      await load();
      setStatus(status(), outcome.message, !outcome.ok);
      return;
    }
    await load();
    if (JSON.stringify(studies.map((s) => [s.uid, s.images])) !== before || ++tries > 20) clearInterval(timer);
  }, 500);
}

// The host's browser change counter, polled (another OsiriX shown has none: read by hand with Refresh).
async function followChanges() {
  let seen = null;
  for (;;) {
    try {
      const changes = await get("/api/changes");
      if (changes.supported && seen !== null && changes.browser > seen) {
        await load();
        emit("database-changed");
      }
      seen = changes.supported ? changes.browser : null;
    } catch { /* the host is busy or restarting: ask again */ }
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_MS));
  }
}

export function init({ show }) {
  showView = show;
  const body = document.querySelector("#db-table tbody");
  body.addEventListener("click", (event) => { const row = event.target.closest("tr"); if (row) select(row, event.ctrlKey || event.metaKey); });
  body.addEventListener("dblclick", (event) => { const row = event.target.closest("tr"); if (row) { chosen = [{ kind: row.dataset.kind, uid: row.dataset.uid }]; openChosen(); } });
  $("#db-table thead tr").innerHTML = "<th></th>" + COLUMNS.map(([key, label]) => `<th data-sort="${key}" title="Sort by ${escapeHtml(label.toLowerCase())}">${escapeHtml(label)}</th>`).join("");
  for (const th of document.querySelectorAll("#db-table thead th[data-sort]")) th.addEventListener("click", () => sortBy(th.dataset.sort));
  $("#db-when").innerHTML = Object.keys(WHEN).map((w) => `<option>${escapeHtml(w)}</option>`).join("");
  for (const id of ["#db-search", "#db-modality", "#db-when"]) $(id).addEventListener("input", showList);
  $("#db-delete").addEventListener("click", askDelete);
  $("#db-confirm").addEventListener("submit", deleteChosen);
  $("#db-confirm button[name='cancel']").addEventListener("click", () => { $("#db-confirm").hidden = true; });
  $("#db-export").addEventListener("click", () => { $("#db-export-form").hidden = false; $("#db-export-folder").focus(); });
  $("#db-export-form").addEventListener("submit", exportChosen);
  $("#db-batch").addEventListener("click", askBatch);
  $("#db-batch-form").addEventListener("submit", startBatch);
  $("#db-batch-task").addEventListener("change", showRoiNames);
  $("#db-batch-form button[name='cancel']").addEventListener("click", () => { $("#db-batch-form").hidden = true; });
  $("#db-export-form button[name='cancel']").addEventListener("click", () => { $("#db-export-form").hidden = true; });
  document.querySelector("#db-open").addEventListener("click", openChosen);
  document.querySelector("#db-refresh").addEventListener("click", load);
  document.querySelector("#db-files").addEventListener("change", async (event) => {
    const files = [...event.target.files];
    event.target.value = "";
    if (!files.length) return;
    try { pollAfterImport(await importFiles(files)); }
    catch (error) { setStatus(status(), error.message, true); }
  });
  document.querySelector("#db-import").addEventListener("click", async () => {
    const path = document.querySelector("#db-path").value.trim();
    try { pollAfterImport(await post("/api/database/import", { paths: [path] })); }
    catch (error) { setStatus(status(), error.message, true); }
  });
  register("Database window", { status: "#db-status" });
  on("run-finished", (run) => { if (run.type === "Database") load(); });
  followChanges();
}

export function shown() { load(); }
