// One viewport: its own canvases (image, overlay), camera, display set and window. A display set is a
// 2D viewer of OsiriX (its slices and movie frames) or one plane of an orthogonal MPR of it. Tools are
// not here (tools.js): a viewport draws and answers where things are.
import { apply, displayedZoom, invert, makeCamera, pixelsPerMm, transform } from "./camera.js";
import { markers, scaleBar } from "./geometry.js";
import { drawRois } from "./roidraw.js";
import { createRenderer } from "./render.js";

const el = (tag, cls, parent) => { const e = document.createElement(tag); if (cls) e.className = cls; parent?.appendChild(e); return e; };
const enc = encodeURIComponent;
const setText = (element, text) => { if (element.textContent !== text) element.textContent = text; };

const maskCache = new WeakMap();
function maskCanvas(roi) {
  if (maskCache.has(roi)) return maskCache.get(roi);
  const { rows, columns, bits } = roi.mask;
  const canvas = bitsCanvas(bits, rows, columns, roi.color, 0.45 * (roi.opacity ?? 1));
  maskCache.set(roi, canvas);
  return canvas;
}

// A canvas of `columns` x `rows` with the set bits of packed `bits` (base64) in colour.
export function bitsCanvas(bits, rows, columns, [r, g, b], alpha) {
  const bytes = Uint8Array.from(atob(bits), (c) => c.charCodeAt(0));
  const canvas = document.createElement("canvas");
  canvas.width = columns; canvas.height = rows;
  const image = new ImageData(columns, rows);
  const words = new Uint32Array(image.data.buffer);
  const fill = ((Math.round(255 * alpha) << 24) | (b << 16) | (g << 8) | r) >>> 0;
  for (let i = 0; i < rows * columns; i++) if (bytes[i >> 3] & (0x80 >> (i & 7))) words[i] = fill;
  canvas.getContext("2d").putImageData(image, 0, 0);
  return canvas;
}

export class Viewport {
  constructor(parent, app, index) {
    this.app = app;
    this.index = index;
    this.el = el("div", "viewport", parent);
    this.el.dataset.index = index;
    this.image = el("canvas", "vp-image", this.el);
    this.overlay = el("canvas", "vp-overlay", this.el);
    this.corners = Object.fromEntries(["tl", "tr", "bl", "br"].map((k) => [k, el("div", `corner ${k}`, this.el)]));
    this.markers = Object.fromEntries(["top", "bottom", "left", "right"].map((k) => [k, el("div", `marker ${k}`, this.el)]));
    this.empty = el("div", "empty", this.el);
    this.empty.textContent = "Drop a series here";
    this.source = null;
    this.camera = makeCamera();
    this.window = { wl: 0, ww: 1, invert: false };
    this.defaultWindow = null;
    this.frame = 0; this.slice = 0; this.direction = 1;
    this.plane = null; this.planeSlice = -1;
    this.rois = []; this.draft = null; this.labels = [];
    this.cursor = null;       // {x, y, value} under the mouse
    this.overlays = new Map(); // pix uid -> overlay planes (60xx)
    this.stats = { paints: 0, painted: -1 };
    this.width = 1; this.height = 1;
  }

  // The renderer, made when first needed (asking the browser for WebGL2 takes a while: not while the page starts).
  get renderer() {
    if (this.disposed) throw new Error(`viewport ${this.index} is no longer in the layout`);
    return (this.drawer ??= createRenderer(this.image, this.app.rendererKind));
  }

  // Out of the layout: the renderer gives back its textures and context, the canvases their pixels, and
  // the element leaves the page; a plane or ROIs arriving later for it draw nothing.
  dispose() {
    this.disposed = true;
    this.opening = null;  // a viewer on its way to it is not shown
    clearTimeout(this.detailsTimer);
    this.drawer?.dispose();
    this.drawer = null;
    this.source = null; this.plane = null; this.rois = []; this.draft = null; this.overlays.clear();
    this.overlay.width = 0; this.overlay.height = 0;
    this.el.remove();
  }

  get viewer() { return this.source?.viewer ?? null; }
  get isMpr() { return this.source?.kind === "mpr"; }

  count() {
    if (!this.source) return 0;
    return this.isMpr ? this.source.geometry.count : this.source.viewer.pix[this.frame].length;
  }

  // What the plane cache calls plane `i` and where it is fetched.
  planeKey(i = this.slice) {
    if (this.isMpr) return `mpr:${this.source.viewer.uid}:${this.source.version}:${this.source.plane}:${i}`;
    return `pix:${this.source.viewer.pix[this.frame][i]}`;
  }

