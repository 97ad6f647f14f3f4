// The 2D viewer window: a layout of viewports (viewer/viewport.js), each showing an OsiriX 2D viewer or a
// plane of its orthogonal MPR; tools (left button = the chosen tool, right drag = zoom, middle drag = pan,
// wheel = slices, as OsiriX); ROIs drawn, selected, moved, reshaped, renamed and recoloured through the
// protocol (the host's routes call OsiriXgrpc, so tasks see what the page shows); cine, presets, invert,
// flip, rotate, synchronised scrolling, series thumbnails dragged into a viewport. It refreshes by itself
// when a task changes pixels or ROIs (a finished run, or a change of the viewer's version).
import { del, download, escapeHtml, get, post, put, setStatus } from "./api.js";
import { emit, on } from "./bus.js";
import { drawThumbnail } from "./database.js";
import { register } from "./menus.js";
import { flipScreen, makeCamera, panBy, rotateBy, zoomAt } from "./viewer/camera.js";
import { fromCounters, fromToken } from "./viewer/changes.js";
import { nearestSlice, planePoint, voxelOf } from "./viewer/geometry.js";
import { PlaneCache } from "./viewer/planes.js";
import { dragEdit, hitTest, isValidShape, preview, shapeOf } from "./viewer/roigeom.js";
import { Viewport } from "./viewer/viewport.js";
import { PRESETS, dragWindow, fullDynamic, presetOf } from "./viewer/windowing.js";
import { loadVocabulary } from "./vocabulary.js";

const PREFETCH = 12;
const DETAILS_DELAY = 100;  // ms a plane stays before its ROIs and overlay planes are asked for
const LAYOUTS = { "1x1": [1, 1], "1x2": [1, 2], "2x1": [2, 1], "2x2": [2, 2], "1x3": [1, 3], "3x3": [3, 3] };
const MPR_PLANES = [["slice", "Acquired"], ["row", "Row reformat"], ["column", "Column reformat"]];
const enc = encodeURIComponent;
const $ = (s) => document.querySelector(s);
const status = () => $("#vw-status");

const params = new URLSearchParams(location.search);
const app = {
  cache: new PlaneCache(),
  types: new Map(),
  byName: new Map(),
  newRoi: { color: [0, 255, 0] },
  rendererKind: params.get("renderer") || "auto",
  showOverlays: true,
  decorate: null,
};
let viewports = [];
let active = null;
let layout = "1x1";
let tool = "wlww";
let gesture = null;
let sync = false;
let cine = null;
let mpr = null;           // {viewer, info, voxel, version} while the MPR layout shows
let showView = null;
let preferred = null;
let syncTimer = null;
const versions = new Map(); // viewer uid -> last version seen
const errors = [];

// --- viewports and layout ---------------------------------------------------------------------------

function setLayout(name) {
  const [rows, columns] = LAYOUTS[name] || LAYOUTS["1x1"];
  layout = name;
  const grid = $("#vw-grid");
  grid.style.gridTemplateRows = `repeat(${rows}, 1fr)`;
  grid.style.gridTemplateColumns = `repeat(${columns}, 1fr)`;
  const wanted = rows * columns;
  while (viewports.length > wanted) {
    const gone = viewports.pop();
    if (gesture?.vp === gone) gesture = null;
    gone.dispose();
  }
  while (viewports.length < wanted) {
    const vp = new Viewport(grid, app, viewports.length);
    wire(vp);
    viewports.push(vp);
  }
  if (!viewports.includes(active)) activate(viewports[0]);
  $("#vw-layout").value = name;
  for (const vp of viewports) vp.resize();
}

function activate(vp) {
  active = vp;
  for (const v of viewports) v.el.classList.toggle("active", v === vp);
  updateControls();
  showRoiTable();
}

function updateControls() {
  const vp = active;
  if (!vp?.source) { $("#vw-preset").value = ""; return; }
  $("#vw-preset").value = presetOf([vp.window.wl, vp.window.ww], vp.defaultWindow);
  $("#vw-slice").max = Math.max(0, vp.count() - 1);
  $("#vw-slice").value = vp.slice;
  const frames = vp.isMpr ? 1 : vp.viewer.pix.length;
  $("#vw-frames").hidden = frames < 2;
  $("#vw-frame").max = frames - 1; $("#vw-frame").value = vp.frame;
  $("#vw-invert").classList.toggle("on", !!vp.window.invert);
  if (!vp.isMpr && $("#vw-list").value !== vp.viewer.uid) $("#vw-list").value = vp.viewer.uid;
}

// --- display sets -------------------------------------------------------------------------------------

async function openViewer(vp, uid, { keepPosition = false } = {}) {
  const token = (vp.opening = {});  // a later open of this viewport wins over this one
  let info, geometry;
  try {
    [info, geometry] = await Promise.all([get(`/api/viewers/${enc(uid)}`), get(`/api/viewers/${enc(uid)}/geometry`)]);
  } catch (error) { setStatus(status(), error.message, true); return; }
  if (vp.opening !== token) return;
  $("#vw-empty").hidden = true;
  const same = vp.viewer?.uid === uid && !vp.isMpr;
  const frame = keepPosition && same ? Math.min(vp.frame, info.pix.length - 1) : info.movie_idx;
  const slice = keepPosition && same ? Math.min(vp.slice, info.pix[frame].length - 1) : info.idx;
  const window = keepPosition && same ? null : [info.wl, info.ww];
  vp.setSource({ kind: "viewer", viewer: info, geometry }, { frame, slice, window, keepCamera: keepPosition && same });
  if (!window) { vp.window.wl = info.wl; vp.window.ww = info.ww; }
  if (vp === active) { updateControls(); post(`/api/viewers/${enc(uid)}/front`).catch(() => {}); }
  if (![...$("#vw-list").options].some((o) => o.value === uid)) refreshTitles().then(updateControls);  // a viewer new to the list
  await showPlane(vp);
}

