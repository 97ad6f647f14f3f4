"""The example pack's own tests (plugins/example-pack/tests) run here, so CI runs them.

They need the pack installed (its entry point is how its tasks are found): it is pip-installed
into a fresh venv that sees this environment through a .pth file, and pytest runs there, with the
fixtures osirix-tasks ships (loaded through the pytest11 entry point, not a conftest).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from osirix_tasks.testing import overlay_venv, pip_install_local

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "plugins" / "example-pack"

pytestmark = pytest.mark.slow


def test_the_example_pack_tests_pass_with_the_kit_fixtures(tmp_path: Path) -> None:
    python = overlay_venv(tmp_path / "venv")
    pip_install_local(python, PACK)

    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", str(PACK)],
        capture_output=True,
        text=True,
        cwd=PACK,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=240,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    collected = sorted(p.stem for p in (PACK / "tests").glob("test_*.py"))
    assert collected == ["test_example_pack"]
    passed = [line for line in done.stdout.splitlines() if line.startswith("PASSED ")]
    # every test of the pack ran and passed (none skipped, none deselected)
    defined = (PACK / "tests" / "test_example_pack.py").read_text().count("\ndef test_")
    assert len(passed) == defined >= 4, done.stdout
