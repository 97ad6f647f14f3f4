// The database window: studies and their series (patient, description, date, modality, images) with
// a thumbnail per series; a click selects (the browser selection Database tasks see); a double-click
// or "Open" opens the series in a 2D viewer; files are imported by picking them or by path.
import { escapeHtml, get, pixels, post, setStatus, upload } from "./api.js";
import { emit, on } from "./bus.js";
import { register } from "./menus.js";

let studies = [];
let canSelect = false;
let chosen = null;  // {kind: "study"|"series", uid}
let showView = null;
const status = () => document.querySelector("#db-status");

function rows() {
  return studies.map((s) => `<tr class="study ${s.selected ? "selected" : ""}" data-kind="study" data-uid="${escapeHtml(s.uid)}">
      <td></td><td>${escapeHtml(s.patient)} <span class="note">${escapeHtml(s.patient_id)}</span></td>
      <td>${escapeHtml(s.description)}</td><td>${escapeHtml(s.date || "")}</td><td>${escapeHtml(s.modality)}</td><td>${s.images}</td></tr>` +
    s.series.map((r) => `<tr class="series ${r.selected ? "selected" : ""}" data-kind="series" data-uid="${escapeHtml(r.uid)}" data-study="${escapeHtml(s.uid)}">
      <td><canvas class="thumb" data-series="${escapeHtml(r.uid)}" width="48" height="48"></canvas></td>
      <td>${escapeHtml(r.description)}</td><td class="note">${escapeHtml(r.series_uid)}</td>
      <td>${escapeHtml(r.date || "")}</td><td>${escapeHtml(r.modality)}</td><td>${r.images}</td></tr>`).join("")).join("");
}

async function drawThumbnail(canvas) {
  try {
    const image = await pixels(`/api/series/${encodeURIComponent(canvas.dataset.series)}/thumbnail`);
    canvas.width = image.columns;
    canvas.height = image.rows;  // RGBA, windowed as the viewer shows the image
    canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(image.data), image.columns, image.rows), 0, 0);
  } catch { /* a series without a readable image keeps a black icon */ }
}

export async function load() {
  try {
    const data = await get("/api/database");
    studies = data.studies;
    canSelect = data.can_select;
    document.querySelector("#db-table tbody").innerHTML = rows();
    document.querySelectorAll("#db-table canvas.thumb").forEach(drawThumbnail);
    const selected = document.querySelector("#db-table tbody tr.selected");
    chosen = selected ? { kind: selected.dataset.kind, uid: selected.dataset.uid } : chosen;
    updateButtons();
    if (!studies.length) setStatus(status(), "The database is empty - import DICOM files.");
  } catch (error) { setStatus(status(), error.message, true); }
}

function updateButtons() {
  document.querySelector("#db-open").disabled = !chosen;
}

async function select(row) {
  chosen = { kind: row.dataset.kind, uid: row.dataset.uid };
  for (const r of document.querySelectorAll("#db-table tbody tr")) r.classList.toggle("selected", r === row);
  updateButtons();
  if (!canSelect) { setStatus(status(), "Selection is made in OsiriX's own database window for this OsiriX"); return; }
  const study = studies.find((s) => s.uid === (row.dataset.kind === "study" ? row.dataset.uid : row.dataset.study));
  const body = row.dataset.kind === "study" ? { studies: [study.study_uid] }
    : { series: [study.series.find((r) => r.uid === row.dataset.uid).series_uid] };
  try { setStatus(status(), (await post("/api/database/select", body)).message); }
  catch (error) { setStatus(status(), error.message, true); }
}

async function openChosen() {
  if (!chosen) return;
  let seriesUid = chosen.uid;
  if (chosen.kind === "study") seriesUid = studies.find((s) => s.uid === chosen.uid)?.series[0]?.uid;
  if (!seriesUid) { setStatus(status(), "This study has no series to open", true); return; }
  try {
    setStatus(status(), "Opening...");
    const data = await post(`/api/series/${encodeURIComponent(seriesUid)}/open`);
    setStatus(status(), "");
    emit("viewer-opened", data.viewer);
    showView("viewer");
  } catch (error) { setStatus(status(), error.message, true); }
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
  const before = JSON.stringify(studies.map((s) => [s.uid, s.images]));
  let tries = 0;
  const timer = setInterval(async () => {
    if (started.import) {
      let outcome;
      try { outcome = await get(`/api/database/imports/${encodeURIComponent(started.import)}`); }
      catch (error) { clearInterval(timer); setStatus(status(), error.message, true); return; }
      if (!outcome.done) return;
      clearInterval(timer);
      await load();
      setStatus(status(), outcome.message, !outcome.ok);
      return;
    }
    await load();
    if (JSON.stringify(studies.map((s) => [s.uid, s.images])) !== before || ++tries > 20) clearInterval(timer);
  }, 500);
}

export function init({ show }) {
  showView = show;
  const body = document.querySelector("#db-table tbody");
  body.addEventListener("click", (event) => { const row = event.target.closest("tr"); if (row) select(row); });
  body.addEventListener("dblclick", (event) => { const row = event.target.closest("tr"); if (row) { chosen = { kind: row.dataset.kind, uid: row.dataset.uid }; openChosen(); } });
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
}

export function shown() { load(); }
