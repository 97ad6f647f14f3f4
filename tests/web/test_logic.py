"""The web UI's server-side pieces without a browser: plane encoding, the 3D renderer against numpy,
in-place registry edits, the host's Status reply and ``osirix-tasks ui``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from osirix_tasks.host.control import ask, live_hosts
from osirix_tasks.host.control_protocol import Status
from osirix_tasks.model import TaskType
from osirix_tasks.registry import RegistryError, load_registry
from osirix_tasks.registry.edit import set_disabled_packs, update_task
from osirix_tasks.web.planes import compact
from osirix_tasks.web.render3d import render


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.arange(0, 4000, dtype=np.float32), "uint16"),
        (np.arange(-1024, 3000, dtype=np.float32), "int16"),
        (np.array([0.5, 1.0, 2.0], dtype=np.float32), "float32"),
        (np.array([0.0, 70000.0], dtype=np.float32), "float32"),
    ],
)
def test_planes_travel_in_the_smallest_exact_encoding(values: np.ndarray, expected: str) -> None:
    data, kind, extent = compact(values.reshape(1, -1))
    assert kind == expected
    assert extent == (None if kind == "float32" else (int(values.min()), int(values.max())))
    decoded = np.frombuffer(data, dtype={"uint16": "<u2", "int16": "<i2", "float32": "<f4"}[kind]).astype(np.float32)
    np.testing.assert_array_equal(decoded, values)


def _demo_volume(database: Path) -> tuple[np.ndarray, float]:
    """The demo series read with pydicom, planes in position order, and its slice interval."""
    files = [pydicom.dcmread(p) for p in sorted(database.rglob("*.dcm"))]
    files.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    volume = np.stack([ds.pixel_array.astype(np.float32) for ds in files])
    return volume, float(files[1].ImagePositionPatient[2]) - float(files[0].ImagePositionPatient[2])


def test_mip_is_the_maximum_along_each_ray(host: Any) -> None:
    volume, interval = _demo_volume(host.database)
    slices, rows, columns = volume.shape
    wl, ww = float(volume.max()) / 2, float(volume.max())
    image = render(volume, (interval, 1.0, 1.0), mode="MIP", wl=wl, ww=ww, size=192)[..., 0].astype(float)
    expected_peak = np.clip(volume.max() / ww, 0, 1) * 255
    assert image.max() == pytest.approx(expected_peak, abs=1)
    # the centre ray runs along the slices through the middle row and column
    rays = volume[:, rows // 2 - 1 : rows // 2 + 1, columns // 2 - 1 : columns // 2 + 1].max(axis=0)
    low, high = (np.clip((v - (wl - ww / 2)) / ww, 0, 1) * 255 for v in (rays.min(), rays.max()))
    assert low - 1 <= image[96, 96] <= high + 1
    # looking along the rows instead (azimuth 90 turns the columns into depth) the object is seen from the side
    side = render(volume, (interval, 1.0, 1.0), mode="MIP", wl=wl, ww=ww, azimuth=90, size=192)[..., 0]
    assert np.abs(side.astype(float) - image).mean() > 1


def test_vr_composites_front_to_back(host: Any) -> None:
    volume, interval = _demo_volume(host.database)
    wl, ww = float(volume.max()) / 2, float(volume.max())
    vr = render(volume, (interval, 1.0, 1.0), mode="VR", wl=wl, ww=ww, size=96)
    mip = render(volume, (interval, 1.0, 1.0), mode="MIP", wl=wl, ww=ww, size=96)
    assert vr[..., 0].max() > 0 and not np.array_equal(vr, mip)
    # a voxel below the window is transparent: an all-low volume renders black
    black = render(np.full((8, 8, 8), wl - ww, np.float32), (1.0, 1.0, 1.0), mode="VR", wl=wl, ww=ww, size=32)
    assert black[..., :3].max() == 0


def _right_half_brighter(image: np.ndarray) -> bool:
    grey = image[..., 0].astype(float)
    half = grey.shape[1] // 2
    return bool(grey[:, half:].sum() > 2 * grey[:, :half].sum())


def test_the_camera_turns_as_the_orientation_cube_says() -> None:
    """A block at the last column shows on the right at azimuth 0; a block at the last slice shows on the
    right at azimuth 90 and at the bottom at elevation 90 (static/cube.js turns its faces the same way)."""
    columns_end = np.zeros((16, 16, 16), np.float32)
    columns_end[:, :, 12:] = 100
    assert _right_half_brighter(render(columns_end, (1.0, 1.0, 1.0), mode="MIP", wl=50, ww=100, size=64))
    slices_end = np.zeros((16, 16, 16), np.float32)
    slices_end[12:] = 100
    assert _right_half_brighter(render(slices_end, (1.0, 1.0, 1.0), mode="MIP", wl=50, ww=100, azimuth=90, size=64))
    below = render(slices_end, (1.0, 1.0, 1.0), mode="MIP", wl=50, ww=100, elevation=90, size=64)[..., 0].astype(float)
    assert below[32:].sum() > 2 * below[:32].sum()


def test_zoom_magnifies_about_the_centre_and_size_is_sharpness() -> None:
    volume = np.zeros((32, 32, 32), np.float32)
    volume[:, 12:20, 12:20] = 100  # a bar 8 voxels wide through the centre, along the slices

    def width(image: np.ndarray) -> int:
        row = image[image.shape[0] // 2, :, 0]
        return int((row > 127).sum())

    base = render(volume, (1.0, 1.0, 1.0), mode="MIP", wl=50, ww=100, size=128)
    zoomed = render(volume, (1.0, 1.0, 1.0), mode="MIP", wl=50, ww=100, size=128, zoom=2.0)
    assert width(zoomed) == pytest.approx(2 * width(base), abs=2)
    sharp = render(volume, (1.0, 1.0, 1.0), mode="MIP", wl=50, ww=100, size=512)
    assert sharp.shape == (512, 512, 4)
    assert width(sharp) == pytest.approx(4 * width(base), abs=4)  # the same picture, four times the pixels


def test_a_preset_colours_the_render() -> None:
    from osirix_tasks.web.render3d import PRESETS, colour_table

    volume = np.zeros((16, 16, 16), np.float32)
    volume[4:12, 4:12, 4:12] = 1000
    grey = render(volume, (1.0, 1.0, 1.0), mode="VR", wl=300, ww=1500, size=64)
    bones = render(
        volume, (1.0, 1.0, 1.0), mode="VR", wl=300, ww=1500, size=64, colours=colour_table(PRESETS["VR Bones"][1])
    )
    centre_grey, centre_bones = grey[32, 32, :3].astype(int), bones[32, 32, :3].astype(int)
    assert centre_grey[0] == centre_grey[1] == centre_grey[2] > 0
    assert centre_bones[0] > centre_bones[2]  # warm: more red than blue
    table = colour_table(((0.0, 0.0, 0.0, 0.0), (1.0, 1.0, 0.5, 0.0)), levels=3)
    np.testing.assert_allclose(table, [[0, 0, 0], [0.5, 0.25, 0], [1, 0.5, 0]])


REGISTRY = """# comment kept
[[task]]
name = "A"   # trailing comment kept
type = "Image"
location = "a.py"

