"""The example pack's tasks against an embedded OsiriX, with the fixtures osirix-tasks ships.

Nothing to import or configure: installing osirix-tasks gives pytest the ``osirix``,
``osirix_viewer``, ``osirix_roi``, ``osirix_vr`` and ``run_task`` fixtures.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from osirix_tasks.testing import OsirixSession


def test_count_studies_counts_the_database(osirix: OsirixSession, run_task: Any) -> None:
    expected = len(osirix.studies())

    result = run_task("Count studies")

    assert result.ok, result
    assert result.stdout == f"{expected} studies in the database\n"


def test_invert_window_inverts_the_displayed_slice(osirix: OsirixSession, osirix_viewer: Any, run_task: Any) -> None:
    pix = osirix.call("ViewerControllerCurDCM", osirix_viewer).pix
    before = osirix.pixels(pix)

    result = run_task("Invert window")

    assert result.ok, result
    assert result.stdout == f"Inverted {before.size} pixels\n"
    np.testing.assert_allclose(osirix.pixels(pix), before.max() + before.min() - before)


def test_invert_window_leaves_the_other_slices_alone(osirix: OsirixSession, osirix_viewer: Any, run_task: Any) -> None:
    from osirixgrpc import viewercontroller_pb2

    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=osirix_viewer, movie_idx=0)
    planes = list(osirix.call("ViewerControllerPixList", request).pix)
    shown = osirix.call("ViewerControllerIdx", osirix_viewer).idx
    before = [osirix.pixels(p) for p in planes]

    assert run_task("Invert window").ok

    for index, (plane, old) in enumerate(zip(planes, before, strict=True)):
        if index != shown:
            np.testing.assert_array_equal(osirix.pixels(plane), old)


def test_invert_window_without_a_viewer_says_what_to_open(osirix: OsirixSession, run_task: Any) -> None:
    result = run_task("Invert window")

    assert result.exit_code == 3
    assert "open a series in a 2D viewer" in result.stderr
