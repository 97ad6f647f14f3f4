// Drawing a plane with WebGL2: the values as they came in a texture (16-bit integers as R16I/R16UI, half
// the bytes of floats; floats as R32F; ARGB as RGBA8), windowed and inverted in a fragment shader into a
// canvas of the plane's size: a WL/WW drag only changes two uniforms. Textures are kept by a byte budget
// shared by every viewport's context and reused (texSubImage2D) for the next plane of the same shape.

// Bytes of plane textures all the viewports' contexts keep together (the shown planes, the ones scrolled through).
const TEXTURE_BUDGET = 256 * 1024 * 1024;
const live = new Set();  // the renderers alive, sharing the budget

// The canvas is the plane's size (the page places it by a CSS transform): one fragment per value.
const VERTEX = `#version 300 es
in vec2 corner;
void main() { gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0); }`;

const fragment = (sampler) => `#version 300 es
precision highp float;
uniform highp ${sampler} plane;
uniform float low;        // WL - WW / 2
uniform float width;      // WW
uniform bool invert;
uniform bool rgb;         // ARGB bytes
out vec4 colour;
void main() {
  ivec2 size = textureSize(plane, 0);
  vec4 t = vec4(texelFetch(plane, ivec2(int(gl_FragCoord.x), size.y - 1 - int(gl_FragCoord.y)), 0));
  if (rgb) { colour = vec4(t.g, t.b, t.a, 1.0); return; }
  float g = clamp(floor((t.r - low) * 255.0 / max(width, 1e-6)), 0.0, 255.0) / 255.0;
  if (invert) g = 1.0 - g;
  colour = vec4(g, g, g, 1.0);
}`;

const SAMPLERS = { float: "sampler2D", int: "isampler2D", uint: "usampler2D" };

// How each plane format goes into a texture: [program, internal format, format, type].
const FORMATS = {
  int16: ["int", "R16I", "RED_INTEGER", "SHORT"],
  uint16: ["uint", "R16UI", "RED_INTEGER", "UNSIGNED_SHORT"],
  float32: ["float", "R32F", "RED", "FLOAT"],
  argb8: ["float", "RGBA8", "RGBA", "UNSIGNED_BYTE"],
};

function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
  return shader;
}

const UNIFORMS = ["plane", "low", "width", "invert", "rgb"];

export class GlRenderer {
  constructor(canvas) {
    const gl = canvas.getContext("webgl2", { antialias: false, preserveDrawingBuffer: true });
    if (!gl) throw new Error("no WebGL2");
    this.kind = "webgl2";
    this.gl = gl;
    this.canvas = canvas;
    const buffer = (this.buffer = gl.createBuffer());
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    this.drawn = null;  // what the canvas shows: [plane, wl, ww, invert]
    this.programs = {};
    this.program("float");  // fails here, not at the first plane, where WebGL2 cannot work
    this.textures = new Map();  // plane -> {texture, shape, bytes}, the last used last
    this.bytes = 0;
    live.add(this);
  }

  // The program for a kind of texture ("float", "int", "uint"), compiled on first use.
  program(kind) {
    if (this.programs[kind]) return this.programs[kind];
    const gl = this.gl, program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragment(SAMPLERS[kind])));
    gl.bindAttribLocation(program, 0, "corner");
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program));
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    const where = Object.fromEntries(UNIFORMS.map((n) => [n, gl.getUniformLocation(program, n)]));
    return (this.programs[kind] = { program, where });
  }

  // Forget the texture of a plane (kept for reuse when `spare`), or delete it.
  release(plane, spare = null) {
    const entry = this.textures.get(plane);
    if (!entry) return null;
    this.textures.delete(plane);
    this.bytes -= entry.bytes;
    if (spare === entry.shape) return entry;
    this.gl.deleteTexture(entry.texture);
    return null;
  }

  texture(plane) {
    const gl = this.gl;
    const entry = this.textures.get(plane);  // (a plane the cache dropped still shows until replaced)
    if (entry) { this.textures.delete(plane); this.textures.set(plane, entry); return entry.texture; }
    const [, internal, format, type] = FORMATS[plane.format] || FORMATS.argb8;
    const shape = `${plane.format}:${plane.columns}x${plane.rows}`;
    const bytes = plane.values.byteLength;
    const budget = Math.max(bytes, TEXTURE_BUDGET / live.size);
    // over budget, or dropped by the plane cache: the least recently used textures go; one of the same shape is reused
    let reused = null;
    for (const old of this.textures.keys()) {
      if (this.bytes + bytes <= budget && !old.dropped) continue;
      const spare = this.release(old, reused ? null : shape);
      reused = reused || spare;
      if (this.bytes + bytes <= budget) break;
    }
    const texture = reused ? reused.texture : gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    if (!reused) {
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      gl.texStorage2D(gl.TEXTURE_2D, 1, gl[internal], plane.columns, plane.rows);
    }
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, plane.columns, plane.rows, gl[format], gl[type], plane.values);
    this.textures.set(plane, { texture, shape, bytes });
    this.bytes += bytes;
    return texture;
  }

  // Window `plane` into the canvas, made its size (nothing to do when it already shows that).
  draw(plane, window) {
    const d = this.drawn;
    if (d && d[0] === plane && d[1] === window.wl && d[2] === window.ww && d[3] === !!window.invert && !this.gl.isContextLost()) return;
    const gl = this.gl;
    if (this.canvas.width !== plane.columns || this.canvas.height !== plane.rows) {
      this.canvas.width = plane.columns; this.canvas.height = plane.rows;
    }
    gl.viewport(0, 0, plane.columns, plane.rows);
    const [kind] = FORMATS[plane.format] || FORMATS.argb8;
    const { program, where: w } = this.program(kind);
    gl.useProgram(program);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture(plane));
    gl.uniform1i(w.plane, 0);
    gl.uniform1f(w.low, window.wl - window.ww / 2);
    gl.uniform1f(w.width, window.ww);
    gl.uniform1i(w.invert, window.invert ? 1 : 0);
    gl.uniform1i(w.rgb, plane.format === "argb8" ? 1 : 0);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    this.drawn = [plane, window.wl, window.ww, !!window.invert];
  }

  // The viewport is gone: its textures free the shared budget, its programs and buffer are deleted and
  // its context given back (browsers keep only a few WebGL contexts: one kept by a removed canvas until
  // the collector runs would make the browser drop the oldest, a live viewport's).
  dispose() {
    const gl = this.gl;
    for (const plane of [...this.textures.keys()]) this.release(plane);
    live.delete(this);
    for (const { program } of Object.values(this.programs)) gl.deleteProgram(program);
    this.programs = {};
    gl.deleteBuffer(this.buffer);
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    this.drawn = null;
    this.canvas.width = 0; this.canvas.height = 0;
  }
}
