"""A study holding ROI series and a SEG is counted as OsiriX counts it, through unmodified pyosirix.

Expected values come from the reference and from pydicom's reading of the files:

- ``noFiles`` (Horos ``DicomStudy.m`` ``noFiles``, lines 1517-1566) sums the series' ``noFiles``
  except for series whose SOP class is a structured report, a presentation state or a "supported
  private class"; ``DicomSeries.m`` ``noFiles`` (lines 578-628) counts one per DicomImage (one per
  frame) and answers 0 for those classes. The private classes are matched by prefix
  (``DCMAbstractSyntaxUID isSupportedPrivateClasses:``) and Raw Data Storage
  (1.2.840.10008.5.1.4.1.1.66) is a prefix of Segmentation Storage (1.2.840.10008.5.1.4.1.1.66.4):
  a SEG counts as no images. OsiriX's ``OsiriX ROI SR`` series is an SR series: not counted either
  (nor is our ``OsiriX ROI SEG``, which stands for the masks OsiriX keeps inside that series).
- ``DicomStudyNumberOfImages`` answers ``[study numberOfImages]`` (``gRPCDicomStudyDelegate.mm``),
  the value ``noFiles`` stores (its absolute value, as ``BrowserController.m`` shows it);
  ``DicomSeriesNumberOfImages`` answers ``[series numberOfImages]``, which ``noFiles`` leaves at 0
  for the series it does not count.
- ``rawNoFiles`` (``DicomStudy.m`` 1466-1487, ``DicomSeries.m`` ``rawNoFiles``) counts every file of
  every series, the ROI objects included (pyosirix's own docstring says so).
- The study's series (``DicomStudySeries``: ``[study series]``) are all of them, ROI series included.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.testing import RunningHost
from tests.helpers import foreign_seg, seg_evidence

#: Draws ROIs on three slices (one a brush ROI: a plane with a SEG), waits until the three planes
#: are stored, then prints the study's counts and each series' as pyosirix answers them.
SCRIPT = """
import json, time
import numpy as np
import osirix
from osirix.dicom import DicomSeries, DicomStudy

browser = osirix.current_browser()
answer = browser.osirix_service_stub.BrowserControllerDatabaseStudies(browser.pb2_object)
[study] = [DicomStudy(browser.osirix_service, s) for s in answer.studies]
[mr] = [s for s in study.series if s.modality == "MR"]
viewer = browser.open_viewer_2d(np.array(mr.sorted_images()))
viewer.new_roi(itype=11, name="polygon", idx=1, points=[[20, 20], [40, 22], [44, 40], [24, 44]])
viewer.new_roi(itype=9, name="oval", idx=8, rect=[64, 64, 15, 9])
brush = np.zeros((6, 9), dtype=bool); brush[1:5, 2:8] = True
viewer.new_roi(itype=20, name="brush", idx=10, buffer=brush, buffer_position_column=50, buffer_position_row=52)


def every_series():  # pyosirix's study.series leaves out SR series: all of [study series], as OsiriX answers
    answer = study.osirix_service_stub.DicomStudySeries(study.pb2_object)
    return [DicomSeries(study.osirix_service, s) for s in answer.series]


deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    stored = {s.series_description: len(s.images) for s in every_series()}
    if stored.get("OsiriX ROI SR") == 3 and stored.get("OsiriX ROI SEG") == 1:
        break
    time.sleep(0.1)
series = [
    dict(description=s.series_description, sop_class=s.sop_class_uid, number_of_images=s.number_of_images,
         images=len(s.images))
    for s in every_series()
]
print(json.dumps(dict(no_files=study.no_files, number_of_images=study.number_of_images,
                      raw_no_files=study.raw_no_files, series=series,
                      pyosirix_series=sorted(s.series_description for s in study.series))))
"""


def write_seg(sources: list[Path], path: Path) -> None:
    """A SEG of three of the demo images, as another tool would write it (highdicom)."""
    labels = np.zeros((len(sources), 128, 128), dtype=np.uint8)
    labels[:, 10:30, 20:40] = 1
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label="lesion",
        segmented_property_category=codes.SCT.Tissue,
        segmented_property_type=codes.SCT.Tissue,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    seg = foreign_seg([seg_evidence(p) for p in sources], labels, [description])
    seg.save_as(path)


def frames(path: Path) -> int:
    return int(pydicom.dcmread(path, stop_before_pixels=True).get("NumberOfFrames", 1) or 1)


@pytest.mark.slow
def test_a_study_with_roi_series_and_a_seg_counts_as_in_osirix(start_host: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    demo = generate_demo_series(data)
    seg_file = data / "other-tool.seg.dcm"
    write_seg(demo[3:6], seg_file)
    database = tmp_path / "db"
    with start_host("--empty", "--import", str(data), database=database) as host:
        found = run_script(host)
    images = sum(frames(p) for p in demo)  # the MR series: one image per frame
    assert frames(seg_file) == 3  # ... which would count 3 more if a SEG counted
    roi_files = sorted((database / "DATABASE.noindex" / "ROIs").rglob("*.dcm"))
    sr_files = [p for p in roi_files if str(pydicom.dcmread(p, stop_before_pixels=True).Modality) == "SR"]
    assert len(sr_files) == 3 and len(roi_files) == 4  # three planes, one with brush ROIs
    assert found["no_files"] == images
    assert found["number_of_images"] == images
    assert found["raw_no_files"] == len(demo) + 1 + len(roi_files)
    by_name = {s["description"]: s for s in found["series"]}
    assert set(by_name) >= {"OsiriX ROI SR", "OsiriX ROI SEG"} and len(found["series"]) == 4
    assert "OsiriX ROI SR" not in found["pyosirix_series"] and "OsiriX ROI SEG" in found["pyosirix_series"]
    seg_class = "1.2.840.10008.5.1.4.1.1.66.4"
    seg_series = next(s for s in found["series"] if s["sop_class"] == seg_class and s["images"] == 3)
    assert seg_series["number_of_images"] == 0
    assert by_name["OsiriX ROI SR"]["number_of_images"] == 0 and by_name["OsiriX ROI SR"]["images"] == 3
    assert by_name["OsiriX ROI SEG"]["number_of_images"] == 0 and by_name["OsiriX ROI SEG"]["images"] == 1
    [mr] = [s for s in found["series"] if s["sop_class"] == str(pydicom.dcmread(demo[0]).SOPClassUID)]
    assert mr["number_of_images"] == mr["images"] == images


def run_script(host: RunningHost) -> dict[str, Any]:
    """Run the script with pyosirix in a process of its own; what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT)], capture_output=True, text=True, env=host.env(), timeout=180
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