async function showPlane(vp) {
  if (!vp.source) return;
  const slice = vp.slice, frame = vp.frame, key = vp.planeKey();
  let plane = app.cache.get(key);
  if (!plane) {
    try { plane = await app.cache.load(key, vp.planeUrl(), true, vp.pixUid()); } catch (error) { setStatus(status(), error.message, true); return; }
    if (vp.slice !== slice || vp.frame !== frame || !vp.source) return;  // the user moved on meanwhile
  }
  vp.plane = plane; vp.planeSlice = slice;
  vp.render();
  prefetch(vp);
  clearTimeout(vp.detailsTimer);  // while scrolling, the ROIs and overlays of the image it stops on
  vp.detailsTimer = setTimeout(() => { loadRois(vp); loadOverlays(vp); }, DETAILS_DELAY);
}

function prefetch(vp) {
  for (let k = 1; k <= PREFETCH; k++) {
    const i = vp.slice + k * vp.direction;
    if (i >= 0 && i < vp.count()) app.cache.load(vp.planeKey(i), vp.planeUrl(i), false, vp.pixUid(i)).catch(() => {});
  }
}

// While scrolling faster than planes arrive, a plane between the painted one and the wanted one is
// shown as it comes (the image moves with the scroll instead of waiting for the last plane asked for).
app.cache.listeners.add((key, plane) => {
  for (const vp of viewports) {
    if (!vp.source || vp.planeSlice < 0 || vp.planeSlice === vp.slice || app.cache.has(vp.planeKey())) continue;
    for (let i = Math.min(vp.planeSlice, vp.slice) + 1; i < Math.max(vp.planeSlice, vp.slice); i++) {
      if (vp.planeKey(i) !== key) continue;
      const closer = Math.abs(vp.slice - i) < Math.abs(vp.slice - vp.planeSlice);
      if (closer) { vp.plane = plane; vp.planeSlice = i; vp.render(); }
    }
  }
});

export function setSlice(index, frame = active?.frame, vp = active, { fromSync = false } = {}) {
  if (!vp?.source) return;
  const frames = vp.isMpr ? 1 : vp.viewer.pix.length;
  frame = Math.max(0, Math.min(frames - 1, frame ?? 0));
  index = Math.max(0, Math.min(vp.count() - 1, index));
  if (index === vp.slice && frame === vp.frame) return;
  vp.direction = index >= vp.slice ? 1 : -1;
  vp.slice = index; vp.frame = frame;
  vp.rois = [];
  vp.paintCorners();
  showPlane(vp);
  if (vp === active) updateControls();
  if (vp.isMpr) { mprMoved(vp); return; }
  scheduleSync(vp);
  if (sync && !fromSync) syncOthers(vp);
}

function syncOthers(source) {
  for (const vp of viewports) {
    if (vp === source || !vp.source || vp.isMpr || !vp.source.geometry?.origins) continue;
    const index = nearestSlice(source.source.geometry, source.slice, vp.source.geometry);
    if (index !== null) setSlice(index, vp.frame, vp, { fromSync: true });
  }
}

function scheduleSync(vp) {
  clearTimeout(syncTimer);
  syncTimer = setTimeout(() => flushSync(vp), 150);
}

async function flushSync(vp = active) {
  clearTimeout(syncTimer);
  if (!vp?.source || vp.isMpr) return;
  try {
    await put(`/api/viewers/${enc(vp.viewer.uid)}`, { idx: vp.slice, movie_idx: vp.frame, wl: vp.window.wl, ww: vp.window.ww });
    refreshTitles();
  } catch (error) { setStatus(status(), error.message, true); }
}

// OsiriX's title is "patient - study - Image i/n"; parts a study lacks are left out, not shown empty.
export function cleanTitle(title) {
  return String(title || "").split(" - ").map((p) => p.trim()).filter(Boolean).join(" - ") || "Untitled viewer";
}

async function refreshTitles() {
  let data;
  try { data = await get("/api/viewers"); } catch { return; }
  const list = $("#vw-list");
  const value = list.value;
  list.innerHTML = data.viewers.map((v) => `<option value="${escapeHtml(v.uid)}">${escapeHtml(cleanTitle(v.title))}</option>`).join("");
  if (data.viewers.some((v) => v.uid === value)) list.value = value;
  const mine = data.viewers.find((v) => v.uid === active?.viewer?.uid);
  if (mine && showView && location.hash === "#viewer") document.title = `${cleanTitle(mine.title)} - osirix-tasks`;
  return data;
}

// --- ROIs --------------------------------------------------------------------------------------------

