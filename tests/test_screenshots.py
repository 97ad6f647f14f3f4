"""The documentation's screenshots can be taken again from the real page: ``scripts/screenshots.py``
runs (a host, Chromium doing what the first tutorial says) and writes every image the docs show."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "screenshots.py"
IMAGES = ROOT / "docs" / "images"

pytestmark = pytest.mark.skipif(shutil.which("/usr/bin/chromium") is None, reason="Chromium is not installed")


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR)."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def images_the_docs_show() -> set[str]:
    """Every ``images/NAME.png`` a page of the site, or the README, links to."""
    names = set()
    for page in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        names |= set(re.findall(r"images/([\w-]+\.png)", page.read_text()))
    return names


@pytest.mark.slow
def test_the_script_takes_every_screenshot_the_docs_show(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    taken = {p.name for p in tmp_path.glob("*.png")}
    assert images_the_docs_show() <= taken, f"the docs show images the script does not take: {images_the_docs_show()}"
    for name in taken:
        assert png_size(tmp_path / name) == png_size(IMAGES / name), f"{name}: committed at another size"
        assert (tmp_path / name).stat().st_size > 10_000, f"{name} is nearly empty"
