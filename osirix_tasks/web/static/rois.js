// ROIs on the 2D viewer's overlay: drawing every OsiriX ROI type (masks as overlays, text, arrows,
// angles, lines with their length, closed shapes with area and mean), hit testing, and the shapes
// the mouse tools make. Coordinates are OsiriX's: x = column, y = row, pixel centres on integers.

const CLOSED = new Set([6, 9, 11, 15, 20, 24, 31]);
const OPEN_LINES = new Set([10, 26, 27, 29]);

// view: { toScreen([x, y]) -> [sx, sy], scale: screen px per image px (x), spacing: [rows, cols] mm }
export function drawRois(ctx, rois, view) {
  for (const roi of rois) drawRoi(ctx, roi, view);
}

function colour(roi, alpha = 1) {
  const [r, g, b] = roi.color;
  return `rgba(${r},${g},${b},${alpha * (roi.opacity ?? 1)})`;
}

function path(ctx, points, view, closed) {
  ctx.beginPath();
  points.forEach((p, i) => { const [x, y] = view.toScreen(p); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
  if (closed) ctx.closePath();
}

function label(ctx, lines, x, y, selected) {
  ctx.font = `${selected ? "bold " : ""}12px sans-serif`;
  ctx.textBaseline = "top";
  lines.forEach((line, i) => {
    ctx.lineWidth = 3; ctx.strokeStyle = "rgba(0,0,0,.85)"; ctx.strokeText(line, x, y + i * 14);
    ctx.fillStyle = "#fff"; ctx.fillText(line, x, y + i * 14);
  });
}

function bounds(points, view) {
  const screen = points.map((p) => view.toScreen(p));
  return { right: Math.max(...screen.map((p) => p[0])), top: Math.min(...screen.map((p) => p[1])) };
}

function lengthMm(a, b, view) {
  const [sr, sc] = view.spacing;
  return Math.hypot((b[0] - a[0]) * sc, (b[1] - a[1]) * sr);
}

export function angleDegrees(a, vertex, b) {
  const u = [a[0] - vertex[0], a[1] - vertex[1]], v = [b[0] - vertex[0], b[1] - vertex[1]];
  const cos = (u[0] * v[0] + u[1] * v[1]) / (Math.hypot(...u) * Math.hypot(...v) || 1);
  return (Math.acos(Math.max(-1, Math.min(1, cos))) * 180) / Math.PI;
}

const maskCache = new WeakMap();
function maskCanvas(roi) {
  if (maskCache.has(roi)) return maskCache.get(roi);
  const { rows, columns, bits } = roi.mask;
  const bytes = Uint8Array.from(atob(bits), (c) => c.charCodeAt(0));
  const canvas = document.createElement("canvas");
  canvas.width = columns; canvas.height = rows;
  const image = new ImageData(columns, rows);
  const words = new Uint32Array(image.data.buffer);
  const [r, g, b] = roi.color;
  const fill = ((Math.round(255 * 0.45 * (roi.opacity ?? 1)) << 24) | (b << 16) | (g << 8) | r) >>> 0;
  for (let i = 0; i < rows * columns; i++) if (bytes[i >> 3] & (0x80 >> (i & 7))) words[i] = fill;
  canvas.getContext("2d").putImageData(image, 0, 0);
  maskCache.set(roi, canvas);
  return canvas;
}

function drawRoi(ctx, roi, view) {
  const points = roi.points;
  const selected = roi.selected;
  ctx.save();
  ctx.strokeStyle = colour(roi);
  ctx.fillStyle = colour(roi);
  ctx.lineWidth = Math.max(1, roi.thickness || 1) + (selected ? 1 : 0);
  const type = roi.itype;
  if (type === 20 && roi.mask) {
    const [x0, y0] = view.toScreen([-0.5, -0.5]);
    const [x1, y1] = view.toScreen([roi.mask.columns - 0.5, roi.mask.rows - 0.5]);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(maskCanvas(roi), x0, y0, x1 - x0, y1 - y0);
  } else if (CLOSED.has(type) && points.length) {
    path(ctx, points, view, true);
    if (selected) { ctx.fillStyle = colour(roi, 0.18); ctx.fill(); }
    ctx.stroke();
  } else if (type === 5 && points.length >= 2) {
    path(ctx, points, view, false); ctx.stroke();
    const [x, y] = view.toScreen(points[1]);
    label(ctx, [`${lengthMm(points[0], points[1], view).toFixed(2)} mm`], x + 6, y - 6, selected);
  } else if (type === 14 && points.length >= 2) {
    path(ctx, points, view, false); ctx.stroke();
    const [tx, ty] = view.toScreen(points[0]), [fx, fy] = view.toScreen(points[1]);
    const angle = Math.atan2(ty - fy, tx - fx), size = 12;
    ctx.beginPath();
    ctx.moveTo(tx, ty);
    ctx.lineTo(tx - size * Math.cos(angle - 0.4), ty - size * Math.sin(angle - 0.4));
    ctx.lineTo(tx - size * Math.cos(angle + 0.4), ty - size * Math.sin(angle + 0.4));
    ctx.closePath(); ctx.fill();
  } else if (type === 12 && points.length >= 3) {
    path(ctx, points.slice(0, 3), view, false); ctx.stroke();
    const [x, y] = view.toScreen(points[1]);
    label(ctx, [`${angleDegrees(points[0], points[1], points[2]).toFixed(1)}\u00b0`], x + 6, y + 4, selected);
  } else if (type === 13 && points.length) {
    const [x, y] = view.toScreen(points[0]);
    ctx.font = "bold 14px sans-serif"; ctx.textBaseline = "middle";
    ctx.lineWidth = 3; ctx.strokeStyle = "rgba(0,0,0,.85)"; ctx.strokeText(roi.name, x, y);
    ctx.fillText(roi.name, x, y);
    if (selected) { const w = ctx.measureText(roi.name).width; ctx.strokeStyle = colour(roi); ctx.lineWidth = 1; ctx.strokeRect(x - 3, y - 10, w + 6, 20); }
  } else if (type === 19 && points.length) {
    const [x, y] = view.toScreen(points[0]);
    ctx.beginPath(); ctx.arc(x, y, selected ? 5 : 4, 0, 2 * Math.PI); ctx.fill();
    ctx.beginPath(); ctx.moveTo(x - 9, y); ctx.lineTo(x + 9, y); ctx.moveTo(x, y - 9); ctx.lineTo(x, y + 9); ctx.lineWidth = 1; ctx.stroke();
  } else if (points.length) {  // open polygon, axis, dynamic angle, TAGT and any other line type
    path(ctx, points, view, type === 31);
    ctx.stroke();
  }
  if (selected && type !== 20) {
    ctx.fillStyle = "#fff";
    for (const p of points.length > 40 ? [] : points) { const [x, y] = view.toScreen(p); ctx.fillRect(x - 2.5, y - 2.5, 5, 5); }
  }
  if (CLOSED.has(type) && roi.area != null) {
    const box = type === 20 && roi.mask ? null : bounds(points, view);
    const lines = [roi.name, `Area: ${roi.area.toFixed(3)} cm\u00b2`];
    if (roi.mean != null) lines.push(`Mean: ${roi.mean.toFixed(3)}`);
    const anchor = box ? [box.right + 6, box.top] : view.toScreen(maskCentre(roi));
    label(ctx, lines, anchor[0], anchor[1], selected);
  }
  ctx.restore();
}

function maskCentre(roi) {
  const { rows, columns, bits } = roi.mask;
  const bytes = Uint8Array.from(atob(bits), (c) => c.charCodeAt(0));
  let sx = 0, sy = 0, n = 0;
  for (let i = 0; i < rows * columns; i++) if (bytes[i >> 3] & (0x80 >> (i & 7))) { sx += i % columns; sy += Math.floor(i / columns); n++; }
  return n ? [sx / n, sy / n] : [0, 0];
}

function inside(point, polygon) {
  let result = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i], [xj, yj] = polygon[j];
    if ((yi > point[1]) !== (yj > point[1]) && point[0] < ((xj - xi) * (point[1] - yi)) / (yj - yi) + xi) result = !result;
  }
  return result;
}

