// The 2D viewer: the current plane with WL/WW applied (raw float32 pixels windowed into a canvas),
// slices by wheel/keys/slider and movie frames; WL/WW by dragging and presets; ROIs drawn over the
// image, drawn with the mouse, selected and deleted. Planes are cached and prefetched in the scroll
// direction. It redraws by itself when a task changes pixels or ROIs (a finished run, or a poll).
import { del, escapeHtml, get, pixels, post, put, setStatus } from "./api.js";
import { emit, on } from "./bus.js";
import { register } from "./menus.js";
import { drawRois, hit, isValidShape, preview, shapeOf } from "./rois.js";

const CACHE_PLANES = 320;
const PREFETCH = 12;
const PARALLEL = 6;
const PRESETS = [["Default", null], ["Full dynamic", "full"], ["Abdomen", [40, 350]], ["Bone", [300, 1500]],
  ["Brain", [40, 80]], ["Lung", [-600, 1500]], ["Mediastinum", [50, 500]]];

// Plane encodings the host sends (16-bit when the values are exact integers): all windowed alike.
const ARRAYS = { float32: Float32Array, uint16: Uint16Array, int16: Int16Array, argb8: Uint8Array };
const state = { viewer: null, frame: 0, slice: 0, wl: 0, ww: 1, defaultWindow: null, rois: [], tool: "wlww", direction: 1 };
const cache = new Map();        // pix uid -> plane {rows, columns, format, values}
const loading = new Map();      // pix uid -> promise
const queue = [];               // pix uids waiting for a fetch slot
let inFlight = 0;
let showView = null;
let paintedUid = null;
const stats = { paints: 0, painted: -1 };
const digests = new Map();
let gesture = null;             // mouse gesture in progress
let syncTimer = null, roiTimer = null, playTimer = null;

const $ = (id) => document.querySelector(id);
let preferred = null;  // a window just opened elsewhere, to show when this view appears
const status = () => $("#vw-status");
const pixOf = (frame = state.frame, slice = state.slice) => state.viewer?.pix[frame]?.[slice];

// --- pixels ------------------------------------------------------------------------------------------

function remember(uid, plane) {
  cache.delete(uid);
  cache.set(uid, plane);
  while (cache.size > CACHE_PLANES) cache.delete(cache.keys().next().value);
}

function pump() {
  while (inFlight < PARALLEL && queue.length) {
    const { uid, resolve, reject } = queue.shift();
    inFlight++;
    pixels(`/api/pix/${encodeURIComponent(uid)}`).then((image) => {
      const values = new (ARRAYS[image.format] || Uint8Array)(image.data);
      const plane = { rows: image.rows, columns: image.columns, format: image.format, values };
      remember(uid, plane);
      resolve(plane);
      progress(uid, plane);
    }, reject).finally(() => { inFlight--; loading.delete(uid); pump(); });
  }
}

function load(uid, urgent = false) {
  if (cache.has(uid)) return Promise.resolve(cache.get(uid));
  if (loading.has(uid)) {
    if (urgent) {  // move it to the front of the queue if it is still waiting
      const at = queue.findIndex((q) => q.uid === uid);
      if (at > 0) queue.unshift(...queue.splice(at, 1));
    }
    return loading.get(uid);
  }
  const promise = new Promise((resolve, reject) => {
    const entry = { uid, resolve, reject };
    if (urgent) queue.unshift(entry); else queue.push(entry);
  });
  loading.set(uid, promise);
  pump();
  return promise;
}

// While scrolling faster than planes arrive, a plane on the way to the wanted one is shown as it
// comes (the view moves with the scroll instead of waiting on the last plane asked for).
function progress(uid, plane) {
  const slice = state.viewer?.pix[state.frame]?.indexOf(uid) ?? -1;
  if (slice < 0 || paintedUid === null || cache.has(pixOf()) && pixOf() !== uid) return;
  const painted = stats.painted, wanted = state.slice;
  const between = (painted < wanted && slice > painted && slice < wanted) || (painted > wanted && slice < painted && slice > wanted);
  if (!between) return;
  paintedUid = uid;
  paint(plane, slice);
}

function prefetch() {
  const slices = state.viewer.pix[state.frame].length;
  for (let k = 1; k <= PREFETCH; k++) {
    const i = state.slice + k * state.direction;
    if (i >= 0 && i < slices) load(pixOf(state.frame, i)).catch(() => {});
  }
}

// --- painting ----------------------------------------------------------------------------------------

