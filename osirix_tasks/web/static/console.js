// The Task Console: runs (running and history), the chosen run's output live (stdout green, stderr
// red on black, as in the plugin), exit status and duration; save, clear, cancel. The dock at the
// bottom of the other views follows the run started last.
import { download, escapeHtml, events, get, post, setStatus } from "./api.js";
import { on } from "./bus.js";

let chosen = null;     // run id shown in the console window
let docked = null;     // run id shown in the dock
const streams = new Map();  // element id -> EventSource

function duration(run) {
  if (run.duration == null) return run.finished ? "" : `${Math.max(0, Date.now() / 1000 - run.started).toFixed(1)} s`;
  return `${run.duration.toFixed(2)} s`;
}

function describe(run) {
  const exit = run.exit_code != null ? `exit code ${run.exit_code}` : run.signal ? `signal ${run.signal}` : "";
  const parts = [`${run.task} (${run.type})`, run.status];
  if (exit) parts.push(exit);
  if (run.finished) parts.push(duration(run));
  if (run.message) parts.push(run.message);
  return parts.join(" - ");
}

// Follow a run's output into a <pre>: every chunk as it arrives, then how it ended.
export function follow(pre, info, runId) {
  streams.get(pre.id)?.close();
  pre.replaceChildren();
  if (!runId) { info.textContent = ""; return; }
  info.textContent = "";
  const source = events(`/api/runs/${encodeURIComponent(runId)}/stream`);
  streams.set(pre.id, source);
  source.addEventListener("chunk", (event) => {
    const chunk = JSON.parse(event.data);
    const span = document.createElement("span");
    span.className = chunk.stream;
    span.textContent = chunk.text;
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.appendChild(span);
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  });
  source.addEventListener("end", (event) => {
    const run = JSON.parse(event.data);
    info.textContent = describe(run);
    info.dataset.status = run.status;
    source.close();
  });
  source.addEventListener("gone", () => { info.textContent = "this run was cleared"; source.close(); });
  source.onerror = () => source.close();
}

export function dock(runId) {
  docked = runId;
  follow(document.querySelector("#dock-output"), document.querySelector("#dock-info"), runId);
}

function choose(runId) {
  chosen = runId;
  for (const row of document.querySelectorAll("#con-runs tbody tr")) row.classList.toggle("selected", row.dataset.id === runId);
  follow(document.querySelector("#con-output"), document.querySelector("#con-info"), runId);
  document.querySelector("#con-save").disabled = !runId;
  refreshButtons();
}

let lastRuns = [];
function refreshButtons() {
  const run = lastRuns.find((r) => r.id === chosen);
  document.querySelector("#con-cancel").disabled = !run || run.finished;
}

function render(runs) {
  lastRuns = runs;
  const body = document.querySelector("#con-runs tbody");
  const ordered = [...runs.filter((r) => !r.finished), ...runs.filter((r) => r.finished)];
  body.innerHTML = ordered.map((r) => `<tr data-id="${escapeHtml(r.id)}" class="${r.id === chosen ? "selected" : ""}">
    <td title="${escapeHtml(r.location)}">${escapeHtml(r.task)} <span class="note">${escapeHtml(r.type)}</span></td>
    <td class="run-status">${escapeHtml(r.status)}</td><td>${r.exit_code ?? (r.signal ? "sig " + r.signal : "")}</td>
    <td>${duration(r)}</td></tr>`).join("");
  refreshButtons();
}

export function init() {
  document.querySelector("#con-runs tbody").addEventListener("click", (event) => {
    const row = event.target.closest("tr");
    if (row) choose(row.dataset.id);
  });
  document.querySelector("#con-save").addEventListener("click", () => {
    if (!chosen) return;
    download(`/api/runs/${encodeURIComponent(chosen)}/download`, `osirix-tasks-${chosen}.txt`)
      .catch((error) => setStatus(document.querySelector("#con-info"), error.message, true));
  });
  document.querySelector("#con-clear").addEventListener("click", async () => {
    const data = await post("/api/runs/clear");
    setStatus(document.querySelector("#con-info"), data.message);
    document.querySelector("#con-output").replaceChildren();
    if (!data.runs.some((r) => r.id === chosen)) chosen = null;
    render(data.runs);
  });
  document.querySelector("#con-cancel").addEventListener("click", async () => {
    const button = document.querySelector("#con-cancel");
    button.disabled = true;
    try { await post(`/api/runs/${encodeURIComponent(chosen)}/cancel`); }
    catch (error) { setStatus(document.querySelector("#con-info"), error.message, true); }
  });
  on("runs", (runs) => {
    render(runs);
    if (!chosen && runs.length) choose(runs[0].id);
    if (!docked && runs.length) dock(runs[0].id);
  });
  on("run-started", (run) => { dock(run.id); choose(run.id); });
}

export function shown() {
  get("/api/runs").then((data) => render(data.runs));
}
