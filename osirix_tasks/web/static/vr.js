// The 3D window: the host renders the viewer's volume (MIP: maximum intensity projection; VR: a
// compositing render) from the camera angles; dragging rotates it, the wheel zooms, WL/WW and the mode
// are the 3D window's own (set through OsiriXgrpc, so a VRController task sees them and its changes show
// here); a preset sets WL/WW and the colour table. While the view moves a quick picture is drawn; once it
// stops, one as sharp as the screen (the canvas's size times the device pixel ratio). An orientation cube
// in the corner turns with the volume, its faces labelled with the patient directions.
import { escapeHtml, get, pixels, post, put, setStatus } from "./api.js";
import { on } from "./bus.js";
import { cubeEdges, cubeFaces, volumeAxes } from "./cube.js";
import { register } from "./menus.js";

const QUICK = 192;        // picture side while the view moves
const SHARPEST = 768;     // the largest side asked for (the host's limit)
const SETTLE_MS = 250;    // a still view this long gets its sharp picture
const state = { uid: null, info: null, azimuth: 0, elevation: 0, zoom: 1, preset: "Grey", renders: 0, size: 0, axes: null, cube: [] };
let busy = false, again = null, drag = null, settle = null;
const $ = (id) => document.querySelector(id);
let preferred = null;  // a window just opened elsewhere, to show when this view appears
const status = () => $("#vr-status");

// Ask for a picture: quick now, sharp once the view stays still (one request at a time, the latest wins).
function render(sharp = false) {
  if (!state.uid) return;
  clearTimeout(settle);
  if (!sharp) settle = setTimeout(() => render(true), SETTLE_MS);
  if (busy) { again = again === true || sharp; return; }
  draw(sharp);
}

async function draw(sharp) {
  busy = true;
  const side = Math.max(32, Math.round(sideOf() * (window.devicePixelRatio || 1)));
  const size = sharp ? Math.min(SHARPEST, side) : Math.min(QUICK, side);
  const view = { azimuth: state.azimuth, elevation: state.elevation, zoom: state.zoom };  // what this picture shows
  const query = new URLSearchParams({ ...view, size, preset: state.preset });
  try {
    const image = await pixels(`/api/vr/${encodeURIComponent(state.uid)}/render?${query}`);
    const canvas = $("#vr-canvas");
    canvas.width = image.columns; canvas.height = image.rows;
    canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(image.data), image.columns, image.rows), 0, 0);
    state.renders++;
    state.size = image.columns;
    state.renderedMode = image.mode;
    state.shown = view;
    $("#vr-angles").textContent = `${image.mode} - azimuth ${Math.round(view.azimuth)}\u00b0, elevation ${Math.round(view.elevation)}\u00b0, zoom ${view.zoom.toFixed(2)}`;
    drawCube(view);
  } catch (error) { setStatus(status(), error.message, true); }
  busy = false;
  if (again !== null) { const next = again; again = null; draw(next); }
}

const sideOf = () => { const stage = document.querySelector(".vr-stage"); return Math.min(stage.clientWidth, stage.clientHeight); };

function layout() {
  const stage = document.querySelector(".vr-stage"), canvas = $("#vr-canvas");
  const side = sideOf();
  Object.assign(canvas.style, { width: `${side}px`, height: `${side}px`, left: `${(stage.clientWidth - side) / 2}px`, top: `${(stage.clientHeight - side) / 2}px` });
  const cube = $("#vr-cube"), ratio = window.devicePixelRatio || 1;
  cube.width = cube.height = Math.round(96 * ratio);
  drawCube();
}

// The orientation cube: edges, and the letters of the faces that look towards the eye.
function drawCube(view = state.shown || state) {
  const canvas = $("#vr-cube"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  state.cube = state.axes ? cubeFaces(state.axes, view.azimuth, view.elevation) : [];
  if (!state.axes) return;
  const half = canvas.width / 2, scale = half * 0.9;
  const at = ([x, y]) => [half + x * scale, half + y * scale];
  ctx.strokeStyle = "rgba(240, 208, 96, 0.9)"; ctx.lineWidth = Math.max(1, canvas.width / 96);
  ctx.beginPath();
  for (const [a, b] of cubeEdges(view.azimuth, view.elevation)) { ctx.moveTo(...at(a)); ctx.lineTo(...at(b)); }
  ctx.stroke();
  ctx.fillStyle = "#f0d060"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
  for (const face of state.cube.filter((f) => f.visible)) {
    ctx.font = `bold ${Math.round(canvas.width * (0.1 + 0.08 * -face.depth))}px sans-serif`;
    ctx.fillText(face.letter, ...at([face.x, face.y]));
  }
}

async function open(uid) {
  try { state.info = await get(`/api/vr/${encodeURIComponent(uid)}`); } catch (error) { setStatus(status(), error.message, true); return; }
  state.uid = uid;
  state.axes = null;
  get(`/api/viewers/${encodeURIComponent(state.info.viewer)}/geometry?frame=0`)
    .then((geometry) => { state.axes = volumeAxes(geometry); drawCube(); }).catch(() => { /* no cube without geometry */ });
  const presets = $("#vr-preset");
  presets.innerHTML = state.info.presets.map((p) => `<option>${escapeHtml(p.name)}</option>`).join("");
  presets.value = state.preset;
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
  $("#vr-reset").addEventListener("click", () => { state.azimuth = 0; state.elevation = 0; state.zoom = 1; render(); });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    state.zoom = Math.max(0.5, Math.min(8, state.zoom * Math.exp(-Math.sign(e.deltaY) * 0.1)));
    render();
  }, { passive: false });
  $("#vr-preset").addEventListener("change", (e) => {
    const preset = state.info?.presets.find((p) => p.name === e.target.value);
    if (!preset) return;
    state.preset = preset.name;
    if (preset.wl !== null) { $("#vr-wl").value = preset.wl; $("#vr-ww").value = preset.ww; apply({ wl: preset.wl, ww: preset.ww }); }
    else render();
  });
  $("#vr-list").addEventListener("change", (e) => open(e.target.value));
  register("3D viewer", { status: "#vr-status", extra: () => (state.uid ? { vr: state.uid } : {}) });
  on("vr-opened", (uid) => { preferred = uid; });
  on("run-finished", () => { if (state.uid) open(state.uid); });
  new ResizeObserver(layout).observe(document.querySelector(".vr-stage"));
}

export function shown() { const uid = preferred; preferred = null; refreshList(uid); }