let imageData = null;
function paint(plane, slice = state.slice) {
  const canvas = $("#vw-image");
  if (canvas.width !== plane.columns || canvas.height !== plane.rows) {
    canvas.width = plane.columns; canvas.height = plane.rows;
    layout();
  }
  if (!imageData || imageData.width !== plane.columns || imageData.height !== plane.rows) imageData = new ImageData(plane.columns, plane.rows);
  const words = new Uint32Array(imageData.data.buffer);
  const values = plane.values, n = plane.rows * plane.columns;
  if (plane.format !== "argb8") {
    const low = state.wl - state.ww / 2, k = 255 / Math.max(state.ww, 1e-6);
    for (let i = 0; i < n; i++) {
      let g = (values[i] - low) * k;
      g = g < 0 ? 0 : g > 255 ? 255 : g | 0;
      words[i] = 0xff000000 | (g << 16) | (g << 8) | g;
    }
  } else {  // ARGB bytes
    for (let i = 0, j = 0; i < n; i++, j += 4) words[i] = 0xff000000 | (values[j + 3] << 16) | (values[j + 2] << 8) | values[j + 1];
  }
  canvas.getContext("2d").putImageData(imageData, 0, 0);
  stats.paints++;
  stats.painted = slice;
  corners(slice);
}

async function showPlane() {
  if (!state.viewer) return;
  const uid = pixOf();
  const wanted = `${state.frame}:${state.slice}`;
  let plane = cache.get(uid);
  if (!plane) {
    try { plane = await load(uid, true); } catch (error) { setStatus(status(), error.message, true); return; }
    if (`${state.frame}:${state.slice}` !== wanted) return;  // the user moved on meanwhile
  } else remember(uid, plane);
  paintedUid = uid;
  paint(plane);
  prefetch();
}

function repaint() {
  const plane = cache.get(paintedUid);
  if (plane) paint(plane, state.viewer.pix[state.frame].indexOf(paintedUid));
}

// --- layout and coordinates -------------------------------------------------------------------------

const view = { offset: [0, 0], scale: [1, 1], spacing: [1, 1] };
view.toScreen = ([x, y]) => [view.offset[0] + (x + 0.5) * view.scale[0], view.offset[1] + (y + 0.5) * view.scale[1]];
const toImage = (sx, sy) => [(sx - view.offset[0]) / view.scale[0] - 0.5, (sy - view.offset[1]) / view.scale[1] - 0.5];

function layout() {
  const stage = $("#vw-stage"), canvas = $("#vw-image"), overlay = $("#vw-overlay");
  const width = stage.clientWidth, height = stage.clientHeight;
  if (!state.viewer || !width) return;
  const [sr, sc] = state.viewer.spacing.map((s) => s || 1);
  const physicalW = state.viewer.columns * sc, physicalH = state.viewer.rows * sr;
  const fit = Math.min(width / physicalW, height / physicalH);
  const w = physicalW * fit, h = physicalH * fit;
  const left = (width - w) / 2, top = (height - h) / 2;
  Object.assign(canvas.style, { left: `${left}px`, top: `${top}px`, width: `${w}px`, height: `${h}px` });
  const ratio = window.devicePixelRatio || 1;
  overlay.width = width * ratio; overlay.height = height * ratio;
  Object.assign(overlay.style, { width: `${width}px`, height: `${height}px` });
  view.offset = [left, top];
  view.scale = [w / state.viewer.columns, h / state.viewer.rows];
  view.spacing = [sr, sc];
  overlayPaint();
}

function overlayPaint() {
  const overlay = $("#vw-overlay");
  const ctx = overlay.getContext("2d");
  const ratio = window.devicePixelRatio || 1;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  drawRois(ctx, state.rois, view);
  if (gesture && gesture.points.length) {
    const itype = gesture.tool === 5 || gesture.tool === 14 ? gesture.tool : 10;
    drawRois(ctx, [{ itype, points: preview(gesture.tool, gesture.points), color: [255, 255, 0], opacity: 1, thickness: 1, name: "", selected: false }], view);
  }
}

function corners(slice = state.slice) {
  const v = state.viewer;
  if (!v) return;
  $("#vw-info").textContent = `${v.title}\nImage ${slice + 1}/${v.pix[state.frame].length}` +
    (v.pix.length > 1 ? `  Frame ${state.frame + 1}/${v.pix.length}` : "") + `\n${v.columns} x ${v.rows}`;
  $("#vw-wl").textContent = `WL: ${Math.round(state.wl)} WW: ${Math.round(state.ww)}`;
}

// --- ROIs -----------------------------------------------------------------------------------------------