function segmentDistance(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

// The topmost ROI under an image point (tolerance in image pixels), or null.
export function hit(rois, point, tolerance) {
  for (const roi of [...rois].reverse()) {
    const pts = roi.points;
    if (roi.itype === 20 && roi.mask) {
      const x = Math.round(point[0]), y = Math.round(point[1]);
      const { rows, columns, bits } = roi.mask;
      if (x >= 0 && y >= 0 && x < columns && y < rows) {
        const i = y * columns + x;
        if (atob(bits).charCodeAt(i >> 3) & (0x80 >> (i & 7))) return roi;
      }
      continue;
    }
    if (CLOSED.has(roi.itype) && pts.length >= 3 && inside(point, pts)) return roi;
    if (pts.length === 1 && Math.hypot(point[0] - pts[0][0], point[1] - pts[0][1]) <= tolerance * 2) return roi;
    const closed = CLOSED.has(roi.itype);
    for (let i = 0; i + 1 < pts.length + (closed ? 1 : 0); i++) {
      if (segmentDistance(point, pts[i], pts[(i + 1) % pts.length]) <= tolerance) return roi;
    }
  }
  return null;
}

// What a finished mouse gesture of a tool sends to OsiriX: {points} or {rect}.
export function shapeOf(tool, points) {
  const [a, b] = [points[0], points[points.length - 1]];
  switch (tool) {
    case 9: return { rect: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, Math.abs(b[0] - a[0]) / 2, Math.abs(b[1] - a[1]) / 2] };
    case 6: return { rect: [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1])] };
    case 19: case 13: return { rect: [a[0], a[1], 1, 1] };
    case 5: case 14: return { points: [a, b] };
    default: return { points };
  }
}

// The outline of a gesture in progress, as image points, for the preview.
export function preview(tool, points) {
  if (!points.length) return [];
  const [a, b] = [points[0], points[points.length - 1]];
  if (tool === 6) return [a, [b[0], a[1]], b, [a[0], b[1]], a];
  if (tool === 9) {
    const cx = (a[0] + b[0]) / 2, cy = (a[1] + b[1]) / 2, rx = Math.abs(b[0] - a[0]) / 2, ry = Math.abs(b[1] - a[1]) / 2;
    return Array.from({ length: 41 }, (_, i) => [cx + rx * Math.cos((i / 40) * 2 * Math.PI), cy + ry * Math.sin((i / 40) * 2 * Math.PI)]);
  }
  return points;
}

export const isValidShape = (tool, points) => {
  const [a, b] = [points[0], points[points.length - 1]];
  if (tool === 11 || tool === 15) return points.length >= 3;
  if (tool === 12) return points.length === 3;
  if (tool === 6 || tool === 9) return Math.abs(b[0] - a[0]) >= 1 && Math.abs(b[1] - a[1]) >= 1;
  if (tool === 5 || tool === 14) return Math.hypot(b[0] - a[0], b[1] - a[1]) >= 1;
  return points.length >= 1;
};
