// Drawing ROIs on a viewport's overlay (screen space, through the camera's transform): outlines,
// masks, text, arrows, angles, lines with their length, closed shapes with their statistics from the
// host (area, mean, SDev, min, max: OsiriX's own computations), edit handles of the selected ones, and
// labels placed off the outlines (roigeom.placeLabels).
import { apply } from "./camera.js";
import { angleDegrees, bbox, handles, lengthMm, placeLabels, typeOf } from "./roigeom.js";

const LINE = 14;

function colour(roi, alpha = 1) {
  const [r, g, b] = roi.color;
  return `rgba(${r},${g},${b},${alpha * (roi.opacity ?? 1)})`;
}

function path(ctx, points, m, closed) {
  ctx.beginPath();
  points.forEach((p, i) => { const [x, y] = apply(m, p); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
  if (closed) ctx.closePath();
}

const fmt = (v, digits = 1) => (v == null ? "-" : Math.abs(v) >= 1e5 ? v.toExponential(2) : v.toFixed(digits));

// The lines of an ROI's label (what OsiriX writes beside it).
export function labelLines(roi, type, spacing) {
  const lines = [];
  if (roi.name && type.name !== "TEXT") lines.push(roi.name);
  if (type.closed && roi.area != null) {
    lines.push(`Area: ${fmt(roi.area, 3)} cm\u00b2`);
    if (roi.mean != null) lines.push(`Mean: ${fmt(roi.mean)} SDev: ${fmt(roi.std)}`, `Min: ${fmt(roi.min)} Max: ${fmt(roi.max)}`);
  } else if (type.name === "MEASURE" && roi.points.length >= 2) {
    lines.push(`Length: ${lengthMm(roi.points[0], roi.points[1], spacing).toFixed(2)} mm`);
  } else if (type.name === "ANGLE" && roi.points.length >= 3) {
    lines.push(`${angleDegrees(roi.points[0], roi.points[1], roi.points[2]).toFixed(1)}\u00b0`);
  }
  return type.name === "POINT" || type.name === "ARROW" || type.name === "TEXT" ? lines.slice(0, 1).filter(() => type.name !== "TEXT") : lines;
}

function drawShape(ctx, roi, type, m, maskCanvas) {
  const points = roi.points;
  if (type.shape === "buffer") {
    if (!roi.mask) return;
    ctx.save();
    ctx.transform(m[0], m[1], m[2], m[3], m[4], m[5]);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(maskCanvas(roi), -0.5, -0.5, roi.mask.columns, roi.mask.rows);
    ctx.restore();
  } else if (type.closed && points.length) {
    path(ctx, points, m, true);
    if (roi.selected) { ctx.fillStyle = colour(roi, 0.15); ctx.fill(); }
    ctx.stroke();
  } else if (type.name === "ARROW" && points.length >= 2) {
    path(ctx, points, m, false); ctx.stroke();
    const [tx, ty] = apply(m, points[0]), [fx, fy] = apply(m, points[1]);
    const angle = Math.atan2(ty - fy, tx - fx), size = 12;
    ctx.beginPath();
    ctx.moveTo(tx, ty);
    ctx.lineTo(tx - size * Math.cos(angle - 0.4), ty - size * Math.sin(angle - 0.4));
    ctx.lineTo(tx - size * Math.cos(angle + 0.4), ty - size * Math.sin(angle + 0.4));
    ctx.closePath(); ctx.fill();
  } else if (type.name === "TEXT" && points.length) {
    const [x, y] = apply(m, points[0]);
    ctx.font = "bold 14px sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "middle";
    ctx.lineWidth = 3; ctx.strokeStyle = "rgba(0,0,0,.85)"; ctx.strokeText(roi.name, x, y);
    ctx.fillText(roi.name, x, y);
    if (roi.selected) { const w = ctx.measureText(roi.name).width; ctx.strokeStyle = colour(roi); ctx.lineWidth = 1; ctx.strokeRect(x - 3, y - 10, w + 6, 20); }
  } else if (type.name === "POINT" && points.length) {
    const [x, y] = apply(m, points[0]);
    ctx.beginPath(); ctx.arc(x, y, roi.selected ? 5 : 4, 0, 2 * Math.PI); ctx.fill();
    ctx.beginPath(); ctx.moveTo(x - 9, y); ctx.lineTo(x + 9, y); ctx.moveTo(x, y - 9); ctx.lineTo(x, y + 9); ctx.lineWidth = 1; ctx.stroke();
  } else if (points.length) {
    path(ctx, type.name === "ANGLE" ? points.slice(0, 3) : points, m, false);
    ctx.stroke();
  }
}

const labelFont = (roi) => `${roi.selected ? "bold " : ""}12px sans-serif`;

function screenBox(roi, type, m) {
  if (type.shape === "buffer" && roi.mask) {
    const corners = [[-0.5, -0.5], [roi.mask.columns - 0.5, roi.mask.rows - 0.5]].map((p) => apply(m, p));
    return bbox(corners);
  }
  const box = bbox(roi.points.map((p) => apply(m, p)));
  return [box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3];
}

// Draw every ROI; returns the label boxes placed (screen px) for tests and hit testing.
export function drawRois(ctx, rois, { m, spacing, types, maskCanvas }) {
  ctx.font = "12px sans-serif";
  const items = rois.map((roi) => ({ roi, type: typeOf(roi, types) })).filter((it) => it.roi.points.length || it.roi.mask);
  for (const { roi, type } of items) {
    ctx.save();
    ctx.strokeStyle = colour(roi);
    ctx.fillStyle = colour(roi);
    ctx.lineWidth = Math.max(1, roi.thickness || 1) + (roi.selected ? 1 : 0);
    drawShape(ctx, roi, type, m, maskCanvas);
    if (roi.selected) {
      ctx.fillStyle = "#fff"; ctx.strokeStyle = "#000"; ctx.lineWidth = 1;
      for (const p of handles(roi, types)) { const [x, y] = apply(m, p); ctx.fillRect(x - 3, y - 3, 6, 6); ctx.strokeRect(x - 3, y - 3, 6, 6); }
    }
    ctx.restore();
  }
  const labelled = items.map((it) => ({ ...it, lines: labelLines(it.roi, it.type, spacing) })).filter((it) => it.lines.length);
  // measured in the font they are drawn in (a selected ROI's label is bold, so wider)
  const sizes = labelled.map((it) => {
    ctx.font = labelFont(it.roi);
    return [Math.max(...it.lines.map((l) => ctx.measureText(l).width)) + 6, it.lines.length * LINE + 4];
  });
  const outlines = items.map((it) => screenBox(it.roi, it.type, m));
  const own = labelled.map((it) => outlines[items.findIndex((x) => x.roi === it.roi)]);
  const boxes = placeLabels(own, outlines, sizes);  // every outline is an obstacle
  labelled.forEach((it, i) => {
    const [x, y] = boxes[i];
    ctx.save();
    ctx.fillStyle = "rgba(0,0,0,.55)"; ctx.fillRect(boxes[i][0], boxes[i][1], boxes[i][2] - boxes[i][0], boxes[i][3] - boxes[i][1]);
    // the text starts at the box's left edge: left-aligned whatever the context was left with
    ctx.font = labelFont(it.roi); ctx.textAlign = "left"; ctx.textBaseline = "top"; ctx.fillStyle = "#fff";
    it.lines.forEach((line, k) => ctx.fillText(line, x + 3, y + 2 + k * LINE));
    ctx.restore();
  });
  return labelled.map((it, i) => ({ uid: it.roi.uid, box: boxes[i] }));
}