async function loadRois() {
  if (!state.viewer) return;
  const wanted = `${state.frame}:${state.slice}`;
  try {
    const data = await get(`/api/viewers/${encodeURIComponent(state.viewer.uid)}/rois?frame=${state.frame}&slice=${state.slice}`);
    if (wanted !== `${state.frame}:${state.slice}`) return;
    state.rois = data.rois;
  } catch (error) { setStatus(status(), error.message, true); return; }
  overlayPaint();
  $("#vw-rois tbody").innerHTML = state.rois.map((r) => `<tr data-uid="${escapeHtml(r.uid)}" class="${r.selected ? "selected" : ""}">
    <td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.kind)}</td><td>${r.area == null ? "" : r.area.toFixed(3)}</td>
    <td>${r.mean == null ? "" : r.mean.toFixed(3)}</td></tr>`).join("");
  window.osirixTasks.viewer.rois = state.rois;
}

function scheduleRois(delay = 120) { clearTimeout(roiTimer); roiTimer = setTimeout(loadRois, delay); }

async function selectRois(uids) {
  for (const roi of state.rois) roi.selected = uids.includes(roi.uid);
  overlayPaint();
  try { await post(`/api/viewers/${encodeURIComponent(state.viewer.uid)}/select-rois`, { uids }); }
  catch (error) { setStatus(status(), error.message, true); }
  loadRois();
}

async function createRoi(tool, points) {
  if (!isValidShape(tool, points)) return;
  let name = "Unnamed";
  if (tool === 13) { name = prompt("Text", "") || ""; if (!name) return; }
  try {
    await post(`/api/viewers/${encodeURIComponent(state.viewer.uid)}/rois`,
      { itype: tool, frame: state.frame, slice: state.slice, name, ...shapeOf(tool, points) });
    setStatus(status(), "");
  } catch (error) { setStatus(status(), error.message, true); }
  await loadRois();
}

async function deleteSelected() {
  const chosen = state.rois.filter((r) => r.selected);
  if (!chosen.length) { setStatus(status(), "Select an ROI first (Select tool, or click it in the list)", true); return; }
  for (const roi of chosen) {
    try { await del(`/api/rois/${encodeURIComponent(roi.uid)}`); } catch (error) { setStatus(status(), error.message, true); }
  }
  loadRois();
}

// --- viewer state -------------------------------------------------------------------------------------

function scheduleSync() {
  clearTimeout(syncTimer);
  syncTimer = setTimeout(flushSync, 150);
}

async function flushSync() {
  clearTimeout(syncTimer);
  if (!state.viewer) return;
  try {
    await put(`/api/viewers/${encodeURIComponent(state.viewer.uid)}`, { idx: state.slice, movie_idx: state.frame, wl: state.wl, ww: state.ww });
  } catch (error) { setStatus(status(), error.message, true); }
}

export function setSlice(index, frame = state.frame) {
  if (!state.viewer) return;
  const slices = state.viewer.pix[frame].length;
  index = Math.max(0, Math.min(slices - 1, index));
  if (index === state.slice && frame === state.frame) return;
  state.direction = index >= state.slice ? 1 : -1;
  state.slice = index; state.frame = frame;
  $("#vw-slice").value = index; $("#vw-frame").value = frame;
  state.rois = [];
  overlayPaint();
  showPlane();
  scheduleSync();
  scheduleRois();
}

async function open(uid, keepPosition = false) {
  let info;
  try { info = await get(`/api/viewers/${encodeURIComponent(uid)}`); } catch (error) { setStatus(status(), error.message, true); return; }
  const same = state.viewer?.uid === uid;
  state.viewer = info;
  if (!same) { cache.clear(); digests.clear(); state.defaultWindow = [info.wl, info.ww]; }
  state.frame = keepPosition && same ? Math.min(state.frame, info.pix.length - 1) : info.movie_idx;
  state.slice = keepPosition && same ? Math.min(state.slice, info.pix[state.frame].length - 1) : info.idx;
  state.wl = info.wl; state.ww = info.ww;
  $("#vw-empty").hidden = true;
  $("#vw-slice").max = info.pix[state.frame].length - 1; $("#vw-slice").value = state.slice;
  $("#vw-frames").hidden = info.pix.length < 2;
  $("#vw-frame").max = info.pix.length - 1; $("#vw-frame").value = state.frame;
  post(`/api/viewers/${encodeURIComponent(uid)}/front`).catch(() => {});
  layout();
  await showPlane();
  loadRois();
}

