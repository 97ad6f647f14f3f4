"""The web page of an older commit, served by today's host: for benchmarks and for showing that a test
of the page fails against the page it replaces.

A copy of the installed ``osirix_tasks`` package whose ``web/static`` is the one of COMMIT (taken with
``git archive``) is made under FOLDER; put FOLDER first on PYTHONPATH and everything that runs
``python -m osirix_tasks`` (a host, the CLI, pytest) serves that page with today's server:

    python benchmarks/page_at.py fe377e6 /tmp/old-page
    PYTHONPATH=/tmp/old-page python -m pytest tests/web/test_viewer.py -k item_20
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import osirix_tasks

STATIC = "osirix_tasks/web/static"


def package_with_page(commit: str, folder: Path, repository: Path | None = None) -> Path:
    """Make FOLDER/osirix_tasks: today's package with the page of ``commit``; returns FOLDER."""
    repository = repository or Path(__file__).resolve().parent.parent
    archive = subprocess.run(
        ["git", "-C", str(repository), "archive", "--format=tar", commit, STATIC],
        capture_output=True,
        check=True,
    ).stdout
    package = folder / "osirix_tasks"
    if package.exists():
        shutil.rmtree(package)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(Path(osirix_tasks.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(folder / STATIC)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("commit")
    parser.add_argument("folder", type=Path)
    options = parser.parse_args()
    print(package_with_page(options.commit, options.folder))


if __name__ == "__main__":
    main()
