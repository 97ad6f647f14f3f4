// The 3D window's orientation cube, pure (node --test imports it): the six faces of the volume's box,
// each labelled with the patient direction its outward normal points to, turned as the host's renderer
// turns the volume (render3d.py: azimuth about the screen's vertical axis, then elevation about its
// horizontal one; at 0, 0 screen x runs along the columns, y along the rows, and the eye looks along
// the slices from the first one).
import { directionLabel } from "./viewer/geometry.js";

// Screen position (u right, v down) and depth (w, away from the eye) of a point given in the volume's
// axes (slice, row, column).
export function toCamera([s, r, c], azimuth, elevation) {
  const a = (azimuth * Math.PI) / 180, e = (elevation * Math.PI) / 180;
  return [
    s * Math.sin(a) + c * Math.cos(a),
    s * Math.sin(e) * Math.cos(a) + r * Math.cos(e) - c * Math.sin(e) * Math.sin(a),
    s * Math.cos(e) * Math.cos(a) - r * Math.sin(e) - c * Math.cos(e) * Math.sin(a),
  ];
}

// The volume's axes in the patient (LPS) from a viewer's geometry: +column and +row from the image
// orientation, +slice from the first slice's position to the last one's (the order the viewer shows).
export function volumeAxes(geometry) {
  const o = geometry.orientation, first = geometry.origins[0], last = geometry.origins[geometry.origins.length - 1];
  let slice = last.map((v, i) => v - first[i]);
  if (Math.hypot(...slice) < 1e-6) {  // one slice: the normal of the plane
    slice = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];
  }
  return { slice, row: o.slice(3, 6), column: o.slice(0, 3) };
}

// The faces: {letter, x, y, depth, visible}, x and y in -1..1 (the cube's half-side is 1/sqrt(3), so
// any turn fits), visible when the face looks towards the eye.
export function cubeFaces(axes, azimuth, elevation) {
  const faces = [];
  const half = 1 / Math.sqrt(3);
  [["slice", 0], ["row", 1], ["column", 2]].forEach(([name, axis]) => {
    for (const sign of [1, -1]) {
      const normal = [0, 0, 0];
      normal[axis] = sign;
      const [x, y, depth] = toCamera(normal, azimuth, elevation);
      faces.push({ letter: directionLabel(axes[name].map((v) => sign * v)), x: x * half, y: y * half, depth, visible: depth < -1e-6 });
    }
  });
  return faces;
}

// The 12 edges of the cube as screen segments [[x0, y0], [x1, y1]] (same scale as cubeFaces).
export function cubeEdges(azimuth, elevation) {
  const half = 1 / Math.sqrt(3);
  const corners = [];
  for (const s of [-1, 1]) for (const r of [-1, 1]) for (const c of [-1, 1]) corners.push([s, r, c]);
  const edges = [];
  corners.forEach((p, i) => corners.forEach((q, j) => {
    if (j > i && p.filter((v, k) => v !== q[k]).length === 1) {
      const [a, b] = [p, q].map((point) => toCamera(point, azimuth, elevation).slice(0, 2).map((v) => v * half));
      edges.push([a, b]);
    }
  }));
  return edges;
}
