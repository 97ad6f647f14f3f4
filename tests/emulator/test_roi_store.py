"""ROIs kept with their study: drawn through the protocol (unmodified pyosirix), on disk within a
second, there again after the host is killed with SIGKILL and a new host opens the series."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pydicom
import pytest
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.roidicom.private import read_document
from osirix_tasks.testing import RunningHost
from tests.helpers import ok

#: A pyosirix script: opens the demo series (sorted images), optionally draws one ROI of every type,
#: prints every ROI of the viewer (type, name, colour, opacity, thickness, points, mask) as JSON.
SCRIPT = """
import json, sys
import numpy as np
import osirix

DRAW = {draw}
browser = osirix.current_browser()
study = browser.database_selection()[0][0]
series = [s for s in study.series if s.series_description == "t1 axial demo"][0]
viewer = browser.open_viewer_2d(np.array(series.sorted_images()))
if DRAW:
    square = [[20, 20], [40, 22], [44, 40], [24, 44]]
    brush = np.zeros((6, 9), dtype=bool); brush[1:5, 2:8] = True; brush[0, 0] = True
    shapes = [
        (5, "line", dict(points=[[10, 10], [60, 30]])), (6, "rectangle", dict(rect=[30, 40, 20, 12])),
        (9, "oval", dict(rect=[64, 64, 15, 9])), (10, "open polygon", dict(points=square)),
        (11, "closed polygon", dict(points=square)), (12, "angle", dict(points=[[10, 50], [30, 30], [50, 50]])),
        (13, "text that is a note", dict(rect=[70, 20, 0, 0])), (14, "arrow", dict(points=[[80, 80], [100, 90]])),
        (15, "pencil", dict(points=[[60, 60], [70, 58], [78, 66], [72, 76], [62, 74]])),
        (19, "point", dict(rect=[33, 77, 0, 0])), (20, "brush", dict(buffer=brush, buffer_position_column=50,
        buffer_position_row=52)), (24, "layer", dict(points=[[5, 5], [15, 5], [15, 15]])),
        (26, "axis", dict(points=[[20, 90], [40, 90], [30, 80], [30, 100]])),
        (27, "dynamic angle", dict(points=[[50, 100], [70, 100], [55, 110], [75, 115]])),
        (29, "tagt", dict(points=[[0, 0], [10, 20], [0, 0], [30, 25], [5, 30], [40, 30]])),
        (31, "oval angle", dict(rect=[90, 40, 10, 6])),
    ]
    for n, (itype, name, shape) in enumerate(shapes):
        viewer.new_roi(itype=itype, name=name, idx=4 + n % 6, color=(10 * n, 255 - 10 * n, 3 * n),
                       thickness=1 + n % 5, opacity=0.3 + 0.04 * n, **shape)
found = []
for idx, plane in enumerate(viewer.roi_list(0)):
    for roi in plane:
        entry = dict(slice=idx, type=roi.itype, name=roi.name, color=list(roi.color), opacity=round(roi.opacity, 5),
                     thickness=roi.thickness, points=np.round(roi.points, 4).tolist())
        if roi.itype in (10, 11, 15, 20):
            entry["mask"] = np.argwhere(roi.pix.get_map_from_roi(roi)).tolist()
        found.append(entry)
print(json.dumps(found))
"""


def run_pyosirix(host: RunningHost, draw: bool) -> list[dict[str, Any]]:
    """Run the script with pyosirix in a process of its own (HOME: the host's); its ROIs."""
    code = textwrap.dedent(SCRIPT).replace("{draw}", str(draw))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=host.env(), timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def stored_documents(host: RunningHost) -> list[dict[str, Any]]:
    """The private documents of the study's ``OsiriX ROI SR`` objects, found through the protocol."""
    stub = host.stub()
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    documents = []
    for study in ok(stub.BrowserControllerDatabaseStudies(browser)).studies:
        for series in ok(stub.DicomStudySeries(study)).series:
            if ok(stub.DicomSeriesSeriesDescription(series)).series_description != "OsiriX ROI SR":
                continue
            for image in ok(stub.DicomSeriesImages(series)).images:
                path = ok(stub.DicomImageCompletePath(image)).complete_path
                document = read_document(pydicom.dcmread(path))
                assert document is not None, path
                documents.append(document)
    return documents


def wait_for(condition: Any, what: str, timeout: float = 60.0) -> Any:
    """Poll ``condition()`` until it is truthy (the machine is shared: generous deadline)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def stored_names(host: RunningHost) -> list[str]:
    return sorted(r["name"] for d in stored_documents(host) for p in d["planes"] for r in p["rois"])


@pytest.mark.slow
def test_every_roi_type_survives_sigkill_and_a_new_host(start_host: Any, tmp_path: Path) -> None:
    database = tmp_path / "db"
    with start_host("--demo", database=database) as host:
        drawn = run_pyosirix(host, draw=True)
        assert len(drawn) == 16 and {r["type"] for r in drawn} == {
            5,
            6,
            9,
            10,
            11,
            12,
            13,
            14,
            15,
            19,
            20,
            24,
            26,
            27,
            29,
            31,
        }
        wait_for(lambda: len(stored_names(host)) == 16, "the 16 ROIs stored")
        host.process.kill()  # SIGKILL: no clean exit, nothing flushed
        host.process.wait()
    with start_host(database=database) as again:  # a new host on the same database
        reopened = run_pyosirix(again, draw=False)
    assert reopened == drawn