[[task]]
name = "B"
type = "ROI"
location = "a.py"
"""


def test_update_task_changes_only_the_lines_concerned(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print(1)\n")
    registry = tmp_path / "tasks.toml"
    registry.write_text(REGISTRY)
    update_task(registry, "A", TaskType.IMAGE, {"type": "Database", "blocking": True})
    text = registry.read_text()
    assert text.replace('type = "Database"', 'type = "Image"').replace("blocking = true\n", "") == REGISTRY
    loaded = load_registry(registry, strict=True)
    assert {(t.name, t.type, t.blocking) for t in loaded.tasks} == {
        ("A", TaskType.DATABASE, True),
        ("B", TaskType.ROI, False),
    }
    assert (tmp_path / "tasks.toml.bak").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"interpreter": "/no/such/python"}, "interpreter"), ({"type": "ROI", "name": "B"}, "type")],
)
def test_update_task_refuses_and_writes_nothing(tmp_path: Path, changes: dict[str, Any], field: str) -> None:
    (tmp_path / "a.py").write_text("print(1)\n")
    registry = tmp_path / "tasks.toml"
    registry.write_text(REGISTRY)
    with pytest.raises(RegistryError) as caught:
        update_task(registry, "A", None, changes)
    assert [p.field for p in caught.value.problems] == [field]
    assert registry.read_text() == REGISTRY


def test_disabled_packs_are_written_in_settings(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print(1)\n")
    registry = tmp_path / "tasks.toml"
    registry.write_text(REGISTRY)
    set_disabled_packs(registry, ["builtin"])
    set_disabled_packs(registry, ["builtin", "some-pack"])
    assert registry.read_text().startswith(REGISTRY)
    assert load_registry(registry, strict=True).settings.disabled_packs == ["builtin", "some-pack"]
    set_disabled_packs(registry, [])
    assert load_registry(registry, strict=True).settings.disabled_packs == []


def test_status_reports_the_web_ui_and_ui_prints_it(host: Any) -> None:
    printed = re.search(r"^Web UI: (\S+)$", "".join(host.output), re.MULTILINE)
    assert printed
    info = next(h for h in live_hosts(host.env()) if h.pid == host.process.pid)
    web = ask(info, Status()).data["web"]
    assert web["url"] == printed.group(1)
    assert web["url"].startswith(f"http://127.0.0.1:{web['port']}/?token=")
    result = host.cli("ui", "--no-browser")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == printed.group(1)
    assert json.loads(host.cli("servers", "list", "--json").stdout)["servers"][0]["port"] == host.ports[0]
