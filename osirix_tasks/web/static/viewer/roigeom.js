// ROI geometry, pure (node --test imports it): hit testing, edit handles, what a drag does to an ROI
// (and what is sent to OsiriX for it), the shapes the drawing tools make, and label placement that
// keeps labels off the outlines. Image coordinates: x = column, y = row, pixel centres on integers.
// ROI types come from the vocabulary (/api/vocabulary): `types` maps a code to {name, shape, closed};
// no type number is written here.

export const typeOf = (roi, types) => types.get(roi.itype) || { name: "UNKNOWN", shape: "points", closed: false };

export function inside(point, polygon) {
  let result = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i], [xj, yj] = polygon[j];
    if ((yi > point[1]) !== (yj > point[1]) && point[0] < ((xj - xi) * (point[1] - yi)) / (yj - yi) + xi) result = !result;
  }
  return result;
}

export function segmentDistance(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

export function bbox(points) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of points) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
  return [x0, y0, x1, y1];
}

// The handles of an ROI that can be dragged: its points (point-defined types), or the corners of its
// box (rectangle, oval). Text, 2D points and masks have none (they only move).
export function handles(roi, types) {
  const type = typeOf(roi, types);
  if (type.shape === "buffer" || !roi.points.length) return [];
  if (type.shape === "rectangle") {
    if (type.name !== "RECTANGLE" && type.name !== "OVAL") return [];
    const [x0, y0, x1, y1] = bbox(roi.points);
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
  }
  return roi.points.length > 400 ? [] : roi.points;
}

// Whether an image point is on a set pixel of a brush ROI's mask (rows x columns bits, row-major,
// most significant bit first, base64: as the host lists it).
export function inMask(roi, point) {
  if (!roi.mask) return false;
  const x = Math.round(point[0]), y = Math.round(point[1]);
  const { rows, columns, bits } = roi.mask;
  if (x < 0 || y < 0 || x >= columns || y >= rows) return false;
  const i = y * columns + x;
  return (atob(bits).charCodeAt(i >> 3) & (0x80 >> (i & 7))) !== 0;
}

// What is under an image point: {roi, part: "handle", index} (a selected ROI's handle first),
// {roi, part: "body"}, or null. `tolerance` is in image pixels.
export function hitTest(rois, point, tolerance, types, maskHit = inMask) {
  for (const roi of [...rois].reverse()) {
    if (!roi.selected) continue;
    const index = handles(roi, types).findIndex(([x, y]) => Math.hypot(point[0] - x, point[1] - y) <= tolerance * 1.5);
    if (index >= 0) return { roi, part: "handle", index };
  }
  for (const roi of [...rois].reverse()) {
    const type = typeOf(roi, types), pts = roi.points;
    if (type.shape === "buffer") { if (maskHit(roi, point)) return { roi, part: "body" }; continue; }
    if (type.closed && pts.length >= 3 && inside(point, pts)) return { roi, part: "body" };
    if (pts.length === 1 && Math.hypot(point[0] - pts[0][0], point[1] - pts[0][1]) <= tolerance * 2) return { roi, part: "body" };
    for (let i = 0; i + 1 < pts.length + (type.closed ? 1 : 0); i++) {
      if (segmentDistance(point, pts[i], pts[(i + 1) % pts.length]) <= tolerance) return { roi, part: "body" };
    }
  }
  return null;
}

