"""``osirix-tasks roi export`` and ``roi import``: a viewer's ROIs as SR, SEG, CSV and JSON files
(valid for dciodvfy, pydicom, highdicom), read back into the viewer; bad files named and skipped."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pytest

from osirix_tasks.testing import RunningHost


def cli(host: RunningHost, *args: str) -> subprocess.CompletedProcess[str]:
    done = host.cli(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def shown(host: RunningHost) -> list[dict[str, Any]]:
    """The frontmost viewer's ROIs (roi list --json) without their uids."""
    rois = json.loads(cli(host, "roi", "list", "--json").stdout)
    return sorted(({k: v for k, v in r.items() if k not in ("uid", "selected")} for r in rois), key=json.dumps)


@pytest.fixture(scope="module")
def drawn(host: RunningHost) -> list[dict[str, Any]]:
    """A viewer on the demo series with a polygon, an oval, a point and a mask on two slices."""
    series = json.loads(cli(host, "db", "series", "--json").stdout)[0]["series_instance_uid"]
    cli(host, "open", series)
    cli(host, "roi", "add", "--type", "polygon", "--name", "liver", "--slice", "5",
        "--point", "20", "20", "--point", "60", "25", "--point", "50", "70")  # fmt: skip
    cli(host, "roi", "add", "--type", "oval", "--name", "cyst", "--slice", "5", "--box", "60", "60", "20", "12")
    cli(host, "roi", "add", "--type", "point", "--name", "seed", "--slice", "6", "--point", "33", "44")
    cli(host, "roi", "add", "--type", "mask", "--name", "painted", "--slice", "6", "--box", "70", "20", "9", "7")
    return shown(host)


@pytest.mark.parametrize("fmt", ["sr", "seg", "csv", "json"])
def test_export_then_import_gives_the_rois_back(
    host: RunningHost, drawn: list[dict[str, Any]], fmt: str, tmp_path: Path
) -> None:
    out = cli(host, "roi", "export", "--format", fmt, "-o", str(tmp_path / f"rois.{fmt}")).stdout
    written = [Path(line.split(" ", 1)[1]) for line in out.splitlines()]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in written)
    for path in written:
        if path.suffix == ".dcm" and shutil.which("dciodvfy"):
            check = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
            assert not [x for x in (check.stdout + check.stderr).splitlines() if x.startswith("Error")], path
    if fmt == "csv":
        rows = list(csv.DictReader(written[0].read_text(encoding="utf-8").splitlines()))
        assert sorted(r["name"] for r in rows) == ["cyst", "liver", "painted", "seed"]
        assert {r["name"]: r["slice"] for r in rows} == {"liver": "5", "cyst": "5", "seed": "6", "painted": "6"}
        assert float(next(r for r in rows if r["name"] == "painted")["area_mm2"]) == pytest.approx(9 * 7 * 1.5 * 1.5)
    if fmt == "seg":  # every ROI with an inside, one segment per name
        seg = hd.seg.segread(written[0])
        labels = sorted(seg.get_segment_description(n).segment_label for n in seg.get_segment_numbers())
        assert labels == ["cyst", "liver", "painted"]
        return  # a SEG holds masks: importing it gives brush ROIs, not the polygons
    cli(host, "roi", "delete", "--all")
    assert shown(host) == []
    imported = cli(host, "roi", "import", str(written[0]))
    assert "drew 4 ROI(s)" in imported.stdout or fmt == "csv"
    back = shown(host)
    if fmt == "csv":  # a CSV holds no mask: the brush ROI is named and skipped
        assert "brush ROI 'painted'" in imported.stderr
        drawn_now = [r for r in drawn if r["name"] != "painted"]
    else:
        drawn_now = drawn
    assert [(r["name"], r["type"], r["slice"]) for r in back] == [(r["name"], r["type"], r["slice"]) for r in drawn_now]
    for got, want in zip(back, drawn_now, strict=True):
        assert got["area_cm2"] == pytest.approx(want["area_cm2"], rel=1e-4)
    cli(host, "roi", "delete", "--all")
    restore(host)


def restore(host: RunningHost) -> None:
    cli(host, "roi", "delete", "--all")
    cli(host, "roi", "add", "--type", "polygon", "--name", "liver", "--slice", "5",
        "--point", "20", "20", "--point", "60", "25", "--point", "50", "70")  # fmt: skip
    cli(host, "roi", "add", "--type", "oval", "--name", "cyst", "--slice", "5", "--box", "60", "60", "20", "12")
    cli(host, "roi", "add", "--type", "point", "--name", "seed", "--slice", "6", "--point", "33", "44")
    cli(host, "roi", "add", "--type", "mask", "--name", "painted", "--slice", "6", "--box", "70", "20", "9", "7")


def test_import_of_a_file_of_other_images_is_named_and_skipped(
    host: RunningHost, drawn: list[Any], tmp_path: Path
) -> None:
    import pydicom
    from pydicom.sr.codedict import codes

    source = pydicom.dcmread(next((host.database / "DATABASE.noindex").rglob("*.dcm")))
    source.SOPInstanceUID = hd.UID()  # an image of the study this database does not have
    for keyword in ("AccessionNumber", "StudyID"):
        setattr(source, keyword, source.get(keyword, ""))
    mask = np.zeros((1, source.Rows, source.Columns), dtype=bool)
    mask[0, 5:9, 5:9] = True
    description = hd.seg.SegmentDescription(
        1, "elsewhere", codes.SCT.Tissue, codes.SCT.Tissue, hd.seg.SegmentAlgorithmTypeValues.MANUAL
    )
    seg = hd.seg.Segmentation([source], mask, "BINARY", [description], hd.UID(), 7, hd.UID(), 1, "x", "x", "1", "1")
    stranger = tmp_path / "stranger.dcm"
    seg.save_as(stranger)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    before = shown(host)
    done = host.cli("roi", "import", str(stranger), str(garbage))
    assert done.returncode == 1
    assert f"{stranger}: references none of the viewer's images" in done.stderr
    assert f"{garbage}: cannot be read as ROIs" in done.stderr
    assert shown(host) == before  # nothing that was there is lost
