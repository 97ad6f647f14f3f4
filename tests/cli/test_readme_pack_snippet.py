"""The README's pack commands work as written after its set-up (which does not activate the venv), and
``new-pack`` prints commands that work without an activated environment."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
BARE = {"pip", "pytest", "osirix-tasks", "python"}


def bash_blocks(section: str) -> list[str]:
    text = README.read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", body, re.DOTALL)


def commands(block: str) -> list[list[str]]:
    found = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        for part in filter(None, (p.strip() for p in line.split("&&"))):
            found.append(shlex.split(part))
    return found


def activates(block: str) -> bool:
    return any(c[:2] in ([".", ".venv/bin/activate"], ["source", ".venv/bin/activate"]) for c in commands(block))


def test_the_pack_snippet_runs_in_the_venv_the_set_up_made() -> None:
    [set_up, _tests] = bash_blocks("Set-up (two commands on a fresh machine)") + [""]
    assert ".venv" in set_up and not activates(set_up)  # the set-up uses .venv/bin/... without activating
    [pack] = bash_blocks("Task packs")
    active = False
    for command in commands(pack):
        active = active or command[:2] in ([".", ".venv/bin/activate"], ["source", ".venv/bin/activate"])
        if command[0] in BARE:  # a bare command finds the venv's only once it is activated
            assert active, f"'{' '.join(command)}' runs outside the venv: activate it first or use .venv/bin/"


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
