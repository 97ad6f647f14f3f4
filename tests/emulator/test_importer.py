"""DICOM import into the SQLite index: summaries, duplicates, copies, the demo series."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pydicom
import pytest
from click.testing import CliRunner

from osirix_tasks.cli import cli
from osirix_tasks.emulator.database.demo import SLICES, generate_demo_series, phantom_slice
from osirix_tasks.emulator.database.importer import import_paths
from osirix_tasks.emulator.database.index import Database


@pytest.fixture
def demo_files(tmp_path: Path) -> list[Path]:
    return generate_demo_series(tmp_path / "demo")


def test_demo_series_is_real_dicom(demo_files: list[Path]) -> None:
    assert len(demo_files) == SLICES
    ds = pydicom.dcmread(demo_files[5])
    assert (ds.Rows, ds.Columns, ds.Modality) == (128, 128, "MR")
    assert (ds.pixel_array == phantom_slice(5)).all()
    assert pydicom.dcmread(demo_files[12]).pixel_array.max() > 800  # the bright spheres cross the middle
    again = generate_demo_series(demo_files[0].parent.parent / "again")
    assert pydicom.dcmread(again[0]).StudyInstanceUID == pydicom.dcmread(demo_files[0]).StudyInstanceUID
    assert sum(p.stat().st_size for p in demo_files) < 2_000_000


def test_bad_files_are_counted_never_fatal(tmp_path: Path, demo_files: list[Path]) -> None:
    folder = demo_files[0].parent
    (folder / "notes.txt").write_text("not dicom at all")
    truncated = folder / "truncated.dcm"
    truncated.write_bytes(demo_files[0].read_bytes()[:400])
    no_image = folder / "no-image.dcm"
    ds = pydicom.dcmread(demo_files[1])
    del ds.Rows
    ds.SOPInstanceUID = "1.2.3.999"
    ds.save_as(no_image)
    db = Database(tmp_path / "db")
    summary = import_paths(db, [folder])
    assert summary.imported == SLICES
    assert summary.not_dicom == [str(folder / "notes.txt")]
    assert len(summary.broken) == 2
    assert any("no-image.dcm (no Rows)" in b for b in summary.broken)
    assert any("truncated.dcm" in b for b in summary.broken)
    assert db.counts() == (1, 1, SLICES)
    again = import_paths(db, [folder])
    assert (again.imported, again.already_present) == (0, SLICES)
    assert db.counts() == (1, 1, SLICES)


def test_copy_and_link(tmp_path: Path, demo_files: list[Path]) -> None:
    copied = Database(tmp_path / "copied")
    import_paths(copied, demo_files[:3], copy=True)
    paths = [i.path for s in copied.studies() for se in copied.series_of(s.id) for i in copied.images_of(se.id)]
    assert all(p.startswith(str(copied.files_folder)) and Path(p).read_bytes()[128:132] == b"DICM" for p in paths)
    linked = Database(tmp_path / "linked")
    import_paths(linked, demo_files[:3], copy=False)
    paths = {i.path for s in linked.studies() for se in linked.series_of(s.id) for i in linked.images_of(se.id)}
    assert paths == {str(p.resolve()) for p in demo_files[:3]}


def test_database_persists_across_reopen(tmp_path: Path, demo_files: list[Path]) -> None:
    import_paths(Database(tmp_path / "db"), demo_files)
    reopened = Database(tmp_path / "db")
    assert reopened.counts() == (1, 1, SLICES)
    conn = sqlite3.connect(reopened.index_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_cli_import_prints_a_summary(tmp_path: Path, demo_files: list[Path]) -> None:
    shutil.copy(demo_files[0], tmp_path / "x.dcm")
    (tmp_path / "junk.bin").write_bytes(b"\0" * 10)
    done = CliRunner().invoke(
        cli, ["import", str(tmp_path / "x.dcm"), str(tmp_path / "junk.bin"), "--database", str(tmp_path / "db")]
    )
    assert done.exit_code == 0, done.output
    assert "1 imported, 0 already in the database, 1 not DICOM, 0 broken" in done.output
    missing = CliRunner().invoke(cli, ["import", str(tmp_path / "nope"), "--database", str(tmp_path / "db")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
