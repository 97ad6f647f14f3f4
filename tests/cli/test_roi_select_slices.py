"""Issue 18 item 15: selecting ROIs that are not on the displayed slice.

OsiriX selects ROIs on the displayed slice only: ``selectedROIs`` and ``selectROI:deselectingOther:``
(Horos ``ViewerController.m``) read and write ``roiList[curMovieIndex][curImage]``; an ROI elsewhere is
reached by showing its slice first (as the ROI manager does). Before, ``roi select NAME`` and
``roi add --slice 12 --select`` printed "selected 1 ROI(s)" for an ROI on another slice, and
``ViewerControllerSelectedROIs`` - what an ROI task receives - answered nothing.

A real host and the real CLI; what is selected is read back over OsiriXgrpc.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from osirixgrpc import viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.testing import RunningHost, running_host
from tests.helpers import ok

VC = viewercontroller_pb2


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    # ROIs in memory only (as tests/conftest.py's hosts): each test's viewer opens without the others' ROIs.
    with running_host(tmp_path_factory.mktemp("home"), "--demo", "--no-save-rois") as running:
        yield running


def demo_series(host: RunningHost) -> str:
    """The demo series' identifier as OsiriX keeps it (``UID TE-12``)."""
    [series] = json.loads(host.cli("db", "series", "--json").stdout)
    return str(series["series_instance_uid"])


@pytest.fixture
def viewer(host: RunningHost) -> Any:
    """A fresh viewer on the demo series (24 slices), frontmost, showing slice 0."""
    stub = host.stub()
    for other in ok(stub.OsirixDisplayed2DViewers(Empty())).viewer_controllers:
        ok(stub.ViewerControllerCloseViewer(other))
    opened = host.cli("open", demo_series(host))
    assert opened.returncode == 0, opened.stdout + opened.stderr
    return ok(stub.OsirixFrontmostViewer(Empty())).viewer_controller


def selected(host: RunningHost, viewer: Any) -> list[tuple[str, int]]:
    """(name, displayed slice) of what ViewerControllerSelectedROIs answers - what an ROI task gets."""
    stub = host.stub()
    idx = ok(stub.ViewerControllerIdx(viewer)).idx
    return [(ok(stub.ROIName(roi)).name, idx) for roi in ok(stub.ViewerControllerSelectedROIs(viewer)).rois]


def show(host: RunningHost, viewer: Any, idx: int) -> None:
    ok(host.stub().ViewerControllerSetIdx(VC.ViewerControllerSetIdxRequest(viewer_controller=viewer, idx=idx)))


def test_adding_on_another_slice_and_selecting_shows_that_slice(host: RunningHost, viewer: Any) -> None:
    added = host.cli("roi", "add", "--type", "oval", "--box", "10", "10", "20", "20", "--name", "lesion")
    assert added.returncode == 0, added.stderr  # one on the displayed slice 0, to be left alone
    added = host.cli(
        "roi", "add", "--type", "oval", "--box", "30", "30", "20", "20", "--name", "lesion", "--slice", "12", "--select"
    )

    assert added.returncode == 0, added.stdout + added.stderr
    assert "showing slice 12" in added.stdout and "selected 1 ROI(s) named 'lesion'" in added.stdout
    assert selected(host, viewer) == [("lesion", 12)]


def test_select_shows_the_slice_of_an_roi_that_is_not_displayed(host: RunningHost, viewer: Any) -> None:
    added = host.cli("roi", "add", "--type", "oval", "--box", "30", "30", "20", "20", "--name", "far", "--slice", "9")
    assert added.returncode == 0, added.stderr
    show(host, viewer, 0)

    chosen = host.cli("roi", "select", "far")

    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert "showing slice 9" in chosen.stdout and "selected 1 ROI(s) named 'far'" in chosen.stdout
    assert selected(host, viewer) == [("far", 9)]


def test_select_on_a_given_slice_and_what_it_does_not_select(host: RunningHost, viewer: Any) -> None:
    for index in ("3", "8"):
        added = host.cli(
            "roi", "add", "--type", "oval", "--box", "30", "30", "20", "20", "--name", "twin", "--slice", index
        )
        assert added.returncode == 0, added.stderr

    chosen = host.cli("roi", "select", "twin", "--slice", "3")
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert "selected 1 ROI(s) named 'twin' on slice 3" in chosen.stdout
    assert "slice 8" in chosen.stdout  # the other one is named, and said not to be selected
    assert selected(host, viewer) == [("twin", 3)]

    missing = host.cli("roi", "select", "twin", "--slice", "5")
    assert missing.returncode != 0
    assert "no ROI named 'twin' on slice 5" in missing.stdout + missing.stderr
    assert "3, 8" in missing.stdout + missing.stderr
    assert selected(host, viewer) == [("twin", 3)]  # the selection and the slice are unchanged


def test_open_shows_a_given_slice(host: RunningHost) -> None:
    stub = host.stub()
    opened = host.cli("open", demo_series(host), "--slice", "7")

    assert opened.returncode == 0, opened.stdout + opened.stderr
    front = ok(stub.OsirixFrontmostViewer(Empty())).viewer_controller
    assert ok(stub.ViewerControllerIdx(front)).idx == 7
    assert "slice 7" in opened.stdout
    refused = host.cli("open", demo_series(host), "--slice", "24")
    assert refused.returncode != 0 and "24" in refused.stdout + refused.stderr