async function loadRois(vp) {
  if (!vp.source || vp.isMpr) return;
  const wanted = `${vp.viewer.uid}:${vp.frame}:${vp.slice}`;
  try {
    const data = await get(`/api/viewers/${enc(vp.viewer.uid)}/rois?frame=${vp.frame}&slice=${vp.slice}`);
    if (wanted !== `${vp.viewer?.uid}:${vp.frame}:${vp.slice}`) return;
    vp.rois = data.rois;
  } catch (error) { setStatus(status(), error.message, true); return; }
  vp.paintOverlay();
  if (vp === active) showRoiTable();
}

async function loadOverlays(vp) {
  const uid = vp.pixUid();
  if (!uid || vp.overlays.has(uid)) return;
  try {
    const data = await get(`/api/pix/${enc(uid)}/overlays`);
    vp.overlays.set(uid, data.overlays);
    if (data.overlays.length && vp.pixUid() === uid) vp.paintOverlay();
  } catch { vp.overlays.set(uid, []); }
}

const fmt = (v, d = 2) => (v == null ? "" : v.toFixed(d));

function showRoiTable() {
  const rois = active?.rois || [];
  $("#vw-rois tbody").innerHTML = rois.map((r) => `<tr data-uid="${escapeHtml(r.uid)}" class="${r.selected ? "selected" : ""}">
    <td>${escapeHtml(r.name)}</td><td>${escapeHtml(app.types.get(r.itype)?.label || r.kind)}</td><td>${fmt(r.area, 3)}</td>
    <td>${fmt(r.mean)}</td><td>${fmt(r.std)}</td><td>${fmt(r.min)}</td><td>${fmt(r.max)}</td></tr>`).join("");
  window.osirixTasks.viewer.rois = rois;
}

async function selectRois(vp, uids) {
  for (const roi of vp.rois) roi.selected = uids.includes(roi.uid);
  vp.paintOverlay(); showRoiTable();
  try { await post(`/api/viewers/${enc(vp.viewer.uid)}/select-rois`, { uids }); } catch (error) { setStatus(status(), error.message, true); }
  loadRois(vp);
}

async function createRoi(vp, typeName, points, name = "Unnamed") {
  if (!isValidShape(typeName, points)) return;
  const type = app.byName.get(typeName);
  try {
    await post(`/api/viewers/${enc(vp.viewer.uid)}/rois`,
      { itype: type.code, frame: vp.frame, slice: vp.slice, name, color: app.newRoi.color, ...shapeOf(typeName, points) });
    setStatus(status(), "");
  } catch (error) { setStatus(status(), error.message, true); }
  await loadRois(vp);
}

async function editRoi(vp, uid, edit) {
  try {
    const data = await put(`/api/rois/${enc(uid)}`, { ...edit, viewer: vp.viewer.uid, frame: vp.frame, slice: vp.slice });
    setStatus(status(), "");
    return data.roi;
  } catch (error) { setStatus(status(), error.message, true); return null; }
  finally { vp.draft = null; await loadRois(vp); }
}

async function deleteSelected() {
  const vp = active;
  const chosen = (vp?.rois || []).filter((r) => r.selected);
  if (!chosen.length) { setStatus(status(), "Select an ROI first (Select tool, or click it in the list)", true); return; }
  for (const roi of chosen) {
    try { await del(`/api/rois/${enc(roi.uid)}`); } catch (error) { setStatus(status(), error.message, true); }
  }
  loadRois(vp);
}

