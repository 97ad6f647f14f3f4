// The query/retrieve window: search a remote DICOM node of tasks.toml ([[dicom.node]]), retrieve a
// study into the database (C-GET, or C-MOVE to this host's node), send a study or its SEG/SR results
// to a node. It lists what this host's node received lately, read again whenever the host's database
// changes (the database view follows the host's change counter and says so with "database-changed").
import { escapeHtml, get, post, setStatus } from "./api.js";
import { on } from "./bus.js";
import * as database from "./database.js";

const LEVEL_KEYS = {
  patient: ["PatientName", "PatientID", "PatientBirthDate", "NumberOfPatientRelatedStudies"],
  study: ["PatientName", "PatientID", "StudyDate", "StudyDescription", "ModalitiesInStudy", "NumberOfStudyRelatedInstances", "StudyInstanceUID"],
  series: ["SeriesNumber", "Modality", "SeriesDescription", "NumberOfSeriesRelatedInstances", "SeriesInstanceUID"],
  image: ["InstanceNumber", "SOPClassUID", "SOPInstanceUID"],
};
const UID_OF = { study: "StudyInstanceUID", series: "SeriesInstanceUID", image: "SOPInstanceUID" };
let results = [];
let level = "study";
let after = 0;  // the last arrival listed (the node numbers them)
const $ = (selector) => document.querySelector(selector);
const status = () => $("#dq-status");

function section() {
  return `<h2>Query / Retrieve</h2>
  <div id="dq-node-info" class="note"></div>
  <form id="dq-form" class="toolbar">
    <label>Node <select id="dq-node" name="node"></select></label>
    <button type="button" id="dq-echo">Echo</button>
    <label>Level <select id="dq-level"><option>patient</option><option selected>study</option><option>series</option><option>image</option></select></label>
    <input id="dq-keys" size="48" placeholder="keys, e.g. PatientName=DOE* StudyDate=20240101-20241231">
    <button type="submit">Search</button>
    <label><input type="checkbox" id="dq-move"> retrieve by C-MOVE to this host's node</label>
  </form>
  <table id="dq-table" class="grid small"><thead></thead><tbody></tbody></table>
  <h3>Send to a node</h3>
  <form id="dq-send" class="toolbar">
    <label>Node <select id="dq-send-node"></select></label>
    <input id="dq-send-study" size="48" placeholder="StudyInstanceUID of the database">
    <input id="dq-send-modalities" size="12" placeholder="only: SEG SR">
    <button type="submit">Send</button>
  </form>
  <div id="dq-status" class="status"></div>
  <h3>Received by this host's node</h3>
  <ul id="dq-arrivals" class="problems"></ul>`;
}

function parseKeys(text) {
  const keys = {};
  for (const item of text.split(/\s+/).filter(Boolean)) {
    const at = item.indexOf("=");
    if (at < 1) throw new Error(`${item} is not KEYWORD=VALUE`);
    keys[item.slice(0, at)] = item.slice(at + 1);
  }
  return keys;
}

function drawResults() {
  const columns = LEVEL_KEYS[level];
  $("#dq-table thead").innerHTML = `<tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}<th></th></tr>`;
  $("#dq-table tbody").innerHTML = results.map((row, index) => `<tr>${columns.map((c) =>
    `<td>${escapeHtml(Array.isArray(row[c]) ? row[c].join("\\") : row[c])}</td>`).join("")}
    <td>${UID_OF[level] ? `<button data-index="${index}" class="dq-retrieve">Retrieve</button>` : ""}</td></tr>`).join("");
}

async function search(event) {
  event.preventDefault();
  level = $("#dq-level").value;
  try {
    setStatus(status(), "Searching...");
    const data = await post("/api/dicom/find", { node: $("#dq-node").value, level, keys: parseKeys($("#dq-keys").value) });
    results = data.results;
    drawResults();
    setStatus(status(), `${results.length} match(es)`);
  } catch (error) { setStatus(status(), error.message, true); }
}

async function retrieve(index) {
  const row = results[index];
  const keys = { [UID_OF[level]]: row[UID_OF[level]] };
  if (level !== "study" && row.StudyInstanceUID) keys.StudyInstanceUID = row.StudyInstanceUID;
  try {
    setStatus(status(), "Retrieving...");
    const how = $("#dq-move").checked ? "move" : "get";
    const data = await post("/api/dicom/retrieve", { node: $("#dq-node").value, level, keys, how });
    setStatus(status(), data.message, data.outcome.failed > 0);
    database.load();
  } catch (error) { setStatus(status(), error.message, true); }
}

async function send(event) {
  event.preventDefault();
  try {
    setStatus(status(), "Sending...");
    const modalities = $("#dq-send-modalities").value.split(/[\s,]+/).filter(Boolean);
    const data = await post("/api/dicom/send", { node: $("#dq-send-node").value, study: $("#dq-send-study").value.trim(), modalities });
    setStatus(status(), data.message, data.outcome.failed > 0);
  } catch (error) { setStatus(status(), error.message, true); }
}

async function arrivals() {
  try {
    const data = await get(`/api/dicom/arrivals?after=${after}`);
    if (!data.listening) return;
    after = data.seq;
    const list = $("#dq-arrivals");
    for (const item of data.arrivals) {
      list.insertAdjacentHTML("afterbegin", `<li>${escapeHtml(item.modality)} ${escapeHtml(item.series_description || item.series_uid)}: ${item.instances} new from ${escapeHtml(item.calling_aet || "?")}</li>`);
    }
    while (list.children.length > 50) list.lastElementChild.remove();
  } catch { /* listed again at the next change */ }
}

export async function load() {
  try {
    const data = await get("/api/dicom");
    const options = data.nodes.map((n) => `<option value="${escapeHtml(n.name)}">${escapeHtml(n.name)} (${escapeHtml(n.ae_title)})</option>`).join("");
    $("#dq-node").innerHTML = options;
    $("#dq-send-node").innerHTML = options;
    $("#dq-node-info").textContent = data.node
      ? `This host listens as ${data.node.ae_title} on ${data.node.address}:${data.node.port}; ${data.node.received} instance(s) received.`
      : `This host is not listening as a DICOM node (AE title ${data.ae_title}); start it with --dicom-port.`;
    if (!data.nodes.length) setStatus(status(), "No remote nodes: add [[dicom.node]] entries (name, ae_title, host, port) to tasks.toml.");
  } catch (error) { setStatus(status(), error.message, true); }
  arrivals();
}

export function init() {
  $("#view-dicom").innerHTML = section();
  $("#dq-form").addEventListener("submit", search);
  $("#dq-send").addEventListener("submit", send);
  $("#dq-echo").addEventListener("click", async () => {
    try { setStatus(status(), (await post("/api/dicom/echo", { node: $("#dq-node").value })).message); }
    catch (error) { setStatus(status(), error.message, true); }
  });
  $("#dq-table tbody").addEventListener("click", (event) => {
    const button = event.target.closest(".dq-retrieve");
    if (button) retrieve(+button.dataset.index);
  });
  on("database-changed", arrivals);
}

export function shown() { load(); }
