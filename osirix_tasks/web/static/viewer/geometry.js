// Patient geometry for the viewer, pure (node --test imports it): orientation markers from DICOM
// direction cosines (LPS: x to the patient's left, y to posterior, z to the head), the scale bar,
// slice positions for synchronised scrolling, and the crosshair between MPR planes.

const LETTERS = [["R", "L"], ["A", "P"], ["I", "S"]];

// The letters of the patient direction a vector points to, strongest first (OsiriX's markers):
// components under 0.25 (about 75 degrees off) are left out of an oblique label, at most three letters.
export function directionLabel(vector) {
  const parts = vector.map((v, axis) => [Math.abs(v), axis, v]).filter(([m]) => m > 0.25).sort((p, q) => q[0] - p[0]);
  return parts.slice(0, 3).map(([, axis, v]) => LETTERS[axis][v > 0 ? 1 : 0]).join("");
}

const neg = (v) => v.map((x) => -x);

// The four markers of an image whose rows run along rowDir (increasing column) and whose columns run
// along colDir (increasing row), as the screen shows it through a transform m (camera.js): the label
// of the patient direction at each screen edge's middle.
export function markers(rowDir, colDir, m) {
  // screen direction of image +x is (m[0], m[1]); of image +y is (m[2], m[3]). Invert that 2x2 to find
  // which image direction points screen-right and screen-down.
  const det = m[0] * m[3] - m[1] * m[2] || 1;
  const right = [m[3] / det, -m[1] / det];   // image (dx, dy) that moves one unit screen-right
  const down = [-m[2] / det, m[0] / det];    // image (dx, dy) that moves one unit screen-down
  const toPatient = ([dx, dy]) => {
    const v = [0, 1, 2].map((i) => dx * rowDir[i] + dy * colDir[i]);
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  };
  const r = toPatient(right), d = toPatient(down);
  return { left: directionLabel(neg(r)), right: directionLabel(r), top: directionLabel(neg(d)), bottom: directionLabel(d) };
}

// A scale bar of a round length (1, 2, 5 x 10^k mm) no longer than `maxPixels` screen px.
export function scaleBar(pixelsPerMm, maxPixels) {
  if (!(pixelsPerMm > 0)) return null;
  const most = maxPixels / pixelsPerMm;
  const power = 10 ** Math.floor(Math.log10(most));
  const mm = [5, 2, 1].map((k) => k * power).find((v) => v <= most) ?? power;
  const label = mm >= 10 ? `${mm / 10} cm` : `${mm} mm`;
  return { mm, pixels: mm * pixelsPerMm, label };
}

export const normalOf = (o) => {
  const r = o.slice(0, 3), c = o.slice(3, 6);
  return [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
};

const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

// Synchronised scrolling: the slice of `target` (origins, orientation) nearest to the position of
// `source`'s slice along target's normal; null when the planes are not parallel (as OsiriX, which syncs
// by position only between parallel series) or the nearest slice is farther than `tolerance` mm.
export function nearestSlice(source, index, target, tolerance = Infinity) {
  const ns = normalOf(source.orientation), nt = normalOf(target.orientation);
  if (Math.abs(dot(ns, nt)) < 0.99) return null;
  const position = dot(source.origins[index], nt);
  let best = null, distance = Infinity;
  target.origins.forEach((o, i) => { const d = Math.abs(dot(o, nt) - position); if (d < distance) { distance = d; best = i; } });
  return distance <= tolerance ? best : null;
}

// MPR: a voxel [slice, row, column] from a point (x, y) on one plane (geometry as the host's
// /mpr answer gives it: x / y axes with their volume axis, size and reversal) and that plane's index.
const AXIS = { slice: 0, row: 1, column: 2 };
export function voxelOf(plane, index, [x, y], current) {
  const voxel = [...current];
  voxel[AXIS[plane.plane]] = index;
  for (const [key, value] of [["x", x], ["y", y]]) {
    const axis = plane[key];
    const i = Math.round(value);
    voxel[AXIS[axis.axis]] = Math.max(0, Math.min(axis.size - 1, axis.reversed ? axis.size - 1 - i : i));
  }
  return voxel;
}

// Where a voxel shows on a plane: its index (which plane of that kind) and (x, y) on it.
export function planePoint(plane, voxel) {
  const coordinate = (axis) => {
    const v = voxel[AXIS[axis.axis]];
    return axis.reversed ? axis.size - 1 - v : v;
  };
  return { index: voxel[AXIS[plane.plane]], point: [coordinate(plane.x), coordinate(plane.y)] };
}