async function refreshList(prefer) {
  let data;
  try { data = await get("/api/viewers"); } catch (error) { setStatus(status(), error.message, true); return; }
  const list = $("#vw-list");
  list.innerHTML = data.viewers.map((v) => `<option value="${escapeHtml(v.uid)}">${escapeHtml(v.title)}</option>`).join("");
  const uid = prefer && data.viewers.some((v) => v.uid === prefer) ? prefer
    : state.viewer && data.viewers.some((v) => v.uid === state.viewer.uid) ? state.viewer.uid : data.frontmost;
  if (!uid) {
    state.viewer = null; state.rois = [];
    $("#vw-empty").hidden = false;
    const canvas = $("#vw-image"); canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    overlayPaint(); $("#vw-info").textContent = ""; $("#vw-wl").textContent = "";
    return;
  }
  list.value = uid;
  if (uid !== state.viewer?.uid) await open(uid);
}

// After a task: everything it may have changed is read again (pixels, ROIs, WL/WW, slice).
async function reloadAfterTask() {
  if (!state.viewer) return;
  cache.clear(); digests.clear();
  await open(state.viewer.uid, true);
}

async function poll() {
  if (!state.viewer || document.hidden || !$("#view-viewer").classList.contains("active") || gesture) return;
  const uid = paintedUid;
  if (!uid) return;
  try {
    const { digest } = await get(`/api/pix/${encodeURIComponent(uid)}/digest`);
    if (digests.has(uid) && digests.get(uid) !== digest) { cache.delete(uid); digests.set(uid, digest); showPlane(); }
    digests.set(uid, digest);
  } catch { return; }
  loadRois();
}

// --- mouse and keys --------------------------------------------------------------------------------------

function setTool(tool) {
  state.tool = tool;
  gesture = null;
  for (const b of document.querySelectorAll("#vw-tools button")) b.classList.toggle("on", b.dataset.tool === tool);
  overlayPaint();
}

function pointerDown(event) {
  if (!state.viewer) return;
  const rect = $("#vw-overlay").getBoundingClientRect();
  const point = toImage(event.clientX - rect.left, event.clientY - rect.top);
  const tool = state.tool;
  if (tool === "wlww") { gesture = { kind: "wlww", x: event.clientX, y: event.clientY, wl: state.wl, ww: state.ww }; return; }
  if (tool === "select") {
    const found = hit(state.rois, point, 6 / view.scale[0]);
    const selected = state.rois.filter((r) => r.selected).map((r) => r.uid);
    if (!found) { selectRois(event.shiftKey ? selected : []); return; }
    selectRois(event.shiftKey ? (selected.includes(found.uid) ? selected.filter((u) => u !== found.uid) : [...selected, found.uid]) : [found.uid]);
    return;
  }
  const type = +tool;
  if (type === 11 || type === 12) {  // click by click
    if (!gesture) gesture = { tool: type, points: [] };
    gesture.points.push(point);
    if (type === 12 && gesture.points.length === 3) { const g = gesture; gesture = null; createRoi(type, g.points); }
    overlayPaint();
    return;
  }
  if (type === 19 || type === 13) { createRoi(type, [point]); return; }
  gesture = { tool: type, points: [point], dragging: true };
}

function pointerMove(event) {
  if (!gesture) return;
  if (gesture.kind === "wlww") {
    const dx = event.clientX - gesture.x, dy = event.clientY - gesture.y;
    const step = Math.max(gesture.ww, 1) / 200;
    state.ww = Math.max(1, gesture.ww + dx * step);
    state.wl = gesture.wl + dy * step;
    $("#vw-preset").value = "";
    repaint();
    return;
  }
  if (!gesture.dragging) return;
  const rect = $("#vw-overlay").getBoundingClientRect();
  const point = toImage(event.clientX - rect.left, event.clientY - rect.top);
  if (gesture.tool === 15) {
    const last = gesture.points[gesture.points.length - 1];
    if (Math.hypot(point[0] - last[0], point[1] - last[1]) * view.scale[0] >= 2) gesture.points.push(point);
  } else gesture.points = [gesture.points[0], point];
  overlayPaint();
}

function pointerUp() {
  if (!gesture) return;
  if (gesture.kind === "wlww") { gesture = null; scheduleSync(); return; }
  if (gesture.dragging) { const g = gesture; gesture = null; createRoi(g.tool, g.points); overlayPaint(); }
}

function finishPolygon() {
  if (gesture && gesture.tool === 11) {
    const g = gesture; gesture = null;
    // a double-click adds the same point twice: drop the duplicate
    const points = g.points.filter((p, i) => i === 0 || Math.hypot(p[0] - g.points[i - 1][0], p[1] - g.points[i - 1][1]) > 0.5);
    createRoi(11, points);
  }
}

