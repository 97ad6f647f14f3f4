"""How our browser tests and the page's benchmark start Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "CHROMIUM_WEBGL_ARGS"]

#: Debian's Chromium (apt-get install chromium).
CHROMIUM = "/usr/bin/chromium"
#: Headless, no sandbox (containers), nothing that reaches the network by itself.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: The same with WebGL2 through SwiftShader (no GPU here): the viewer's own renderer.
CHROMIUM_WEBGL_ARGS = [*CHROMIUM_ARGS, "--use-gl=swiftshader", "--enable-unsafe-swiftshader"]
