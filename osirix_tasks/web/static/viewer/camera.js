// The camera of a viewport, pure maths (no DOM: node --test imports it). Image coordinates are OsiriX's:
// x = column, y = row, pixel centres on integers, so the image spans [-0.5, columns - 0.5]. The camera
// fits the image's physical size (pixel spacing) into the viewport, then applies flips, a rotation by
// quarter turns, the zoom about the viewport's centre and a pan in screen pixels.
// A transform is [a, b, c, d, e, f] as canvas setTransform takes it: screen = (a x + c y + e, b x + d y + f).

export function makeCamera() {
  return { zoom: 1, pan: [0, 0], rotation: 0, flipH: false, flipV: false };
}

// view: { width, height (CSS px), columns, rows, spacing: [between rows, between columns] mm }
export function fitScale(view) {
  const [sr, sc] = spacingOf(view);
  const quarter = ((Math.round(view.rotation ?? 0) / 90) % 2 + 2) % 2 === 1;
  const w = view.columns * sc, h = view.rows * sr;
  const [fw, fh] = quarter ? [h, w] : [w, h];
  return Math.min(view.width / fw, view.height / fh);
}

function spacingOf(view) {
  const [sr, sc] = view.spacing || [1, 1];
  return [sr > 0 ? sr : 1, sc > 0 ? sc : 1];
}

// The image -> screen transform of a camera in a view.
export function transform(camera, view) {
  const [sr, sc] = spacingOf(view);
  const s = fitScale({ ...view, rotation: camera.rotation }) * camera.zoom;
  const theta = (camera.rotation * Math.PI) / 180;
  const cos = Math.round(Math.cos(theta) * 1e12) / 1e12, sin = Math.round(Math.sin(theta) * 1e12) / 1e12;
  const fx = camera.flipH ? -1 : 1, fy = camera.flipV ? -1 : 1;
  // u = flip * spacing * (p - centre); screen = centre + pan + s * R u
  const ux = fx * sc, uy = fy * sr;
  const a = s * cos * ux, b = s * sin * ux, c = -s * sin * uy, d = s * cos * uy;
  const cx = (view.columns - 1) / 2, cy = (view.rows - 1) / 2;
  const e = view.width / 2 + camera.pan[0] - (a * cx + c * cy);
  const f = view.height / 2 + camera.pan[1] - (b * cx + d * cy);
  return [a, b, c, d, e, f];
}

export function apply(m, [x, y]) {
  return [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
}

export function invert(m) {
  const det = m[0] * m[3] - m[1] * m[2];
  if (!det) throw new Error("the transform cannot be inverted (zero scale)");
  const a = m[3] / det, b = -m[1] / det, c = -m[2] / det, d = m[0] / det;
  return [a, b, c, d, -(a * m[4] + c * m[5]), -(b * m[4] + d * m[5])];
}

export const toScreen = (camera, view, point) => apply(transform(camera, view), point);
export const toImage = (camera, view, point) => apply(invert(transform(camera, view)), point);

// Zoom by `factor` keeping the image point under `screen` where it is (wheel or drag zoom at the cursor).
export function zoomAt(camera, view, screen, factor, limits = [0.05, 40]) {
  const zoom = Math.min(limits[1], Math.max(limits[0], camera.zoom * factor));
  const k = zoom / camera.zoom;
  const cx = view.width / 2 + camera.pan[0], cy = view.height / 2 + camera.pan[1];
  // the image centre's screen position moves along the line from the cursor
  const nx = screen[0] + (cx - screen[0]) * k, ny = screen[1] + (cy - screen[1]) * k;
  return { ...camera, zoom, pan: [nx - view.width / 2, ny - view.height / 2] };
}

export const panBy = (camera, dx, dy) => ({ ...camera, pan: [camera.pan[0] + dx, camera.pan[1] + dy] });

// Rotate by quarter turns about the viewport centre (OsiriX rotates the view, not the data).
export const rotateBy = (camera, degrees) => ({ ...camera, rotation: (((camera.rotation + degrees) % 360) + 360) % 360 });

// Flip the image left-right / up-down as seen on the screen, whatever the rotation.
export function flipScreen(camera, horizontal) {
  const quarter = (camera.rotation / 90) % 2 === 1;
  const key = horizontal !== quarter ? "flipH" : "flipV";
  return { ...camera, [key]: !camera[key] };
}

// The zoom OsiriX shows in the corner: screen pixels per image pixel along x (1 = one to one).
export function displayedZoom(camera, view, ratio = 1) {
  const m = transform(camera, view);
  return Math.hypot(m[0], m[1]) * ratio;
}

// Screen millimetres: how many CSS px one mm of the patient covers (for the scale bar).
export function pixelsPerMm(camera, view) {
  return fitScale({ ...view, rotation: camera.rotation }) * camera.zoom;
}
