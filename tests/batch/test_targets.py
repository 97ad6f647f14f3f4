"""Explicit targets against a real embedded OsiriX: the context built from the target, viewers opened
for the run and closed after it (the user's windows as they were), and refusals with clear messages."""

from __future__ import annotations

import json

from osirixgrpc import utilities_pb2

from osirix_tasks.emulator.workspace import Workspace
from osirix_tasks.testing import RunningHost

EMPTY = utilities_pb2.Empty()


def _series_uid(host: RunningHost) -> tuple[str, str]:
    listing = json.loads(host.cli("db", "series", "--json", "--server", host.address).stdout)
    return listing[0]["study_instance_uid"], listing[0]["series_instance_uid"]


def _windows(host: RunningHost) -> tuple[str, list[str]]:
    stub = host.stub()
    front = stub.OsirixFrontmostViewer(EMPTY).viewer_controller.osirixrpc_uid
    shown = [v.osirixrpc_uid for v in stub.OsirixDisplayed2DViewers(EMPTY).viewer_controllers]
    return front, shown


def test_a_run_on_a_series_gets_a_viewer_of_its_own_and_leaves_the_users_windows_as_they_were(
    host: RunningHost,
) -> None:
    _, series = _series_uid(host)
    assert host.cli("open", series, "--server", host.address).returncode == 0
    assert host.cli("open", series, "--server", host.address).returncode == 0
    before = _windows(host)
    result = host.cli("run", "Gaussian smooth", "--series", series, "--server", host.address)
    assert result.returncode == 0, result.stderr
    assert _windows(host) == before  # the frontmost viewer is still frontmost, the window list unchanged


def test_a_database_task_on_a_study_gets_that_study_as_its_selection(host: RunningHost) -> None:
    study, _ = _series_uid(host)
    assert host.cli("select", "--clear", "--server", host.address).returncode == 0
    result = host.cli("run", "Selection report", "--study", study, "--server", host.address)
    assert result.returncode == 0, result.stderr
    assert "Study: 'Demo Brain Phantom'" in result.stdout  # not 'Nothing is selected'


def test_an_image_task_given_a_study_is_refused_saying_what_to_give(host: RunningHost) -> None:
    study, _ = _series_uid(host)
    result = host.cli("run", "Gaussian smooth", "--study", study, "--server", host.address)
    assert result.returncode == 3
    assert "works on a series" in result.stderr and study in result.stderr
    batch = host.cli("batch", "Gaussian smooth", study, "--server", host.address, "--dry-run")
    assert batch.returncode == 1
    assert f"argument: {study} is a study and 'Image' tasks work on a series" in batch.stderr


def test_an_unknown_series_and_an_empty_selection_are_clear_errors(host: RunningHost) -> None:
    result = host.cli("run", "Gaussian smooth", "--series", "9.9.9", "--server", host.address)
    assert result.returncode == 3
    assert "no series with SeriesInstanceUID 9.9.9" in result.stderr
    empty = host.cli("batch", "Gaussian smooth", "--where", "modality=CT", "--server", host.address, "--dry-run")
    assert empty.returncode == 1
    assert "the selection is empty (where modality=CT matched nothing" in empty.stderr
    unknown = host.cli("batch", "Gaussian smooth", "1.2.3.4", "--server", host.address, "--dry-run")
    assert "argument: 1.2.3.4 is neither a study nor a series" in unknown.stderr


def test_a_roi_task_finds_the_series_rois_by_name_in_an_open_viewer(host: RunningHost) -> None:
    _, series = _series_uid(host)
    assert host.cli("open", series, "--server", host.address).returncode == 0
    drawn = host.cli(
        "roi",
        "add",
        "--type",
        "rectangle",
        "--box",
        "40",
        "40",
        "20",
        "20",
        "--name",
        "lesion",
        "--server",
        host.address,
    )
    assert drawn.returncode == 0, drawn.stderr
    result = host.cli("run", "ROI statistics", "--series", series, "--roi", "lesion", "--server", host.address)
    assert result.returncode == 0, result.stderr
    assert "lesion" in result.stdout
    missing = host.cli("run", "ROI statistics", "--series", series, "--roi", "nothing", "--server", host.address)
    assert missing.returncode == 3
    assert "has none named 'nothing'" in missing.stderr


def test_closing_the_front_window_brings_back_the_one_that_was_in_front_before_it() -> None:
    import numpy as np

    from osirix_tasks.emulator.workspace import Pix, Viewer

    def viewer(name: str) -> Viewer:  # a one-plane 2D viewer, as the emulator holds it in memory
        plane = Pix(
            np.zeros((4, 4), np.float32), (1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0), 0.0, "", None, None, None
        )
        return Viewer([[plane]], name, "patient", "MR", wl=40.0, ww=400.0)

    space = Workspace()
    a, b, c = (viewer(name) for name in "abc")
    for v in (a, b, c):
        space.add(v)
    space.bring_to_front(b)  # the user clicks b, then a: front to back a, b, c
    space.bring_to_front(a)
    space.close(a)  # a viewer opened for a run, closed after it: b was in front before it
    assert space.frontmost() is b
    assert space.displayed() == [b, c]
    space.close(b)
    assert space.frontmost() is c


def test_the_registrys_scheduler_setting_is_used_and_an_unreachable_one_is_named(host: RunningHost, tmp_path) -> None:
    from osirix_tasks.client.server_configs import free_port

    address = f"tcp://127.0.0.1:{free_port()}"
    registry = tmp_path / "tasks.toml"
    registry.write_text(f'[settings]\nbatch_scheduler = "{address}"\n')
    result = host.cli("--registry", str(registry), "batch", "Selection report", "--where", "modality=MR", "--server",
                      host.address, "--quiet")  # fmt: skip
    assert result.returncode == 1
    assert f"no Dask scheduler answers at {address}" in result.stderr
    state = json.loads(host.cli("batch", "show", "--json").stdout)
    assert state["batch"]["status"] == "error"  # recorded, its item still pending for a resume
    assert [i["status"] for i in state["items"]] == ["pending"]
