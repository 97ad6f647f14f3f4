// Script Management: the plugin's table (name, type, blocking, language, location, interpreter) plus
// where each task comes from; type, blocking and interpreter change in place for registry tasks;
// add (+) and remove (-); packs enabled or disabled. A validation error shows next to its field.
import { escapeHtml, get, post, put, setStatus } from "./api.js";

const TYPES = [["Image", "Image"], ["ROI", "ROI"], ["VRController", "VR"], ["Database", "Database"]];
let selected = null;  // {name, type}
const status = () => document.querySelector("#sc-status");

function typeSelect(task) {
  if (!task.editable) return escapeHtml(TYPES.find((t) => t[0] === task.type)?.[1] || task.type);
  return `<select data-change="type">${TYPES.map(([value, label]) =>
    `<option value="${value}" ${value === task.type ? "selected" : ""}>${label}</option>`).join("")}</select>`;
}

function render(data) {
  document.querySelector("#sc-registry").textContent = `Registry: ${data.registry}`;
  const body = document.querySelector("#sc-table tbody");
  body.innerHTML = data.tasks.map((t) => {
    const key = selected && selected.name === t.name && selected.type === t.type;
    return `<tr data-name="${escapeHtml(t.name)}" data-type="${escapeHtml(t.type)}" data-editable="${t.editable}" class="${key ? "selected" : ""}">
      <td title="${escapeHtml(t.description)}">${escapeHtml(t.name)}</td>
      <td>${typeSelect(t)}<span class="field-error" data-field="type"></span></td>
      <td><input type="checkbox" data-change="blocking" ${t.blocking ? "checked" : ""} ${t.editable ? "" : "disabled"}><span class="field-error" data-field="blocking"></span></td>
      <td>${escapeHtml(t.language)}</td>
      <td title="${escapeHtml(t.location)}">${escapeHtml(t.location)}</td>
      <td>${t.editable ? `<input data-change="interpreter" value="${escapeHtml(t.interpreter)}" size="28">` : `<span title="${escapeHtml(t.interpreter)}">${escapeHtml(t.interpreter)}</span>`}<span class="field-error" data-field="interpreter"></span></td>
      <td>${escapeHtml(t.origin)}</td></tr>`;
  }).join("");
  document.querySelector("#sc-packs tbody").innerHTML = data.packs.map((p) => `<tr>
    <td><input type="checkbox" data-pack="${escapeHtml(p.name)}" ${p.enabled ? "checked" : ""}></td>
    <td>${escapeHtml(p.name)}</td><td>${escapeHtml(p.origin)}</td></tr>`).join("");
  document.querySelector("#sc-problems").innerHTML = data.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join("");
}

async function load() {
  try { render(await get("/api/scripts")); } catch (error) { setStatus(status(), error.message, true); }
}

function showFieldErrors(container, error) {
  for (const span of container.querySelectorAll(".field-error")) span.textContent = "";
  const fields = error.fields || {};
  let placed = false;
  for (const [field, message] of Object.entries(fields)) {
    const span = container.querySelector(`.field-error[data-field="${field}"]`);
    if (span) { span.textContent = message; placed = true; }
  }
  if (!placed) setStatus(status(), error.message, true);
}

async function changeRow(row, field, value) {
  try {
    const data = await put("/api/scripts", { name: row.dataset.name, type: row.dataset.type, changes: { [field]: value } });
    render(data);
    setStatus(status(), data.message);
  } catch (error) {
    showFieldErrors(row, error);
  }
}

export function init() {
  const body = document.querySelector("#sc-table tbody");
  body.addEventListener("click", (event) => {
    const row = event.target.closest("tr");
    if (!row) return;
    selected = { name: row.dataset.name, type: row.dataset.type };
    for (const r of body.querySelectorAll("tr")) r.classList.toggle("selected", r === row);
  });
  body.addEventListener("change", (event) => {
    const field = event.target.dataset.change;
    if (!field) return;
    const value = event.target.type === "checkbox" ? event.target.checked : event.target.value;
    changeRow(event.target.closest("tr"), field, value);
  });
  document.querySelector("#sc-packs tbody").addEventListener("change", async (event) => {
    const name = event.target.dataset.pack;
    if (!name) return;
    try {
      const data = await put("/api/packs", { name, enabled: event.target.checked });
      render(data);
      setStatus(status(), data.message);
    } catch (error) { setStatus(status(), error.message, true); load(); }
  });
  const form = document.querySelector("#sc-form");
  document.querySelector("#sc-add").addEventListener("click", () => { form.hidden = false; form.elements.path.focus(); });
  document.querySelector("#sc-cancel").addEventListener("click", () => { form.hidden = true; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = { path: form.elements.path.value, type: form.elements.type.value, name: form.elements.name.value,
      interpreter: form.elements.interpreter.value, blocking: form.elements.blocking.checked };
    try {
      const data = await post("/api/scripts", values);
      form.hidden = true;
      form.reset();
      for (const span of form.querySelectorAll(".field-error")) span.textContent = "";
      render(data);
      setStatus(status(), data.message);
    } catch (error) { showFieldErrors(form, error); }
  });
  document.querySelector("#sc-remove").addEventListener("click", async () => {
    if (!selected) { setStatus(status(), "Select a script first", true); return; }
    try {
      const data = await post("/api/scripts/remove", selected);
      selected = null;
      render(data);
      setStatus(status(), data.message);
    } catch (error) { setStatus(status(), error.message, true); }
  });
}

export function shown() { load(); }
