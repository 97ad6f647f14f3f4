// Which renderer the page picks (static/viewer/render.js): WebGL2 on a graphics processor, the 2D canvas
// where WebGL2 runs in software. The names are what WEBGL_debug_renderer_info reports in those browsers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isSoftwareRenderer } from "../../osirix_tasks/web/static/viewer/render.js";

test("software WebGL (SwiftShader, llvmpipe, WARP) is recognised", () => {
  for (const name of [
    "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)",
    "Google SwiftShader",
    "llvmpipe (LLVM 15.0.6, 256 bits)",
    "ANGLE (Mesa, llvmpipe (LLVM 17.0.6 256 bits), OpenGL 4.5)",
    "ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0, D3D11)",
    "lavapipe",
  ]) assert.equal(isSoftwareRenderer(name), true, name);
});

test("graphics processors are not software; a missing name is not either", () => {
  for (const name of [
    "ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 (0x00002504) Direct3D11 vs_5_0 ps_5_0, D3D11)",
    "ANGLE (Apple, ANGLE Metal Renderer: Apple M2, Unspecified Version)",
    "ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)",
    "AMD Radeon Pro 5500M OpenGL Engine",
    "", null, undefined,
  ]) assert.equal(isSoftwareRenderer(name), false, String(name));
});
