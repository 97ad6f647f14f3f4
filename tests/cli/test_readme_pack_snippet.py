"""The README's set-up (which does not activate the venv) leads to the pack tutorial's commands only
through an activated environment, and ``new-pack`` prints commands that work without one."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TUTORIALS = ROOT / "docs" / "tutorials"
ACTIVATE = ([".", ".venv/bin/activate"], ["source", ".venv/bin/activate"])


def section(text: str, heading: str) -> str:
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, re.DOTALL)


def commands(block: str) -> list[list[str]]:
    found = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        for part in filter(None, (p.strip() for p in line.split("&&"))):
            found.append(shlex.split(part))
    return found


def test_the_pack_tutorial_is_reached_through_an_activated_venv() -> None:
    set_up = section(README.read_text(), "Set-up (two commands on a fresh machine)")
    [block] = bash_blocks(set_up)
    install_and_demo = block.split("# 2.")[0]  # the first command (the second runs the tests)
    assert ".venv/bin/" in install_and_demo  # the set-up uses .venv/bin/... without activating
    assert not any(c[:2] in ACTIVATE for c in commands(install_and_demo))
    after = set_up.split("```")[-1]  # what the README says once the set-up has run
    assert "source .venv/bin/activate" in after.split("](docs/tutorials/")[0], "activate before any tutorial"
    install = bash_blocks(section((TUTORIALS / "first-task.md").read_text(), "Install"))
    assert any(c[:2] == ["source", ".venv/bin/activate"] for block in install for c in commands(block))
    pack = (TUTORIALS / "task-pack.md").read_text()
    premise = pack.split("```bash", 1)[0]  # before the first command the reader runs
    assert "activated virtual environment" in premise and "first-task.md#install" in premise
    assert ". .venv/bin/activate" in premise  # the README's set-up made .venv without activating it


def test_new_pack_prints_commands_that_need_no_activated_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = "/usr/bin:/bin"  # as if no venv were activated
    done = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "new-pack", "lung-tools", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    steps = [line.split("#", 1)[0].strip() for line in done.stdout.splitlines()[1:]]
    assert steps[0] == f"cd {tmp_path / 'lung-tools'}"
    for step in steps[1:]:
        program = shlex.split(step)[0]
        assert os.path.isabs(program) and Path(program).samefile(sys.executable), step
    menu = subprocess.run(shlex.split(steps[-1]), capture_output=True, text=True, env=env, timeout=60)
    assert menu.returncode == 0 and "Database window" in menu.stdout  # the printed command works as printed
