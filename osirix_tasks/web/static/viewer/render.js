// Drawing a plane into a viewport's image canvas, made the plane's size (the viewport places it on screen
// by a CSS transform from its camera: zoom, pan, flips and rotation are the compositor's, as is the
// smoothing of the greys): WebGL2 (glrender.js: windowing in a fragment shader, a WL/WW drag only changes
// two uniforms) where the browser has a graphics processor, else a 2D canvas (the values windowed in
// JavaScript: 16-bit planes through a table over their range, one look-up a pixel).
// `?renderer=webgl2` or `?renderer=canvas` forces one.
import { GlRenderer } from "./glrender.js";
import { argbInto, rangeOf, windowInto, windowTable, windowThrough } from "./windowing.js";

const WHOLE = new Set(["int16", "uint16"]);

class CanvasRenderer {
  constructor(canvas) {
    this.kind = "canvas";
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.drawn = null;  // what the canvas shows: [plane, wl, ww, invert]
    this.spare = null;  // the windowing table's storage, reused
  }

  // Window `plane` into the canvas, made its size (nothing to do when it already shows that).
  draw(plane, window) {
    const d = this.drawn;
    if (d && d[0] === plane && d[1] === window.wl && d[2] === window.ww && d[3] === !!window.invert) return;
    if (this.canvas.width !== plane.columns || this.canvas.height !== plane.rows || !this.data) {
      this.canvas.width = plane.columns; this.canvas.height = plane.rows;
      this.data = new ImageData(plane.columns, plane.rows);
    }
    const words = new Uint32Array(this.data.data.buffer);
    if (plane.format === "argb8") argbInto(plane.values, words);
    else if (WHOLE.has(plane.format)) {
      const [low, high] = (plane.range ??= rangeOf(plane.values));
      const table = windowTable(low, high, window.wl, window.ww, window.invert, this.spare);
      if (table.length > (this.spare?.length ?? 0)) this.spare = table;
      windowThrough(plane.values, words, table, low);
    } else windowInto(plane.values, words, window.wl, window.ww, window.invert);
    this.ctx.putImageData(this.data, 0, 0);
    this.drawn = [plane, window.wl, window.ww, !!window.invert];
  }

  // The viewport is gone: the canvas's pixels and the copies kept for the next draw are let go.
  dispose() {
    this.data = null; this.spare = null; this.drawn = null;
    this.canvas.width = 0; this.canvas.height = 0;
  }
}

// Whether a WebGL renderer's name is a software one (SwiftShader, llvmpipe, ...): there the shader runs
// on the processor, and windowing in JavaScript into a 2D canvas costs less.
export function isSoftwareRenderer(name) {
  return /swiftshader|llvmpipe|softpipe|software|basic render|lavapipe/i.test(String(name || ""));
}

let graphics = null;  // this page's WebGL2: {webgl2, software}, asked once

function probeGraphics() {
  if (graphics) return graphics;
  const gl = document.createElement("canvas").getContext("webgl2");
  if (!gl) return (graphics = { webgl2: false, software: true });
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const name = gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
  gl.getExtension("WEBGL_lose_context")?.loseContext();
  return (graphics = { webgl2: true, software: isSoftwareRenderer(name), name });
}

// The renderer for a canvas: "webgl2" or "canvas" when asked for, else ("auto") WebGL2 on a graphics
// processor and the 2D canvas where WebGL2 is missing, refused or done in software.
export function createRenderer(canvas, wanted = "auto") {
  if (wanted === "webgl2" || (wanted !== "canvas" && !probeGraphics().software)) {
    try { return new GlRenderer(canvas); } catch (error) { if (wanted === "webgl2") throw error; }
  }
  return new CanvasRenderer(canvas);
}