  planeUrl(i = this.slice) {
    if (this.isMpr) {
      const s = this.source;
      return `/api/viewers/${enc(s.viewer.uid)}/mpr/${s.plane}?index=${i}&frame=${this.frame}&version=${enc(s.version)}`;
    }
    return `/api/pix/${enc(this.source.viewer.pix[this.frame][i])}`;
  }

  pixUid(i = this.slice) { return this.isMpr ? null : this.source?.viewer.pix[this.frame]?.[i] ?? null; }

  // The view the camera fits: size, plane shape and pixel spacing [between rows, between columns].
  view() {
    const s = this.source;
    if (!s) return { width: this.width, height: this.height, columns: 1, rows: 1, spacing: [1, 1] };
    if (this.isMpr) {
      const g = s.geometry;
      return { width: this.width, height: this.height, columns: g.x.size, rows: g.y.size, spacing: [g.y.spacing, g.x.spacing] };
    }
    return { width: this.width, height: this.height, columns: s.viewer.columns, rows: s.viewer.rows, spacing: s.viewer.spacing };
  }

  matrix() { return transform(this.camera, this.view()); }
  toImage(screen) { return apply(invert(this.matrix()), screen); }
  toScreen(point) { return apply(this.matrix(), point); }

  resize() {
    if (this.disposed) return;
    const rect = this.el.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    this.width = Math.max(1, rect.width); this.height = Math.max(1, rect.height);
    this.overlay.width = Math.round(this.width * ratio); this.overlay.height = Math.round(this.height * ratio);
    this.overlay.style.width = `${this.width}px`; this.overlay.style.height = `${this.height}px`;
    this.render();
  }

  setSource(source, { frame = 0, slice = 0, window = null, keepCamera = false } = {}) {
    if (this.disposed) return;
    this.source = source;
    this.empty.hidden = !!source;
    this.frame = frame; this.slice = slice;
    this.plane = null; this.planeSlice = -1; this.rois = []; this.overlays.clear();
    if (!keepCamera) this.camera = makeCamera();
    if (window) { this.window = { ...this.window, wl: window[0], ww: window[1] }; this.defaultWindow = [...window]; }
    this.render();
  }

  // Paint what there is: the image (a plane on its way keeps the last one), the overlay, the corners.
  render() {
    if (this.disposed) return;
    const m = this.matrix();
    this.image.hidden = !this.plane;
    if (this.plane) {
      this.renderer.draw(this.plane, this.window);
      this.place(m);
      this.stats.paints++; this.stats.painted = this.planeSlice;
    }
    this.paintOverlay(m, true);
    this.paintCorners(m);
  }

  // What the overlay shows is drawn from (ROIs edited in place are repainted by whoever edits them).
  overlayInputs(m) {
    const a = this.app;
    return [this.source, this.rois.length ? this.rois : null, this.draft, this.overlays.get(this.pixUid()), a.showOverlays,
      !!this.plane, this.overlay.width, this.overlay.height, ...m];
  }

  // Put the image canvas (the plane's size, 1 CSS px a pixel) where the camera shows the plane.
  place(m) {
    const { columns, rows } = this.plane, style = this.image.style;
    // image point p (pixel centres on integers) is canvas point p + 0.5
    const placed = `${columns}x${rows} ${m.join(",")}`;
    if (this.placed === placed) return;
    this.placed = placed;
    style.width = `${columns}px`; style.height = `${rows}px`;
    style.transform = `matrix(${m[0]},${m[1]},${m[2]},${m[3]},${m[4] - (m[0] + m[2]) / 2},${m[5] - (m[1] + m[3]) / 2})`;
  }

  // Draw the overlay: ROIs, overlay planes (60xx), the tool's decoration, the scale bar; with
  // `ifChanged`, only when what it is drawn from changed (a scroll over images without ROIs, a WL/WW drag).
  paintOverlay(m = this.matrix(), ifChanged = false) {
    if (this.disposed) return;
    const inputs = this.overlayInputs(m), last = this.overlayDrawn;
    this.overlayDrawn = inputs;
    if (ifChanged && !this.app.decorate && last && inputs.every((v, i) => v === last[i])) return;
    const ctx = this.overlay.getContext("2d");
    const ratio = this.overlay.width / this.width;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    if (!this.source) return;
    const overlays = this.overlays.get(this.pixUid());
    if (overlays && this.app.showOverlays) {
      for (const o of overlays) {
        ctx.save();
        ctx.transform(...m);
        ctx.imageSmoothingEnabled = false;
        o.canvas ??= bitsCanvas(o.bits, o.rows, o.columns, [255, 255, 0], 0.9);
        ctx.drawImage(o.canvas, o.origin[1] - 1.5, o.origin[0] - 1.5, o.columns, o.rows);
        ctx.restore();
      }
    }
    const rois = this.draft ? [...this.rois.filter((r) => r.uid !== this.draft.uid), this.draft] : this.rois;
    this.labels = drawRois(ctx, rois, { m, spacing: this.view().spacing, types: this.app.types, maskCanvas });
    ctx.save(); this.app.decorate?.(this, ctx, m); ctx.restore();
    const bar = scaleBar(pixelsPerMm(this.camera, this.view()), this.height * 0.3);
    if (bar && this.plane) {
      // the context lives on between paints: what the bar sets (right-aligned text) must not reach the
      // next paint's ROI labels
      ctx.save();
      const x = this.width - 14, y1 = this.height / 2 + bar.pixels / 2, y0 = y1 - bar.pixels;
      ctx.strokeStyle = "#ddd"; ctx.lineWidth = 1; ctx.beginPath();
      ctx.moveTo(x, y0); ctx.lineTo(x, y1);
      for (let k = 0; k <= 10; k++) { const y = y0 + (k * bar.pixels) / 10; ctx.moveTo(x - (k % 5 ? 3 : 6), y); ctx.lineTo(x, y); }
      ctx.stroke();
      ctx.font = "11px sans-serif"; ctx.fillStyle = "#ddd"; ctx.textAlign = "right"; ctx.textBaseline = "middle";
      ctx.fillText(bar.label, x - 8, y0 - 8);
      ctx.restore();
      this.scale = bar;
    }
  }