// The in-page form for an ROI's name and colour (no prompt()): `done(name, colour)` on OK.
function askRoi({ title, name = "", color = app.newRoi.color, at = null }, done) {
  const form = $("#vw-roi-form");
  form.hidden = false;
  $("#vw-roi-form-title").textContent = title;
  form.elements.name.value = name;
  form.elements.color.value = "#" + color.map((c) => c.toString(16).padStart(2, "0")).join("");
  if (at) Object.assign(form.style, { left: `${Math.round(at[0])}px`, top: `${Math.round(at[1])}px` });
  form.elements.name.focus();
  form.elements.name.select();
  form.onsubmit = (event) => {
    event.preventDefault();
    form.hidden = true;
    const hex = form.elements.color.value;
    done(form.elements.name.value, [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
  };
  form.elements.cancel.onclick = () => { form.hidden = true; };
}

function editRoiDetails(vp, roi, at) {
  askRoi({ title: "ROI", name: roi.name, color: roi.color, at }, (name, color) => editRoi(vp, roi.uid, { name, color }));
}

// --- tools and the mouse ------------------------------------------------------------------------------

function setTool(name) {
  tool = name;
  gesture = null;
  for (const b of document.querySelectorAll("#vw-tools button")) b.classList.toggle("on", b.dataset.tool === name);
  for (const vp of viewports) { vp.draft = null; vp.paintOverlay(); }
}

// Where an event is in a viewport (CSS px); during a gesture the viewport's box as it began (asking the
// box again on every move would lay the page out again each time, after the corners changed).
const screenOf = (vp, event) => {
  const r = gesture?.vp === vp && gesture.box ? gesture.box : vp.el.getBoundingClientRect();
  return [event.clientX - r.left, event.clientY - r.top];
};

function buttonTool(event) {
  if (event.button === 2) return "zoom";
  if (event.button === 1) return "pan";
  if (event.button === 0 && event.metaKey) return "pan";
  return tool;
}

function pointerDown(vp, event) {
  if (!vp.source) return;
  if (vp !== active) activate(vp);
  event.preventDefault();
  const screen = screenOf(vp, event), point = vp.toImage(screen), mode = buttonTool(event);
  const base = { vp, box: vp.el.getBoundingClientRect(), start: screen, startPoint: point, camera: vp.camera, window: [vp.window.wl, vp.window.ww] };
  if (mode === "zoom" || mode === "pan" || mode === "wlww") { gesture = { ...base, kind: mode }; return; }
  if (mode === "crosshair") { gesture = { ...base, kind: "crosshair" }; crosshairAt(vp, point); return; }
  if (vp.isMpr) return;
  const tolerance = 6 / Math.max(1e-6, Math.hypot(vp.matrix()[0], vp.matrix()[1]));
  const found = hitTest(vp.rois, point, tolerance, app.types);
  const polygonInProgress = gesture?.kind === "draw" && gesture.typeName === "CLOSED_POLYGON";
  if (found && !polygonInProgress && (mode === "select" || found.roi.selected || found.part === "handle" || app.byName.has(mode))) {
    if (!found.roi.selected) selectRois(vp, event.shiftKey ? [...vp.rois.filter((r) => r.selected).map((r) => r.uid), found.roi.uid] : [found.roi.uid]);
    gesture = { ...base, kind: "edit", hit: found };
    return;
  }
  if (mode === "select") { selectRois(vp, []); return; }
  const type = app.byName.get(mode);
  if (!type) return;
  if (type.name === "TEXT") {
    askRoi({ title: "Text", at: screen }, (name) => { if (name) createRoi(vp, "TEXT", [point], name); });
    return;
  }
  if (type.name === "POINT") { createRoi(vp, "POINT", [point]); return; }
  if (type.name === "CLOSED_POLYGON" || type.name === "ANGLE") {
    if (!polygonInProgress && !(gesture?.kind === "draw" && gesture.typeName === "ANGLE")) gesture = { ...base, kind: "draw", typeName: type.name, points: [] };
    gesture.points.push(point);
    if (type.name === "ANGLE" && gesture.points.length === 3) { const g = gesture; gesture = null; vp.draft = null; createRoi(vp, "ANGLE", g.points); return; }
    showDraft(vp);
    return;
  }
  gesture = { ...base, kind: "draw", typeName: type.name, points: [point, point], dragging: true };
}

function showDraft(vp) {
  if (!gesture || gesture.kind !== "draw") { vp.draft = null; vp.paintOverlay(); return; }
  const type = app.byName.get(gesture.typeName);
  const outline = preview(gesture.typeName, gesture.points);
  const lineType = type.closed ? app.byName.get("OPEN_POLYGON") || type : type;
  vp.draft = { uid: "draft", itype: lineType.code, points: outline, color: [255, 255, 0], opacity: 1, thickness: 1, name: "", selected: false };
  vp.paintOverlay();
}

function pointerMove(event) {
  const vp = gesture?.vp || viewports.find((v) => v.el.contains(event.target));
  if (!vp?.source) return;
  const screen = screenOf(vp, event);
  if (!gesture) { hover(vp, screen); return; }
  const dx = screen[0] - gesture.start[0], dy = screen[1] - gesture.start[1];
  const point = vp.toImage(screen);
  switch (gesture.kind) {
    case "wlww": {
      [vp.window.wl, vp.window.ww] = dragWindow(gesture.window, dx, dy);
      vp.render();
      if (mpr && vp.isMpr) for (const other of viewports) if (other !== vp && other.isMpr) { other.window = { ...vp.window }; other.render(); }
      $("#vw-preset").value = presetOf([vp.window.wl, vp.window.ww], vp.defaultWindow);
      return;
    }
    case "zoom":
      vp.camera = zoomAt(gesture.camera, vp.view(), gesture.start, Math.exp(-dy / 150));
      vp.render(); return;
    case "pan":
      vp.camera = panBy(gesture.camera, dx, dy);
      vp.render(); return;
    case "crosshair": crosshairAt(vp, point); return;
    case "edit": {
      if (Math.hypot(dx, dy) < 2 && !gesture.moved) return;
      gesture.moved = true;
      const { points, edit } = dragEdit(gesture.hit, gesture.startPoint, point, app.types);
      gesture.edit = edit;
      vp.draft = { ...gesture.hit.roi, points, selected: true };
      vp.paintOverlay(); return;
    }
    case "draw":
      if (!gesture.dragging) { if (gesture.points.length) { gesture.points.push(point); showDraft(vp); gesture.points.pop(); } return; }
      if (gesture.typeName === "PENCIL") {
        const last = gesture.points[gesture.points.length - 1];
        if (Math.hypot(vp.toScreen(point)[0] - vp.toScreen(last)[0], vp.toScreen(point)[1] - vp.toScreen(last)[1]) >= 2) gesture.points.push(point);
      } else gesture.points = [gesture.points[0], point];
      showDraft(vp);
  }
}

function hover(vp, screen) {
  const value = vp.valueAt(screen);
  vp.cursor = value;
  vp.paintCorners();
}

function pointerUp() {
  if (!gesture) return;
  const g = gesture, vp = g.vp;
  if (g.kind === "draw" && !g.dragging) return;  // a polygon or angle goes on until closed
  gesture = null;
  if (g.kind === "wlww") { scheduleSync(vp); if (vp.isMpr) return; }
  if (g.kind === "edit" && g.edit) {
    const edit = g.edit.move ? { move: g.edit.move.map((v) => Math.round(v * 1000) / 1000) } : g.edit;
    editRoi(vp, g.hit.roi.uid, edit);
  }
  if (g.kind === "draw") { vp.draft = null; createRoi(vp, g.typeName, g.points); }
}

function finishPolygon() {
  if (gesture?.kind === "draw" && gesture.typeName === "CLOSED_POLYGON") {
    const g = gesture; gesture = null; g.vp.draft = null;
    const points = g.points.filter((p, i) => i === 0 || Math.hypot(p[0] - g.points[i - 1][0], p[1] - g.points[i - 1][1]) > 0.5);
    createRoi(g.vp, "CLOSED_POLYGON", points);
  }
}

function doubleClick(vp, event) {
  if (gesture?.kind === "draw") { finishPolygon(); return; }
  const point = vp.toImage(screenOf(vp, event));
  const found = hitTest(vp.rois, point, 6 / Math.hypot(vp.matrix()[0], vp.matrix()[1]), app.types);
  if (found) editRoiDetails(vp, found.roi, screenOf(vp, event));
}

function wheel(vp, event) {
  event.preventDefault();
  if (!vp.source) return;
  if (event.ctrlKey || event.altKey) {
    vp.camera = zoomAt(vp.camera, vp.view(), screenOf(vp, event), Math.exp(-Math.sign(event.deltaY) * 0.1));
    vp.render();
    return;
  }
  if (vp !== active) activate(vp);
  setSlice(vp.slice + Math.sign(event.deltaY || event.deltaX), vp.frame, vp);
}

function wire(vp) {
  vp.el.addEventListener("pointerdown", (e) => pointerDown(vp, e));
  vp.el.addEventListener("dblclick", (e) => doubleClick(vp, e));
  vp.el.addEventListener("wheel", (e) => wheel(vp, e), { passive: false });
  vp.el.addEventListener("contextmenu", (e) => e.preventDefault());
  vp.el.addEventListener("pointerleave", () => { vp.cursor = null; vp.paintCorners(); });
  vp.el.addEventListener("dragover", (e) => { if (e.dataTransfer.types.includes("text/x-series")) e.preventDefault(); });
  vp.el.addEventListener("drop", (e) => {
    const series = e.dataTransfer.getData("text/x-series");
    if (series) { e.preventDefault(); openSeriesIn(vp, series); }
  });
}

async function openSeriesIn(vp, seriesUid) {
  try {
    const data = await post(`/api/series/${enc(seriesUid)}/open`);
    if (mpr) leaveMpr();
    activate(vp);
    await openViewer(vp, data.viewer);
    refreshTitles();
  } catch (error) { setStatus(status(), error.message, true); }
}

// --- MPR ------------------------------------------------------------------------------------------------

async function enterMpr() {
  const vp = active;
  if (!vp?.source || vp.isMpr) return;
  const viewer = vp.viewer, frame = vp.frame;
  const version = counters ? String(counters.versions.get(viewer.uid)?.pixels ?? 0) : versions.get(viewer.uid) || "0";
  let info;
  try {
    setStatus(status(), "Building the MPR volume...");
    info = await get(`/api/viewers/${enc(viewer.uid)}/mpr?frame=${frame}&version=${enc(version)}`);
    setStatus(status(), "");
  } catch (error) { setStatus(status(), error.message, true); return; }
  const window = [vp.window.wl, vp.window.ww];
  const [slices, rows, columns] = info.shape;
  mpr = { viewer, info, frame, version, voxel: [vp.slice, Math.floor(rows / 2), Math.floor(columns / 2)], back: layout };
  setLayout("1x3");
  MPR_PLANES.forEach(([plane, label], i) => {
    const target = viewports[i];
    const source = { kind: "mpr", viewer, plane, label, geometry: info.planes[plane], version, header: vp.source.geometry?.header };
    const index = planePoint(info.planes[plane], mpr.voxel).index;
    target.setSource(source, { frame, slice: index, window });
    target.window.invert = vp.window.invert;
    showPlane(target);
  });
  void slices;
  app.decorate = drawCrosshair;
  $("#vw-mpr").classList.add("on");
  setTool("crosshair");
}

function leaveMpr() {
  if (!mpr) return;
  const { viewer, back } = mpr;
  mpr = null;
  app.decorate = null;
  $("#vw-mpr").classList.remove("on");
  for (const vp of viewports) vp.setSource(null);
  setLayout(back === "1x3" ? "1x1" : back);
  setTool("wlww");
  openViewer(viewports[0], viewer.uid, { keepPosition: false });
}

function crosshairAt(vp, point) {
  if (!mpr || !vp.isMpr) return;
  mpr.voxel = voxelOf(vp.source.geometry, vp.slice, point, mpr.voxel);
  mprMoved(vp);
}

function mprMoved(moved) {
  if (!mpr) return;
  if (moved.isMpr) {
    const axis = { slice: 0, row: 1, column: 2 }[moved.source.plane];
    const g = moved.source.geometry;
    mpr.voxel[axis] = moved.slice;
    void g;
  }
  for (const vp of viewports) {
    if (!vp.isMpr) continue;
    const { index } = planePoint(vp.source.geometry, mpr.voxel);
    if (vp !== moved && index !== vp.slice) { vp.slice = index; vp.rois = []; showPlane(vp); }
    else vp.paintOverlay();
  }
}

function drawCrosshair(vp, ctx, m) {
  if (!mpr || !vp.isMpr) return;
  const { point } = planePoint(vp.source.geometry, mpr.voxel);
  const g = vp.source.geometry;
  const [x, y] = point;
  ctx.save();
  ctx.strokeStyle = "rgba(80,200,255,.85)"; ctx.lineWidth = 1;
  ctx.beginPath();
  const a = [[x, -0.5], [x, g.y.size - 0.5], [-0.5, y], [g.x.size - 0.5, y]].map(([px, py]) => [m[0] * px + m[2] * py + m[4], m[1] * px + m[3] * py + m[5]]);
  ctx.moveTo(...a[0]); ctx.lineTo(...a[1]); ctx.moveTo(...a[2]); ctx.lineTo(...a[3]);
  ctx.stroke();
  ctx.restore();
}

// --- cine, presets, view changes ---------------------------------------------------------------------------

function toggleCine() {
  if (cine) { clearInterval(cine); cine = null; $("#vw-play").classList.remove("on"); return; }
  const vp = active;
  if (!vp?.source) return;
  const fps = +$("#vw-fps").value || 10;
  $("#vw-play").classList.add("on");
  cine = setInterval(() => {
    if (!vp.source) { toggleCine(); return; }
    const frames = vp.isMpr ? 1 : vp.viewer.pix.length;
    if (frames > 1) setSlice(vp.slice, (vp.frame + 1) % frames, vp);   // 4D: over the movie frames (OsiriX)
    else setSlice((vp.slice + 1) % vp.count(), vp.frame, vp);          // else over the slices
  }, 1000 / fps);
}

function applyPreset(name) {
  const vp = active;
  const preset = PRESETS.find((p) => p[0] === name);
  if (!preset || !vp?.source) return;
  if (preset[1] === null) [vp.window.wl, vp.window.ww] = vp.defaultWindow;
  else if (preset[1] === "full") {
    if (!vp.plane || vp.plane.format === "argb8") return;
    [vp.window.wl, vp.window.ww] = fullDynamic(vp.plane.values, vp.plane.range);
  } else [vp.window.wl, vp.window.ww] = preset[1];
  vp.render();
  $("#vw-preset").value = presetOf([vp.window.wl, vp.window.ww], vp.defaultWindow) || (preset[1] === "full" ? "Full dynamic" : "");
  scheduleSync(vp);
}

function changeCamera(change) {
  const vp = active;
  if (!vp?.source) return;
  vp.camera = change(vp.camera);
  vp.render();
}

// --- refresh ------------------------------------------------------------------------------------------------

async function refreshList(prefer) {
  const data = await refreshTitles();
  if (!data) return;
  const shown = new Set(viewports.filter((v) => v.source && !v.isMpr).map((v) => v.viewer.uid));
  for (const vp of viewports) {
    if (vp.source && !data.viewers.some((v) => v.uid === vp.viewer.uid)) { vp.setSource(null); if (vp.isMpr) mpr = null; }
  }
  const uid = prefer && data.viewers.some((v) => v.uid === prefer) ? prefer
    : shown.size ? null : data.frontmost;
  $("#vw-empty").hidden = data.viewers.length > 0;
  if (uid && !shown.has(uid) && !viewports.some((v) => v.opening && !v.source)) {
    if (mpr) leaveMpr();
    const target = active?.source ? active : viewports.find((v) => !v.source) || active;
    await openViewer(target, uid);
  }
  if (!data.viewers.length) showRoiTable();
}

// After a task: everything it may have changed is read again (pixels, ROIs, WL/WW, slice).
async function reloadAfterTask() {
  for (const vp of viewports) {
    if (!vp.source || vp.isMpr) continue;
    app.cache.dropPrefix("pix:");
    await openViewer(vp, vp.viewer.uid, { keepPosition: true });
  }
}

let polling = false;  // one poll at a time (a slow host must not have two race)

async function poll() {
  if (polling || document.hidden || !$("#view-viewer").classList.contains("active") || gesture) return;
  polling = true;
  try { await pollViewports(); } finally { polling = false; }
}

let counters = null;  // the host's change counters as last seen (viewer/changes.js), or false: it has none

async function pollViewports() {
  const shown = new Map();
  for (const vp of viewports) if (vp.source && !vp.isMpr) shown.set(vp.viewer.uid, [...(shown.get(vp.viewer.uid) || []), vp]);
  if (counters !== false) {
    let answer;
    try { answer = await get(`/api/changes?since=${counters?.since ?? 0}`); } catch { return; }
    if (answer.supported) {
      if (gesture) return;  // not recorded: the next poll after the gesture sees the change
      const next = fromCounters(answer, counters, shown);
      counters = next;
      for (const [uid, aspects] of next.reload) for (const vp of shown.get(uid) || []) await readAgain(vp, aspects, true);
      if (next.titles) refreshTitles();
      return;
    }
    counters = false;
  }
  for (const [uid, shownIn] of shown) {
    let data;
    try { data = await get(`/api/viewers/${enc(uid)}/version?frame=${shownIn[0].frame}&slice=${shownIn[0].slice}`); } catch { continue; }
    if (gesture) return;
    const aspects = fromToken(data.version, versions.get(uid));
    versions.set(uid, data.version);
    for (const vp of shownIn) await readAgain(vp, aspects, false);
    if (aspects.has("display")) refreshTitles();
  }
}

// Read again what a task changed in a viewport's viewer: its planes (every plane of the viewer when the
// counters say its pixels changed; the shown one for a token), its ROIs.
async function readAgain(vp, aspects, wholeViewer) {
  if (!vp.source || vp.isMpr) return;
  const uid = vp.viewer.uid;
  if (aspects.has("pixels")) {
    if (wholeViewer) for (const frame of vp.viewer.pix) for (const pix of frame) app.cache.drop(`pix:${pix}`);
    else app.cache.drop(vp.planeKey());
    const plane = await app.cache.load(vp.planeKey(), vp.planeUrl(), true, vp.pixUid()).catch(() => null);
    if (plane && vp.viewer?.uid === uid) { vp.plane = plane; vp.planeSlice = vp.slice; vp.render(); }
  }
  if (aspects.has("rois") || aspects.has("pixels")) await loadRois(vp);  // statistics follow the pixels
}

// --- export -------------------------------------------------------------------------------------------------

// Save the ROIs of the active viewport's viewer (the frame it shows: the host is told first) in `format`
// (sr, seg, csv, json: GET /api/viewers/{uid}/rois/export), under the name the host gives.
async function exportRois(format) {
  const vp = active;
  if (!vp?.source || vp.isMpr) { setStatus(status(), "Export ROIs: show a 2D viewer (not an MPR plane) in the active viewport first", true); return; }
  const uid = vp.viewer.uid;
  setStatus(status(), `Exporting the ROIs as ${format.toUpperCase()}...`);
  try {
    await flushSync(vp);
    const name = await download(`/api/viewers/${enc(uid)}/rois/export?format=${enc(format)}`);
    setStatus(status(), `ROIs saved as ${name}`);
  } catch (error) { setStatus(status(), `Export ROIs: ${error.message}`, true); }
}

// --- wiring -------------------------------------------------------------------------------------------------

function buildTools() {
  const roiTools = [...app.types.values()].filter((t) => t.drawable);
  $("#vw-roi-tools").innerHTML = roiTools.map((t) => `<button data-tool="${escapeHtml(t.name)}" title="${escapeHtml(t.label)}">${escapeHtml(t.label)}</button>`).join("");
  for (const button of document.querySelectorAll("#vw-tools button")) button.addEventListener("click", () => setTool(button.dataset.tool));
}

function keyDown(event) {
  if (!$("#view-viewer").classList.contains("active") || event.target.matches("input, select, textarea")) return;
  const vp = active;
  const keys = {
    ArrowDown: () => setSlice(vp.slice + 1), ArrowRight: () => setSlice(vp.slice + 1), PageDown: () => setSlice(vp.slice + 10),
    ArrowUp: () => setSlice(vp.slice - 1), ArrowLeft: () => setSlice(vp.slice - 1), PageUp: () => setSlice(vp.slice - 10),
    Home: () => setSlice(0), End: () => setSlice(vp.count() - 1),
    " ": toggleCine, Delete: deleteSelected, Backspace: deleteSelected,
    Escape: () => { gesture = null; for (const v of viewports) { v.draft = null; v.paintOverlay(); } },
    Enter: () => (gesture?.kind === "draw" ? finishPolygon() : toggleCine()),
  };
  const action = keys[event.key];
  if (!action || !vp?.source) return;
  event.preventDefault();
  action();
}

function debugApi() {
  // What tests and benchmarks read: the active viewport's state (live), its counters, the viewports.
  const state = {};
  Object.defineProperties(state, {
    viewer: { get: () => (active?.source ? active.viewer : null) },
    slice: { get: () => active?.slice ?? 0 },
    frame: { get: () => active?.frame ?? 0 },
    wl: { get: () => active?.window.wl }, ww: { get: () => active?.window.ww },
  });
  const stats = {};
  Object.defineProperties(stats, { paints: { get: () => active?.stats.paints ?? 0 }, painted: { get: () => active?.stats.painted ?? -1 } });
  return {
    state, stats, setSlice, cache: app.cache, rois: [], errors,
    get viewports() { return viewports; }, get active() { return active; }, get mpr() { return mpr; },
    get renderer() { return active?.renderer.kind; }, get gesture() { return gesture?.kind ?? null; },
    setLayout, activate: (i) => activate(viewports[i]), openViewer: (i, uid) => openViewer(viewports[i], uid),
    enterMpr, leaveMpr, setTool, crosshair: (i, point) => crosshairAt(viewports[i], point),
    setSync: (on) => { sync = on; $("#vw-sync").classList.toggle("on", on); },
    loadRois: () => Promise.all(viewports.map(loadRois)),
  };
}

export async function init({ show }) {
  showView = show;
  window.osirixTasks = window.osirixTasks || {};
  window.osirixTasks.viewer = debugApi();
  const vocabulary = await loadVocabulary(get);
  const byName = new Map(vocabulary.roi_types.map((t) => [t.name, t]));
  Object.assign(app, { types: vocabulary.byCode, byName, newRoi: vocabulary.new_roi });
  buildTools();
  $("#vw-preset").innerHTML = '<option value="">WL/WW presets</option>' + PRESETS.map(([n]) => `<option>${n}</option>`).join("");
  $("#vw-preset").addEventListener("change", (e) => applyPreset(e.target.value));
  $("#vw-layout").innerHTML = Object.keys(LAYOUTS).map((n) => `<option>${n}</option>`).join("");
  $("#vw-layout").addEventListener("change", (e) => { if (mpr) leaveMpr(); setLayout(e.target.value); });
  setLayout("1x1");
  window.addEventListener("pointermove", pointerMove);
  window.addEventListener("pointerup", pointerUp);
  window.addEventListener("pointercancel", () => { if (gesture?.kind !== "draw") gesture = null; });
  document.addEventListener("keydown", keyDown);
  $("#vw-slice").addEventListener("input", (e) => setSlice(+e.target.value));
  $("#vw-frame").addEventListener("input", (e) => setSlice(active.slice, +e.target.value));
  $("#vw-play").addEventListener("click", toggleCine);
  $("#vw-invert").addEventListener("click", () => {
    if (!active?.source) return;
    active.window.invert = !active.window.invert; active.render(); updateControls();
  });
  $("#vw-flip-h").addEventListener("click", () => changeCamera((c) => flipScreen(c, true)));
  $("#vw-flip-v").addEventListener("click", () => changeCamera((c) => flipScreen(c, false)));
  $("#vw-rotate").addEventListener("click", () => changeCamera((c) => rotateBy(c, 90)));
  $("#vw-reset").addEventListener("click", () => changeCamera(() => makeCamera()));
  $("#vw-sync").addEventListener("click", () => { sync = !sync; $("#vw-sync").classList.toggle("on", sync); if (sync && active?.source) syncOthers(active); });
  $("#vw-overlays").addEventListener("click", () => {
    app.showOverlays = !app.showOverlays; $("#vw-overlays").classList.toggle("on", app.showOverlays);
    for (const vp of viewports) vp.paintOverlay();
  });
  $("#vw-mpr").addEventListener("click", () => (mpr ? leaveMpr() : enterMpr()));
  $("#vw-rois tbody").addEventListener("click", (event) => {
    const row = event.target.closest("tr");
    if (row && active?.source) selectRois(active, event.shiftKey ? [...active.rois.filter((r) => r.selected).map((r) => r.uid), row.dataset.uid] : [row.dataset.uid]);
  });
  $("#vw-rois tbody").addEventListener("dblclick", (event) => {
    const row = event.target.closest("tr");
    const roi = active?.rois.find((r) => r.uid === row?.dataset.uid);
    if (roi) editRoiDetails(active, roi, null);
  });
  $("#vw-edit").addEventListener("click", () => {
    const roi = active?.rois.find((r) => r.selected);
    if (roi) editRoiDetails(active, roi, null); else setStatus(status(), "Select an ROI first", true);
  });
  $("#vw-delete").addEventListener("click", deleteSelected);
  $("#vw-export").addEventListener("change", (e) => { const format = e.target.value; e.target.value = ""; if (format) exportRois(format); });
  $("#vw-list").addEventListener("change", (e) => { if (mpr) leaveMpr(); openViewer(active, e.target.value); });
  $("#vw-close").addEventListener("click", async () => {
    const vp = active;
    if (!vp?.source || vp.isMpr) return;
    try { await del(`/api/viewers/${enc(vp.viewer.uid)}`); } catch (error) { setStatus(status(), error.message, true); }
    vp.setSource(null);
    refreshList();
  });
  for (const [id, mode] of [["#vw-mip", "MIP"], ["#vw-vr", "VR"]]) {
    $(id).addEventListener("click", async () => {
      if (!active?.source || active.isMpr) return;
      try {
        await flushSync(active);
        const data = await post(`/api/viewers/${enc(active.viewer.uid)}/vr`, { mode });
        emit("vr-opened", data.vr);
        showView("vr");
      } catch (error) { setStatus(status(), error.message, true); }
    });
  }
  register("2D viewer", { status: "#vw-status", before: () => flushSync(active), extra: () => (active?.source && !active.isMpr ? { viewer: active.viewer.uid } : {}) });
  on("viewer-opened", (uid) => { preferred = uid; });
  on("run-finished", () => reloadAfterTask());
  // (a gesture's viewport box is read again here, where the layout is fresh anyway)
  new ResizeObserver(() => { for (const vp of viewports) vp.resize(); if (gesture) gesture.box = gesture.vp.el.getBoundingClientRect(); }).observe($("#vw-grid"));
  setInterval(poll, 1500);
}

// The series of the database as thumbnails: drag one into a viewport, or double-click it (active one).
function showThumbnails(studies) {
  const strip = $("#vw-series");
  if (!strip) return;
  strip.innerHTML = studies.flatMap((s) => s.series.map((r) => `<div class="series-thumb" draggable="true" data-series="${escapeHtml(r.uid)}"
    title="${escapeHtml(s.patient)} - ${escapeHtml(r.description)}"><canvas class="thumb" data-series="${escapeHtml(r.uid)}" width="48" height="48"></canvas>
    <span>${escapeHtml(r.description)}</span></div>`)).join("");
  strip.querySelectorAll("canvas.thumb").forEach(drawThumbnail);
  for (const item of strip.querySelectorAll(".series-thumb")) {
    item.addEventListener("dragstart", (e) => { e.dataTransfer.setData("text/x-series", item.dataset.series); });
    item.addEventListener("dblclick", () => openSeriesIn(active || viewports[0], item.dataset.series));
  }
}

export async function shown() {
  const uid = preferred; preferred = null;
  for (const vp of viewports) vp.resize();
  await refreshList(uid);
  try { showThumbnails((await get("/api/database")).studies); } catch { /* the database window says why */ }
}
