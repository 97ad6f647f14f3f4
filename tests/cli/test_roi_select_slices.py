"""Issue 18 item 15: selecting ROIs that are not on the displayed slice.

OsiriX selects ROIs on the displayed slice only: ``selectedROIs`` and ``selectROI:deselectingOther:``
(Horos ``ViewerController.m``) read and write ``roiList[curMovieIndex][curImage]``; an ROI elsewhere is
reached by showing its slice first (as the ROI manager does). Before, ``roi select NAME`` and
``roi add --slice 12 --select`` printed "selected 1 ROI(s)" for an ROI on another slice, and
``ViewerControllerSelectedROIs`` - what an ROI task receives - answered nothing.

The CLI numbers images as OsiriX shows them, from 1 (``--slice 13`` is the protocol's index 12), and
says so in its answers (``image 13``); what is selected is read back over OsiriXgrpc, by index.

A real host and the real CLI.
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
    """A fresh viewer on the demo series (24 slices), frontmost, showing index 0 (image 1)."""
    stub = host.stub()
    for other in ok(stub.OsirixDisplayed2DViewers(Empty())).viewer_controllers:
        ok(stub.ViewerControllerCloseViewer(other))
    opened = host.cli("open", demo_series(host))
    assert opened.returncode == 0, opened.stdout + opened.stderr
    return ok(stub.OsirixFrontmostViewer(Empty())).viewer_controller


def selected(host: RunningHost, viewer: Any) -> list[tuple[str, int]]:
    """(name, displayed index from 0) of what ViewerControllerSelectedROIs answers - what an ROI task gets."""
    stub = host.stub()
    idx = ok(stub.ViewerControllerIdx(viewer)).idx
    return [(ok(stub.ROIName(roi)).name, idx) for roi in ok(stub.ViewerControllerSelectedROIs(viewer)).rois]


def show(host: RunningHost, viewer: Any, idx: int) -> None:
    ok(host.stub().ViewerControllerSetIdx(VC.ViewerControllerSetIdxRequest(viewer_controller=viewer, idx=idx)))


def test_adding_on_another_slice_and_selecting_shows_that_slice(host: RunningHost, viewer: Any) -> None:
    added = host.cli("roi", "add", "--type", "oval", "--box", "10", "10", "20", "20", "--name", "lesion")
    assert added.returncode == 0, added.stderr  # one on the displayed image 1 (index 0), to be left alone
    added = host.cli(
        "roi", "add", "--type", "oval", "--box", "30", "30", "20", "20", "--name", "lesion", "--slice", "13", "--select"
    )

    assert added.returncode == 0, added.stdout + added.stderr
    assert "showing image 13 of 24" in added.stdout and "selected 1 ROI(s) named 'lesion' on image 13" in added.stdout
    assert "those on image 1 are not selected" in added.stdout  # the one on the first image is left alone
    assert selected(host, viewer) == [("lesion", 12)]


def test_select_shows_the_slice_of_an_roi_that_is_not_displayed(host: RunningHost, viewer: Any) -> None:
    added = host.cli("roi", "add", "--type", "oval", "--box", "30", "30", "20", "20", "--name", "far", "--slice", "10")
    assert added.returncode == 0, added.stderr
    show(host, viewer, 0)

    chosen = host.cli("roi", "select", "far")

    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert "showing image 10 of 24" in chosen.stdout and "selected 1 ROI(s) named 'far'" in chosen.stdout
    assert selected(host, viewer) == [("far", 9)]


def test_select_on_a_given_slice_and_what_it_does_not_select(host: RunningHost, viewer: Any) -> None:
    for number in ("4", "9"):
        added = host.cli(
            "roi", "add", "--type", "oval", "--box", "30", "30", "20", "20", "--name", "twin", "--slice", number
        )
        assert added.returncode == 0, added.stderr

    chosen = host.cli("roi", "select", "twin", "--slice", "4")
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert "selected 1 ROI(s) named 'twin' on image 4" in chosen.stdout
    assert "image 9" in chosen.stdout  # the other one is named, and said not to be selected
    assert selected(host, viewer) == [("twin", 3)]

    missing = host.cli("roi", "select", "twin", "--slice", "6")
    assert missing.returncode != 0
    assert "no ROI named 'twin' on image 6" in missing.stdout + missing.stderr
    assert "images 4, 9" in missing.stdout + missing.stderr
    assert selected(host, viewer) == [("twin", 3)]  # the selection and the displayed image are unchanged

    beyond = host.cli("roi", "select", "twin", "--slice", "25")
    assert beyond.returncode != 0 and "image 25 is out of range" in beyond.stdout + beyond.stderr
    zero = host.cli("roi", "select", "twin", "--slice", "0")  # no image 0: the first is 1
    assert zero.returncode == 2 and "--slice" in zero.stderr
    assert selected(host, viewer) == [("twin", 3)]


def test_open_shows_a_given_slice(host: RunningHost) -> None:
    stub = host.stub()
    opened = host.cli("open", demo_series(host), "--slice", "8")

    assert opened.returncode == 0, opened.stdout + opened.stderr
    front = ok(stub.OsirixFrontmostViewer(Empty())).viewer_controller
    assert ok(stub.ViewerControllerIdx(front)).idx == 7  # image 8 is the protocol's index 7
    assert "showing image 8" in opened.stdout
    last = host.cli("open", demo_series(host), "--slice", "24")  # the last image of 24
    assert last.returncode == 0, last.stdout + last.stderr
    assert ok(stub.ViewerControllerIdx(ok(stub.OsirixFrontmostViewer(Empty())).viewer_controller)).idx == 23
    refused = host.cli("open", demo_series(host), "--slice", "25")
    assert refused.returncode != 0 and "image 25 is out of range" in refused.stdout + refused.stderr
    assert "images 1-24" in refused.stdout + refused.stderr
