// The Batch view: batches with their progress, the state of each item, the output of any item (items are
// runs: the console's stream), and cancel. Refreshed every second while shown. A batch started from the
// database window's selection is shown as it starts.
import { escapeHtml, get, post, setStatus } from "./api.js";
import { on } from "./bus.js";
import { follow } from "./console.js";

let chosen = null;  // batch id shown
let timer = null;

function seconds(value) { return value == null ? "" : `${value.toFixed(2)} s`; }

async function refreshList() {
  const { batches } = await get("/api/batches");
  const body = document.querySelector("#bt-list tbody");
  body.replaceChildren(...batches.map((b) => {
    const row = document.createElement("tr");
    row.dataset.id = b.id;
    row.dataset.status = b.status;
    row.classList.toggle("selected", b.id === chosen);
    row.innerHTML = `<td>${escapeHtml(b.task_name)}</td><td>${escapeHtml(b.status)}</td><td>${b.done}/${b.total}</td>`;
    row.addEventListener("click", () => { chosen = b.id; refresh(); });
    return row;
  }));
  if (!chosen && batches.length) chosen = batches[0].id;
}

async function refreshBatch() {
  if (!chosen) return;
  const { batch, items } = await get(`/api/batches/${encodeURIComponent(chosen)}`);
  const progress = document.querySelector("#bt-progress");
  progress.max = Math.max(batch.total, 1);
  progress.value = batch.done;
  document.querySelector("#bt-info").textContent =
    `${batch.task_name} (${batch.task_type}) - ${batch.status} - ${batch.done}/${batch.total} done - ${batch.selection}`;
  document.querySelector("#bt-cancel").disabled = batch.finished;
  const body = document.querySelector("#bt-items tbody");
  body.replaceChildren(...items.map((item) => {
    const row = document.createElement("tr");
    row.dataset.index = item.index;
    row.dataset.status = item.status;
    const target = item.target.series || item.target.study || "";
    row.innerHTML = `<td>${item.index}</td><td title="${escapeHtml(target)}">${escapeHtml(item.ids.series_description || item.ids.study_description || target)}</td>` +
      `<td>${escapeHtml(item.status)}</td><td>${item.attempts}</td><td>${seconds(item.duration)}</td><td>${escapeHtml(item.worker || "")}</td>`;
    if (item.run_id) {
      row.addEventListener("click", () => {
        for (const other of body.querySelectorAll("tr")) other.classList.toggle("selected", other === row);
        follow(document.querySelector("#bt-output"), document.querySelector("#bt-output-info"), item.run_id);
      });
    }
    return row;
  }));
}

async function refresh() {
  try {
    await refreshList();
    await refreshBatch();
  } catch (error) {
    setStatus(document.querySelector("#bt-info"), error.message, true);
  }
}

export function init() {
  document.querySelector("#bt-cancel").addEventListener("click", async () => {
    try {
      const answer = await post(`/api/batches/${encodeURIComponent(chosen)}/cancel`);
      setStatus(document.querySelector("#bt-info"), answer.message);
    } catch (error) {
      setStatus(document.querySelector("#bt-info"), error.message, true);
    }
  });
  on("batch-started", (id) => { chosen = id; });  // started from the database window's selection
  window.addEventListener("hashchange", () => { if (location.hash !== "#batch") { clearInterval(timer); timer = null; } });
}

export function shown() {
  refresh();
  clearInterval(timer);
  timer = setInterval(() => { if (location.hash === "#batch") refresh(); }, 1000);
}
