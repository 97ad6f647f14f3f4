// Drawing a plane into a viewport's canvas: WebGL2 (the raw values in a float texture, WL/WW and invert
// in a fragment shader: a WL/WW drag only changes two uniforms) or, where WebGL2 is missing or refused,
// a 2D canvas (the values windowed in JavaScript, as before). Both draw through the camera's transform.
import { argbInto, windowInto } from "./windowing.js";

// Bytes of plane textures each viewport's context keeps (the shown plane, the ones scrolled through).
const TEXTURE_BUDGET = 128 * 1024 * 1024;

const VERTEX = `#version 300 es
in vec2 corner;            // 0..1 over the image
uniform vec2 size;         // columns, rows
uniform mat3 toScreen;     // image px -> CSS px
uniform vec2 viewport;     // CSS px
out vec2 uv;
void main() {
  vec2 p = corner * size - 0.5;
  vec3 s = toScreen * vec3(p, 1.0);
  gl_Position = vec4(s.x / viewport.x * 2.0 - 1.0, 1.0 - s.y / viewport.y * 2.0, 0.0, 1.0);
  uv = corner;
}`;

const FRAGMENT = `#version 300 es
precision highp float;
in vec2 uv;
uniform sampler2D plane;
uniform float low;        // WL - WW / 2
uniform float width;      // WW
uniform bool invert;
uniform bool rgb;         // ARGB bytes
out vec4 colour;
void main() {
  vec4 t = texture(plane, uv);
  if (rgb) { colour = vec4(t.g, t.b, t.a, 1.0); return; }
  float g = clamp(floor((t.r - low) * 255.0 / max(width, 1e-6)), 0.0, 255.0) / 255.0;
  if (invert) g = 1.0 - g;
  colour = vec4(g, g, g, 1.0);
}`;

function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
  return shader;
}

class GlRenderer {
  constructor(canvas) {
    const gl = canvas.getContext("webgl2", { antialias: false, preserveDrawingBuffer: true });
    if (!gl) throw new Error("no WebGL2");
    this.kind = "webgl2";
    this.gl = gl;
    this.canvas = canvas;
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program));
    this.program = program;
    this.linear = !!gl.getExtension("OES_texture_float_linear");
    const buffer = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    const at = gl.getAttribLocation(program, "corner");
    gl.enableVertexAttribArray(at);
    gl.vertexAttribPointer(at, 2, gl.FLOAT, false, 0, 0);
    this.where = Object.fromEntries(["size", "toScreen", "viewport", "plane", "low", "width", "invert", "rgb"].map((n) => [n, gl.getUniformLocation(program, n)]));
    this.textures = new Map();  // plane -> texture, the last used last (bounded by TEXTURE_BUDGET)
    this.textureBytes = 0;
  }

  texture(plane) {
    const gl = this.gl;
    let texture = this.textures.get(plane);
    if (texture && plane.dropped) { this.textures.delete(plane); this.textureBytes -= texture.bytes; gl.deleteTexture(texture); texture = null; }
    if (texture) { this.textures.delete(plane); this.textures.set(plane, texture); return texture; }
    texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    const rgb = plane.format === "argb8";
    const filter = rgb || this.linear ? gl.LINEAR : gl.NEAREST;
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, filter);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, filter);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    if (rgb) gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, plane.columns, plane.rows, 0, gl.RGBA, gl.UNSIGNED_BYTE, plane.values);
    else {
      const values = plane.values instanceof Float32Array ? plane.values : Float32Array.from(plane.values);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, plane.columns, plane.rows, 0, gl.RED, gl.FLOAT, values);
    }
    texture.bytes = plane.values.byteLength;
    this.textures.set(plane, texture);
    this.textureBytes += texture.bytes;
    while (this.textureBytes > TEXTURE_BUDGET && this.textures.size > 1) {
      const [old, oldTexture] = this.textures.entries().next().value;
      this.textures.delete(old);
      this.textureBytes -= oldTexture.bytes;
      gl.deleteTexture(oldTexture);
    }
    return texture;
  }

  draw(plane, m, window, size) {
    const gl = this.gl;
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(0, 0, 0, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (!plane) return;
    gl.useProgram(this.program);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture(plane));
    const w = this.where;
    gl.uniform1i(w.plane, 0);
    gl.uniform2f(w.size, plane.columns, plane.rows);
    gl.uniformMatrix3fv(w.toScreen, false, [m[0], m[1], 0, m[2], m[3], 0, m[4], m[5], 1]);
    gl.uniform2f(w.viewport, size[0], size[1]);
    gl.uniform1f(w.low, window.wl - window.ww / 2);
    gl.uniform1f(w.width, window.ww);
    gl.uniform1i(w.invert, window.invert ? 1 : 0);
    gl.uniform1i(w.rgb, plane.format === "argb8" ? 1 : 0);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }
}

class CanvasRenderer {
  constructor(canvas) {
    this.kind = "canvas";
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.image = document.createElement("canvas");
    this.painted = null;  // what this.image holds: [plane, wl, ww, invert]
  }

  draw(plane, m, window, size) {
    const ctx = this.ctx, ratio = this.canvas.width / size[0];
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (!plane) return;
    const p = this.painted;
    if (!p || p[0] !== plane || p[1] !== window.wl || p[2] !== window.ww || p[3] !== !!window.invert) {
      if (this.image.width !== plane.columns || this.image.height !== plane.rows) {
        this.image.width = plane.columns; this.image.height = plane.rows;
        this.data = new ImageData(plane.columns, plane.rows);
      }
      const words = new Uint32Array(this.data.data.buffer);
      if (plane.format === "argb8") argbInto(plane.values, words);
      else windowInto(plane.values, words, window.wl, window.ww, window.invert);
      this.image.getContext("2d").putImageData(this.data, 0, 0);
      this.painted = [plane, window.wl, window.ww, !!window.invert];
    }
    ctx.setTransform(m[0] * ratio, m[1] * ratio, m[2] * ratio, m[3] * ratio, m[4] * ratio, m[5] * ratio);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.image, -0.5, -0.5, plane.columns, plane.rows);
  }
}

// The renderer for a canvas: "webgl2" unless asked for "canvas" or WebGL2 is not there.
export function createRenderer(canvas, wanted = "auto") {
  if (wanted !== "canvas") {
    try { return new GlRenderer(canvas); } catch (error) { if (wanted === "webgl2") throw error; }
  }
  return new CanvasRenderer(canvas);
}
