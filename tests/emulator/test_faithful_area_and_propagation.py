"""Issue 18 item 21: two residues of faithfulness, on a real host.

- ``ROIArea`` of a closed polygon follows ``ROI.m`` and the plugin to the last bit: the spline's
  points as floats (``MyPoint -x`` returns a float), ``-Area:`` accumulated in a float one product at
  a time, then ``float area = areaPix * pixelSpacingX * pixelSpacingY / 100.0`` with the spacings in
  double precision. Expected values are computed here with numpy: the spline as a dense linear
  system, the accumulation as a plain float32 loop. The old answer (spacings rounded to float32 and
  the product kept in single precision) differed in the seventh significant digit.
- A viewer that opens takes the movie frame and WL/WW of the viewers already open: OsiriX ends
  ``changeImageData:`` by having every other displayed viewer ``propagateSettings``
  (``propagateSettingsToViewer:``: the frame to a viewer of as many frames, WL/WW to a viewer of the
  same modality, never to or from CR, never to NM).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from osirixgrpc import browsercontroller_pb2, viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.testing import RunningHost, running_host
from tests.helpers import copy_series, float32_area, ok, reference_spline

VC = viewercontroller_pb2
SPACING = (0.7, 0.3)  # PixelSpacing: between rows, between columns; neither is a float32


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A host with the demo series (MR), the same pixels as a CT series, and an MR series whose pixel
    spacing is not representable in single precision."""
    home = tmp_path_factory.mktemp("home")
    demo = generate_demo_series(home / "demo-source")
    copy_series(demo, home / "data" / "ct", "ct", Modality="CT", SeriesDescription="ct copy")
    copy_series(demo[:4], home / "data" / "spacing", "spacing", PixelSpacing=list(SPACING), SeriesDescription="spaced")
    with running_host(home, "--import", str(home / "demo-source"), "--import", str(home / "data")) as running:
        yield running


def series_by_description(stub: Any) -> dict[str, Any]:
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    found = {}
    for study in ok(stub.BrowserControllerDatabaseStudies(browser)).studies:
        for series in ok(stub.DicomStudySeries(study)).series:
            found[ok(stub.DicomSeriesSeriesDescription(series)).series_description] = series
    return found


def open_viewer(stub: Any, description: str, frames: int = 1) -> Any:
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    images = ok(stub.DicomSeriesSortedImages(series_by_description(stub)[description])).sorted_images
    request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(
        browser=browser,
        frames=[browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(images=images)] * frames,
        movie=frames > 1,
    )
    return ok(stub.BrowserControllerOpenViewerFromImages(request)).viewer


POLYGONS = [
    [(10.3, 20.7), (90.1, 25.9), (110.6, 97.2), (40.45, 118.05), (12.8, 70.3)],
    [(5.5, 5.25), (120.75, 7.125), (64.0625, 121.5)],
]


@pytest.mark.parametrize("vertices", POLYGONS)
def test_closed_polygon_area_is_osirix_single_precision_to_the_last_bit(
    host: RunningHost, vertices: list[tuple[float, float]]
) -> None:
    stub = host.stub()
    viewer = open_viewer(stub, "spaced")
    request = VC.ViewerControllerNewROIRequest(viewer_controller=viewer, itype=11, idx=0, name="p", opacity=1)
    request.points.extend([VC.ViewerControllerNewROIRequest.Point2D(x=x, y=y) for x, y in vertices])
    roi = ok(stub.ViewerControllerNewROI(request)).roi
    # the points travel as floats, as the plugin stores them
    sent = [(float(np.float32(x)), float(np.float32(y))) for x, y in vertices]

    area = ok(stub.ROIArea(roi)).area

    spacing_x, spacing_y = SPACING[1], SPACING[0]  # pixelSpacingX: between columns
    expected = np.float32(float32_area(reference_spline(sent, closed=True)) * spacing_x * spacing_y / 100.0)
    assert np.float32(area) == expected
    ok(stub.ViewerControllerCloseViewer(viewer))


def wlww(stub: Any, viewer: Any) -> tuple[float, float]:
    answer = ok(stub.ViewerControllerWLWW(viewer))
    return (answer.wl, answer.ww)


def movie_idx(stub: Any, viewer: Any) -> int:
    return int(ok(stub.ViewerControllerMovieIdx(viewer)).movie_idx)


def test_a_new_viewer_takes_the_movie_frame_and_window_of_the_viewers_already_open(host: RunningHost) -> None:
    stub = host.stub()
    for viewer in ok(stub.OsirixDisplayed2DViewers(Empty())).viewer_controllers:
        ok(stub.ViewerControllerCloseViewer(viewer))
    first = open_viewer(stub, "t1 axial demo", frames=2)
    own_window = wlww(stub, first)
    ok(stub.ViewerControllerSetMovieIdx(VC.ViewerControllerSetMovieIdxRequest(viewer_controller=first, movie_idx=1)))
    ok(stub.ViewerControllerSetWLWW(VC.ViewerControllerSetWLWWRequest(viewer_controller=first, wl=100, ww=250)))
    assert own_window != (100, 250)

    same_length = open_viewer(stub, "t1 axial demo", frames=2)
    other_length = open_viewer(stub, "t1 axial demo", frames=1)
    other_modality = open_viewer(stub, "ct copy", frames=2)

    assert (movie_idx(stub, same_length), wlww(stub, same_length)) == (1, (100, 250))
    assert (movie_idx(stub, other_length), wlww(stub, other_length)) == (0, (100, 250))  # no frame 1 to move to
    assert movie_idx(stub, other_modality) == 1  # the frame goes to any viewer of as many frames
    assert wlww(stub, other_modality) == own_window  # WL/WW only within a modality
    assert (movie_idx(stub, first), wlww(stub, first)) == (1, (100, 250))