function applyPreset(name) {
  const preset = PRESETS.find((p) => p[0] === name);
  if (!preset) return;
  if (preset[1] === null) [state.wl, state.ww] = state.defaultWindow;
  else if (preset[1] === "full") {
    const plane = cache.get(paintedUid);
    if (!plane || plane.format === "argb8") return;
    let low = Infinity, high = -Infinity;
    for (const v of plane.values) { if (v < low) low = v; if (v > high) high = v; }
    state.wl = (low + high) / 2; state.ww = Math.max(high - low, 1);
  } else [state.wl, state.ww] = preset[1];
  repaint();
  scheduleSync();
}

export function init({ show }) {
  showView = show;
  window.osirixTasks = window.osirixTasks || {};
  window.osirixTasks.viewer = { state, stats, setSlice, cache, rois: [] };
  $("#vw-preset").innerHTML = '<option value="">WL/WW presets</option>' + PRESETS.map(([n]) => `<option>${n}</option>`).join("");
  $("#vw-preset").addEventListener("change", (e) => applyPreset(e.target.value));
  for (const button of document.querySelectorAll("#vw-tools button")) button.addEventListener("click", () => setTool(button.dataset.tool));
  const overlay = $("#vw-overlay");
  overlay.addEventListener("pointerdown", pointerDown);
  window.addEventListener("pointermove", pointerMove);
  window.addEventListener("pointerup", pointerUp);
  overlay.addEventListener("dblclick", finishPolygon);
  $("#vw-stage").addEventListener("wheel", (event) => {
    event.preventDefault();
    if (state.viewer) setSlice(state.slice + Math.sign(event.deltaY || event.deltaX));
  }, { passive: false });
  document.addEventListener("keydown", (event) => {
    if (!$("#view-viewer").classList.contains("active") || event.target.matches("input, select, textarea")) return;
    if (event.key === "ArrowDown" || event.key === "ArrowRight" || event.key === "PageDown") { setSlice(state.slice + 1); event.preventDefault(); }
    if (event.key === "ArrowUp" || event.key === "ArrowLeft" || event.key === "PageUp") { setSlice(state.slice - 1); event.preventDefault(); }
    if (event.key === "Delete" || event.key === "Backspace") deleteSelected();
    if (event.key === "Escape") { gesture = null; overlayPaint(); }
    if (event.key === "Enter") finishPolygon();
  });
  $("#vw-slice").addEventListener("input", (e) => setSlice(+e.target.value));
  $("#vw-frame").addEventListener("input", (e) => setSlice(state.slice, +e.target.value));
  $("#vw-play").addEventListener("click", () => {
    if (playTimer) { clearInterval(playTimer); playTimer = null; return; }
    playTimer = setInterval(() => setSlice(state.slice, (state.frame + 1) % state.viewer.pix.length), 100);
  });
  $("#vw-rois tbody").addEventListener("click", (event) => {
    const row = event.target.closest("tr");
    if (row) selectRois(event.shiftKey ? [...state.rois.filter((r) => r.selected).map((r) => r.uid), row.dataset.uid] : [row.dataset.uid]);
  });
  $("#vw-delete").addEventListener("click", deleteSelected);
  $("#vw-list").addEventListener("change", (e) => open(e.target.value));
  $("#vw-close").addEventListener("click", async () => {
    if (!state.viewer) return;
    try { await del(`/api/viewers/${encodeURIComponent(state.viewer.uid)}`); } catch (error) { setStatus(status(), error.message, true); }
    state.viewer = null;
    refreshList();
  });
  for (const [id, mode] of [["#vw-mip", "MIP"], ["#vw-vr", "VR"]]) {
    $(id).addEventListener("click", async () => {
      if (!state.viewer) return;
      try {
        await flushSync();
        const data = await post(`/api/viewers/${encodeURIComponent(state.viewer.uid)}/vr`, { mode });
        emit("vr-opened", data.vr);
        showView("vr");
      } catch (error) { setStatus(status(), error.message, true); }
    });
  }
  register("2D viewer", { status: "#vw-status", before: flushSync, extra: () => (state.viewer ? { viewer: state.viewer.uid } : {}) });
  on("viewer-opened", (uid) => { preferred = uid; });
  on("run-finished", () => { if (state.viewer) reloadAfterTask(); });
  new ResizeObserver(layout).observe($("#vw-stage"));
  setInterval(poll, 2000);
}

export function shown() { const uid = preferred; preferred = null; refreshList(uid); }
