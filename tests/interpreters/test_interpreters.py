"""``osirix-tasks interpreters list | install``: what each interpreter can run, and a real install into a fresh venv."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import textwrap
import venv
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import osirix_tasks
from osirix_tasks.interpreters.wheel import build_wheel
from osirix_tasks.testing import OsirixSession, Project, venv_python


def bare_venv(folder: Path) -> Path:
    """A venv without pip and without osirix-tasks; its Python."""
    venv.EnvBuilder(with_pip=False).create(folder)
    return venv_python(folder)


def listing(project: Project) -> dict[str, dict[str, Any]]:
    done = project.cli("interpreters", "list", "--json", check=True)
    return {entry["interpreter"]: entry for entry in json.loads(done.stdout)}


def test_the_wheel_holds_every_file_of_the_package_and_its_metadata(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)

    package_dir = Path(osirix_tasks.__file__).parent
    on_disk = {
        f"osirix_tasks/{p.relative_to(package_dir).as_posix()}"
        for p in package_dir.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    dist = metadata.distribution("osirix-tasks")
    assert wheel.name == f"osirix_tasks-{dist.version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"osirix_tasks-{dist.version}.dist-info"
        assert {n for n in names if not n.startswith(info)} == on_disk
        assert "osirix_tasks/templates/pack/pyproject.toml.tmpl" in names
        meta = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        assert (meta["Name"], meta["Version"]) == ("osirix-tasks", dist.version)
        assert sorted(meta.get_all("Requires-Dist")) == sorted(dist.requires or [])
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        assert "osirix-tasks = osirix_tasks.cli:main" in entry_points
        assert "osirix_tasks = osirix_tasks.testing.pytest_plugin" in entry_points
        for line in archive.read(f"{info}/RECORD").decode().splitlines():
            name, digest, size = line.rsplit(",", 2)
            if name == f"{info}/RECORD":
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, int(size)) == (f"sha256={expected}", len(data)), name


def test_interpreters_list_says_which_tasks_cannot_run_where(project: Project, tmp_path: Path) -> None:
    bare = bare_venv(tmp_path / "bare")
    project.script("uses_context", "import osirix_tasks\nosirix_tasks.context()\n", interpreter=str(bare))
    project.script("plain_grpc", "import grpc\n", interpreter=str(bare))
    project.script("default_one", "print('hi')\n")
    with project.registry.open("a") as handle:
        handle.write('[[task]]\nname = "Decorated here"\ntype = "ROI"\nlocation = "kitmod:run"\n')
        handle.write(f'interpreter = "{bare}"\n')

    found = listing(project)

    here, there = found[sys.executable], found[str(bare)]
    assert (here["decorated_tasks"], here["context"], here["same_version"]) == (True, True, True)
    assert here["osirix_tasks"] == osirix_tasks.__version__
    assert "default_one (Database, script)" in here["tasks"]
    assert (there["decorated_tasks"], there["context"], there["osirix_tasks"]) == (False, False, None)
    assert "cannot import osirix_tasks" in there["why_not"]
    assert sorted(there["tasks"]) == [
        "Decorated here (ROI, decorated)",
        "plain_grpc (Database, script)",
        "uses_context (Database, script)",
    ]
    assert len(there["problems"]) == 2  # the plain gRPC script needs nothing of ours
    assert any(p.startswith("task 'Decorated here' is a decorated task") for p in there["problems"])
    assert any(p.startswith("script task 'uses_context' imports osirix_tasks") for p in there["problems"])
    assert all(f"osirix-tasks interpreters install {bare}" in p for p in there["problems"])
    text = project.cli("interpreters", "list")
    assert text.returncode == 0 and str(bare) in text.stdout
    assert "decorated tasks: no" in text.stdout and "warning: task 'Decorated here'" in text.stderr


def test_interpreters_install_refuses_what_it_cannot_install_into(project: Project, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    bare = bare_venv(tmp_path / "bare")
    not_python = tmp_path / "not-python"
    not_python.write_text("#!/bin/sh\necho hello\n")
    not_python.chmod(0o755)
    for target, message in (
        (tmp_path / "nowhere", "does not exist"),
        (not_python, "is not a Python 3 that runs the probe (exit 0: hello) - give a Python 3.11 or later"),
        (tmp_path / "empty", "is a folder without a Python in bin/"),
        (tmp_path / "bare", f"{bare} has no pip - add it with '{bare} -m ensurepip --upgrade'"),
    ):
        done = project.cli("interpreters", "install", str(target))
        assert done.returncode == 1 and message in done.stderr, done.stderr


@pytest.mark.slow
def test_interpreters_install_makes_a_fresh_venv_run_decorated_tasks_and_context(
    osirix: OsirixSession, run_task: Any, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh env"
    subprocess.run([sys.executable, "-m", "venv", str(fresh)], check=True, capture_output=True, timeout=300)
    python = venv_python(fresh)

    installed = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "interpreters", "install", str(fresh)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )

    assert installed.returncode == 0, installed.stderr
    assert f"installed for {python}" in installed.stdout
    where = subprocess.run(
        [str(python), "-c", "import osirix_tasks; print(osirix_tasks.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert where.stdout.strip().startswith(str(fresh))  # its own copy, not this checkout
    project = tmp_path / "project"
    project.mkdir()
    (project / "venvtask.py").write_text(
        textwrap.dedent("""
        import sys
        import osirix_tasks
        from osirix_tasks import TaskContext, osirix_task

        @osirix_task(type="Database", name="In the venv")
        def report(context: TaskContext) -> None:
            studies = context.stub.BrowserControllerDatabaseStudies(context.browser).studies
            print(sys.prefix)
            print(osirix_tasks.__file__)
            print(len(studies))
        """)
    )
    (project / "context_script.py").write_text(
        "import osirix_tasks\nctx = osirix_tasks.context()\nprint(ctx.connection.call('ViewerControllerTitle', "
        "ctx.viewer).title)\n"
    )
    registry = project / "tasks.toml"
    registry.write_text(
        f'[[task]]\nname = "In the venv"\ntype = "Database"\nlocation = "venvtask:report"\ninterpreter = "{python}"\n\n'
        f'[[task]]\nname = "Context script"\ntype = "Image"\nlocation = "{project / "context_script.py"}"\n'
        f'interpreter = "{python}"\n'
    )
    viewer = osirix.open_viewer()

    decorated = run_task("In the venv", registry=registry)
    script = run_task("Context script", registry=registry)

    assert decorated.ok, decorated
    assert decorated.record.command[0] == str(python)
    prefix, module, count = decorated.stdout.splitlines()
    assert Path(prefix) == fresh and module.startswith(str(fresh))
    assert int(count) == len(osirix.studies())
    assert script.ok, script
    assert script.stdout.strip() == osirix.call("ViewerControllerTitle", viewer).title
    after = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "--registry", str(registry), "interpreters", "list", "--json"],
        capture_output=True,
        text=True,
        cwd=project,
    )
    entry = {e["interpreter"]: e for e in json.loads(after.stdout)}[str(python)]
    assert (entry["decorated_tasks"], entry["context"], entry["same_version"], entry["problems"]) == (
        True,
        True,
        True,
        [],
    )