  // Directions in the patient of the image's +x and +y (markers), or null without orientation.
  directions() {
    if (this.isMpr) return [this.source.geometry.x.direction, this.source.geometry.y.direction];
    const o = this.source?.geometry?.orientation;
    if (!o || o.length < 6 || o.every((v) => v === 0)) return null;
    return [o.slice(0, 3), o.slice(3, 6)];
  }

  paintCorners(m = this.matrix()) {
    const s = this.source;
    if (!s) { for (const c of Object.values(this.corners)) setText(c, ""); for (const k of Object.values(this.markers)) setText(k, ""); return; }
    const h = s.header || s.geometry?.header || {};
    const count = this.count();
    const lines = [];
    lines.push(`${this.isMpr ? s.label + " " : ""}Image: ${this.slice + 1} / ${count}` + (!this.isMpr && s.viewer.pix.length > 1 ? `  Frame: ${this.frame + 1} / ${s.viewer.pix.length}` : ""));
    if (!this.isMpr) {
      const location = s.geometry?.locations?.[this.slice];
      if (location != null) lines.push(`Loc: ${location.toFixed(2)} mm`);
      if (h.thickness) lines.push(`Thickness: ${(+h.thickness).toFixed(2)} mm`);
    } else if (s.plane !== "slice") lines.push(`Interval: ${s.geometry.y.spacing.toFixed(2)} mm`);
    const v = this.view();
    lines.push(`${v.columns} x ${v.rows}`);
    setText(this.corners.tl, lines.join("\n"));
    setText(this.corners.tr, [h.patient || "No name", h.patient_id, [h.birth_date, h.sex].filter(Boolean).join(" "), h.study, h.study_date].filter(Boolean).join("\n"));
    const bl = [`WL: ${Math.round(this.window.wl)} WW: ${Math.round(this.window.ww)}${this.window.invert ? "  Inverted" : ""}`,
      `Zoom: ${Math.round(displayedZoom(this.camera, v) * 100)}%` + (this.camera.rotation ? `  Angle: ${this.camera.rotation}\u00b0` : "")];
    if (this.cursor) bl.push(`X: ${this.cursor.x} px Y: ${this.cursor.y} px  Value: ${this.cursor.value}`);
    setText(this.corners.bl, bl.join("\n"));
    setText(this.corners.br, [h.series ? `${h.series}${h.series_number ? " (" + h.series_number + ")" : ""}` : "", h.modality, h.institution].filter(Boolean).join("\n"));
    const dirs = this.directions();
    const labels = dirs ? markers(dirs[0], dirs[1], m) : { top: "", bottom: "", left: "", right: "" };
    for (const key of Object.keys(this.markers)) setText(this.markers[key], labels[key]);
  }

  // The value under a screen point (for the corner), or null outside the image.
  valueAt(screen) {
    if (!this.plane) return null;
    const [fx, fy] = this.toImage(screen);
    const x = Math.round(fx), y = Math.round(fy);
    if (x < 0 || y < 0 || x >= this.plane.columns || y >= this.plane.rows) return null;
    const i = y * this.plane.columns + x;
    if (this.plane.format === "argb8") {
      const b = this.plane.values;
      return { x, y, value: `R ${b[4 * i + 1]} G ${b[4 * i + 2]} B ${b[4 * i + 3]}` };
    }
    const value = this.plane.values[i];
    return { x, y, value: Number.isInteger(value) ? String(value) : value.toFixed(2), raw: value };
  }
}
