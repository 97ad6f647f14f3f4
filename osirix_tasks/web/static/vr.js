// The 3D window: the host renders the viewer's volume (MIP: maximum intensity projection; VR: a
// compositing render) from the camera angles; dragging rotates it, WL/WW and the mode are the 3D
// window's own (set through OsiriXgrpc, so a VRController task sees them and its changes show here).
import { escapeHtml, get, pixels, post, put, setStatus } from "./api.js";
import { on } from "./bus.js";
import { register } from "./menus.js";

const state = { uid: null, info: null, azimuth: 0, elevation: 0, renders: 0 };
let busy = false, again = false, drag = null;
const $ = (id) => document.querySelector(id);
let preferred = null;  // a window just opened elsewhere, to show when this view appears
const status = () => $("#vr-status");

async function render() {
  if (!state.uid) return;
  if (busy) { again = true; return; }
  busy = true;
  try {
    const image = await pixels(`/api/vr/${encodeURIComponent(state.uid)}/render?azimuth=${state.azimuth}&elevation=${state.elevation}&size=192`);
    const canvas = $("#vr-canvas");
    canvas.width = image.columns; canvas.height = image.rows;
    canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(image.data), image.columns, image.rows), 0, 0);
    state.renders++;
    state.renderedMode = image.mode;
    $("#vr-angles").textContent = `${image.mode} - azimuth ${Math.round(state.azimuth)}\u00b0, elevation ${Math.round(state.elevation)}\u00b0`;
  } catch (error) { setStatus(status(), error.message, true); }
  busy = false;
  if (again) { again = false; render(); }
}

function layout() {
  const stage = document.querySelector(".vr-stage"), canvas = $("#vr-canvas");
  const side = Math.min(stage.clientWidth, stage.clientHeight);
  Object.assign(canvas.style, { width: `${side}px`, height: `${side}px`, left: `${(stage.clientWidth - side) / 2}px`, top: `${(stage.clientHeight - side) / 2}px` });
}

async function open(uid) {
  try { state.info = await get(`/api/vr/${encodeURIComponent(uid)}`); } catch (error) { setStatus(status(), error.message, true); return; }
  state.uid = uid;
  $("#vr-empty").hidden = true;
  $("#vr-title").textContent = state.info.title;
  $("#vr-mode").value = state.info.mode;
  $("#vr-wl").value = +state.info.wl.toFixed(2);
  $("#vr-ww").value = +state.info.ww.toFixed(2);
  post(`/api/vr/${encodeURIComponent(uid)}/front`).catch(() => {});
  layout();
  render();
}

async function refreshList(prefer) {
  let data;
  try { data = await get("/api/vr"); } catch (error) { setStatus(status(), error.message, true); return; }
  $("#vr-list").innerHTML = data.windows.map((w) => `<option value="${escapeHtml(w.uid)}">${escapeHtml(w.title)}</option>`).join("");
  const uid = prefer && data.windows.some((w) => w.uid === prefer) ? prefer
    : state.uid && data.windows.some((w) => w.uid === state.uid) ? state.uid : data.frontmost;
  if (!uid) { state.uid = null; $("#vr-empty").hidden = false; $("#vr-title").textContent = ""; return; }
  $("#vr-list").value = uid;
  await open(uid);
}

async function apply(changes) {
  try {
    state.info = await put(`/api/vr/${encodeURIComponent(state.uid)}`, changes);
    $("#vr-mode").value = state.info.mode;
    setStatus(status(), "");
    render();
  } catch (error) { setStatus(status(), error.message, true); }
}

export function init() {
  window.osirixTasks = window.osirixTasks || {};
  window.osirixTasks.vr = state;
  const canvas = $("#vr-canvas");
  canvas.addEventListener("pointerdown", (e) => { drag = { x: e.clientX, y: e.clientY, azimuth: state.azimuth, elevation: state.elevation }; });
  window.addEventListener("pointermove", (e) => {
    if (!drag) return;
    state.azimuth = (drag.azimuth + (e.clientX - drag.x) * 0.5) % 360;
    state.elevation = Math.max(-90, Math.min(90, drag.elevation + (e.clientY - drag.y) * 0.5));
    render();
  });
  window.addEventListener("pointerup", () => { drag = null; });
  $("#vr-mode").addEventListener("change", (e) => apply({ mode: e.target.value }));
  $("#vr-apply").addEventListener("click", () => apply({ wl: +$("#vr-wl").value, ww: +$("#vr-ww").value }));
  $("#vr-reset").addEventListener("click", () => { state.azimuth = 0; state.elevation = 0; render(); });
  $("#vr-list").addEventListener("change", (e) => open(e.target.value));
  register("3D viewer", { status: "#vr-status", extra: () => (state.uid ? { vr: state.uid } : {}) });
  on("vr-opened", (uid) => { preferred = uid; });
  on("run-finished", () => { if (state.uid) open(state.uid); });
  new ResizeObserver(layout).observe(document.querySelector(".vr-stage"));
}

export function shown() { const uid = preferred; preferred = null; refreshList(uid); }
