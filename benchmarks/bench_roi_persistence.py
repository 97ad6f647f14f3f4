"""ROIs kept with their study: saving 1,000 ROIs on a 300-slice series, and opening that series
again (time until its ROIs are shown through the protocol) against opening it without ROIs, in the
same run; plus the time one changed ROI takes to reach the disk.

A real host (``osirix-tasks serve``) on a generated 300-slice series (256 x 256, pydicom). Through
gRPC: open a viewer and list every slice's ROIs (ViewerControllerROIList) with no ROIs stored
(baseline); draw 1,000 ROIs (closed polygons, ovals, rectangles, points and brush masks over the
300 slices) and time until every plane's object is in the study's ``OsiriX ROI SR`` series; close,
open again and list (same host, then a new host on the same database after SIGKILL).

    python benchmarks/bench_roi_persistence.py [--slices 300] [--rois 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from osirixgrpc import browsercontroller_pb2, roi_pb2, viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from osirix_tasks.testing import running_host

VC = viewercontroller_pb2.ViewerControllerNewROIRequest


def write_series(folder: Path, slices: int, size: int = 256) -> None:
    folder.mkdir(parents=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    for index in range(slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = MRImageStorage, generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"{index:04d}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.PatientName, ds.PatientID, ds.Modality, ds.SeriesDescription = "Bench^ROIs", "BENCH", "MR", "bench"
        ds.StudyDate, ds.StudyTime, ds.InstanceNumber, ds.SeriesNumber = "20240101", "120000", index + 1, 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, float(index)], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [1.0, 1.0], 1.0
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = ((np.arange(size * size, dtype=np.uint16) + index) % 4000).tobytes()
        ds.save_as(folder / f"{index:04d}.dcm", enforce_file_format=True)


def ok(response: Any) -> Any:
    assert response.status.status == 1, response.status.message
    return response


def open_and_list(stub: Any) -> tuple[float, Any, int]:
    """Open a viewer on the series and list every slice's ROIs: seconds, the viewer, the ROI count."""
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    [study] = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
    series = next(
        s
        for s in ok(stub.DicomStudySeries(study)).series
        if ok(stub.DicomSeriesSeriesDescription(s)).series_description == "bench"
    )
    images = ok(stub.DicomSeriesSortedImages(series)).sorted_images
    frame = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(images=images)
    request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(browser=browser, frames=[frame])
    started = time.perf_counter()
    viewer = ok(stub.BrowserControllerOpenViewerFromImages(request)).viewer
    listing = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=0)
    count = sum(len(s.rois) for s in ok(stub.ViewerControllerROIList(listing)).roi_slices)
    return time.perf_counter() - started, viewer, count


def stored_planes(stub: Any) -> int:
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    total = 0
    for study in ok(stub.BrowserControllerDatabaseStudies(browser)).studies:
        for series in ok(stub.DicomStudySeries(study)).series:
            if ok(stub.DicomSeriesSeriesDescription(series)).series_description == "OsiriX ROI SR":
                total += ok(stub.DicomSeriesNumberOfImages(series)).number_of_images
    return total


def draw(stub: Any, viewer: Any, rois: int, slices: int) -> set[int]:
    rng = np.random.default_rng(7)
    planes = set()
    brush = np.ones((12, 10), dtype=bool)
    for n in range(rois):
        idx = int(rng.integers(slices))
        planes.add(idx)
        x, y = (float(v) for v in rng.uniform(20, 200, 2))
        kind = n % 5
        request = VC(
            viewer_controller=viewer,
            idx=idx,
            name=f"roi {n % 12}",
            itype=(11, 9, 6, 19, 20)[kind],
            thickness=1,
            opacity=1,
        )
        request.color.r = 200
        if kind == 0:
            request.points.extend(VC.Point2D(x=x + dx, y=y + dy) for dx, dy in ((0, 0), (20, 3), (15, 25), (-4, 18)))
        elif kind in (1, 2, 3):
            request.rectangle.CopyFrom(VC.Rect(origin_x=x, origin_y=y, width=12, height=8))
        else:
            request.buffer.CopyFrom(VC.Buffer(buffer=brush.ravel().tolist(), rows=12, columns=10))
            request.buffer_position_x, request.buffer_position_y = int(x), int(y)
        ok(stub.ViewerControllerNewROI(request))
    return planes


def wait(condition: Any, timeout: float = 600.0) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise SystemExit("the ROIs did not reach the database in time")
        time.sleep(0.02)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--rois", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_series(root / "series", args.slices)
        database = root / "db"
        with running_host(root / "home", "--empty", "--import", str(root / "series"), database=database) as host:
            stub = host.stub()
            without = []
            for _ in range(args.repeat):
                seconds, viewer, count = open_and_list(stub)
                assert count == 0
                without.append(seconds)
                ok(stub.ViewerControllerCloseViewer(viewer))
            _, viewer, _ = open_and_list(stub)
            started = time.perf_counter()
            planes = draw(stub, viewer, args.rois, args.slices)
            drawing = time.perf_counter() - started
            saving = wait(lambda: stored_planes(stub) == len(planes))
            listing = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=0)
            first = next(r for s in ok(stub.ViewerControllerROIList(listing)).roi_slices for r in s.rois)
            paths_before = sorted(
                (database / "DATABASE.noindex" / "ROIs").rglob("*.sr.dcm"), key=lambda p: p.stat().st_mtime_ns
            )
            latest = paths_before[-1].stat().st_mtime_ns
            changed = time.perf_counter()
            ok(stub.ROISetName(roi_pb2.ROISetNameRequest(roi=first, name="renamed")))
            one = wait(lambda: max(p.stat().st_mtime_ns for p in paths_before if p.exists()) > latest)
            del changed
            ok(stub.ViewerControllerCloseViewer(viewer))
            time.sleep(1.0)
            reopened = []
            for _ in range(args.repeat):
                seconds, again, count = open_and_list(stub)
                assert count == args.rois, count
                reopened.append(seconds)
                ok(stub.ViewerControllerCloseViewer(again))
            host.process.kill()
            host.process.wait()
        with running_host(root / "home2", database=database) as fresh:
            cold, _, count = open_and_list(fresh.stub())
            assert count == args.rois
    base = statistics.median(without)
    print(f"{args.rois} ROIs on {len(planes)} of {args.slices} slices ({args.slices} x 256 x 256 series)")
    print(f"open + list without ROIs        median {base * 1000:8.1f} ms")
    print(f"draw {args.rois} ROIs (gRPC)           {drawing * 1000:8.1f} ms")
    print(
        f"all stored after the last draw    {saving * 1000:8.1f} ms  ({saving / len(planes) * 1000:.1f} ms per plane)"
    )
    print(f"one renamed ROI on disk after     {one * 1000:8.1f} ms")
    with_rois = statistics.median(reopened)
    print(f"open + list with {args.rois} ROIs        median {with_rois * 1000:8.1f} ms  ratio {with_rois / base:.2f}x")
    print(f"same, new host after SIGKILL           {cold * 1000:8.1f} ms  ratio {cold / base:.2f}x")


if __name__ == "__main__":
    main()