// The rect ViewerControllerNewROI takes for a box [x0, y0, x1, y1]: an oval's centre and radii, else
// origin and size (OsiriX keeps tOval as centre + radii).
export function rectFor(typeName, [x0, y0, x1, y1]) {
  const [a, b, c, d] = [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
  if (typeName === "OVAL") return [(a + c) / 2, (b + d) / 2, (c - a) / 2, (d - b) / 2];
  return [a, b, c - a, d - b];
}

// A drag from `start` to `now` (image points) on a hit: the ROI's points as they look during the drag,
// and the edit to send ({move}, {points} or {rect}).
export function dragEdit(hit, start, now, types) {
  const dx = now[0] - start[0], dy = now[1] - start[1];
  const roi = hit.roi, type = typeOf(roi, types);
  if (hit.part === "body") {
    return { points: roi.points.map(([x, y]) => [x + dx, y + dy]), edit: { move: [dx, dy] } };
  }
  if (type.shape === "rectangle") {
    const corners = handles(roi, types);
    const opposite = corners[(hit.index + 2) % 4];
    const moved = [corners[hit.index][0] + dx, corners[hit.index][1] + dy];
    const box = [opposite[0], opposite[1], moved[0], moved[1]];
    const [x0, y0, x1, y1] = [Math.min(box[0], box[2]), Math.min(box[1], box[3]), Math.max(box[0], box[2]), Math.max(box[1], box[3])];
    const points = type.name === "OVAL" ? ellipse((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2)
      : [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    return { points, edit: { rect: rectFor(type.name, [x0, y0, x1, y1]) } };
  }
  const points = roi.points.map((p, i) => (i === hit.index ? [p[0] + dx, p[1] + dy] : p));
  return { points, edit: { points } };
}

export function ellipse(cx, cy, rx, ry, steps = 40) {
  return Array.from({ length: steps + 1 }, (_, i) => [cx + rx * Math.cos((i / steps) * 2 * Math.PI), cy + ry * Math.sin((i / steps) * 2 * Math.PI)]);
}

// What a finished drawing gesture sends to OsiriX: {points} or {rect}.
export function shapeOf(typeName, points) {
  const [a, b] = [points[0], points[points.length - 1]];
  switch (typeName) {
    case "OVAL": case "RECTANGLE": return { rect: rectFor(typeName, [a[0], a[1], b[0], b[1]]) };
    case "POINT": case "TEXT": return { rect: [a[0], a[1], 1, 1] };
    case "MEASURE": case "ARROW": return { points: [a, b] };
    default: return { points };
  }
}

// The outline of a gesture in progress, for the preview.
export function preview(typeName, points) {
  if (!points.length) return [];
  const [a, b] = [points[0], points[points.length - 1]];
  if (typeName === "RECTANGLE") return [a, [b[0], a[1]], b, [a[0], b[1]], a];
  if (typeName === "OVAL") return ellipse((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, Math.abs(b[0] - a[0]) / 2, Math.abs(b[1] - a[1]) / 2);
  return points;
}

export function isValidShape(typeName, points) {
  const [a, b] = [points[0], points[points.length - 1]];
  if (typeName === "CLOSED_POLYGON" || typeName === "PENCIL") return points.length >= 3;
  if (typeName === "ANGLE") return points.length === 3;
  if (typeName === "RECTANGLE" || typeName === "OVAL") return Math.abs(b[0] - a[0]) >= 1 && Math.abs(b[1] - a[1]) >= 1;
  if (typeName === "MEASURE" || typeName === "ARROW") return Math.hypot(b[0] - a[0], b[1] - a[1]) >= 1;
  return points.length >= 1;
}

export function lengthMm(a, b, [sr, sc]) {
  return Math.hypot((b[0] - a[0]) * sc, (b[1] - a[1]) * sr);
}

export function angleDegrees(a, vertex, b) {
  const u = [a[0] - vertex[0], a[1] - vertex[1]], v = [b[0] - vertex[0], b[1] - vertex[1]];
  const cos = (u[0] * v[0] + u[1] * v[1]) / (Math.hypot(...u) * Math.hypot(...v) || 1);
  return (Math.acos(Math.max(-1, Math.min(1, cos))) * 180) / Math.PI;
}

const overlaps = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

// Label boxes (screen px) beside their own outline box `own[i]` ([x0, y0, x1, y1]) with size `sizes[i]`
// ([w, h]), overlapping no box of `obstacles` (every outline) and no label placed before where a place
// exists: right, left, below, above, then the lower corners (gap px away); else the right side.
export function placeLabels(own, obstacles, sizes, gap = 6) {
  const placed = [];
  own.forEach((o, i) => {
    const [w, h] = sizes[i];
    const candidates = [
      [o[2] + gap, o[1]], [o[0] - gap - w, o[1]], [o[0], o[3] + gap], [o[0], o[1] - gap - h],
      [o[2] + gap, o[3] - h], [o[0] - gap - w, o[3] - h],
    ].map(([x, y]) => [x, y, x + w, y + h]);
    const free = candidates.find((c) => !obstacles.some((other) => overlaps(c, other)) && !placed.some((p) => overlaps(c, p)));
    placed.push(free || candidates[0]);
  });
  return placed;
}
