"""Helpers shared by the test rooms (fixtures live in ``conftest.py``)."""

from __future__ import annotations

from typing import Any


def ok(response: Any) -> Any:
    """The response, after asserting that OsiriX answered status 1 (the message is the assertion's)."""
    assert response.status.status == 1, response.status.message
    return response


def copy_series(source: list[Any], folder: Any, tag: str, **tags: Any) -> list[Any]:
    """Rewrite DICOM files into ``folder`` as a series of their own (new study, series and instance
    UIDs derived from ``tag``), with ``tags`` set (``None`` deletes a tag); returns the new paths."""
    from pathlib import Path

    import pydicom
    from pydicom.uid import generate_uid

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    study, series = generate_uid(entropy_srcs=[tag, "study"]), generate_uid(entropy_srcs=[tag, "series"])
    for index, path in enumerate(source):
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[tag, str(index)])
        for keyword, value in tags.items():
            if value is None:
                if keyword in ds:
                    delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        target = out / Path(path).name
        ds.save_as(target)
        written.append(target)
    return written


def proc_status_mb(pid: int, key: str = "VmHWM") -> float:
    """A memory line of /proc/PID/status in MB (Linux): VmRSS now, VmHWM the peak so far."""
    from pathlib import Path

    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024 / 1_000_000
    raise AssertionError(f"no {key} for {pid}")


def reference_spline(vertices: Any, closed: bool, scale: float = 5.0) -> Any:
    """ROI.m's spline through ``vertices``, computed independently: the second derivatives solved as
    the dense linear system the tridiagonal sweep of ``spline()`` solves (diagonal 4, the chord ratios
    beside it), each interval sampled at 0, 1, ... floor(scale x its length) as ``a + b j + c (j j) +
    d (j j j)``."""
    import math

    import numpy as np

    points = [tuple(v) for v in vertices]
    p = np.array(points + points[:1] if closed else points, dtype=float)
    padded = np.vstack([p[-2], p, p[1]])
    h = np.linalg.norm(np.diff(padded, axis=0), axis=1) * scale
    d = np.concatenate([[0.0], np.cumsum(h)])
    n = len(padded) - 2
    matrix = 4 * np.eye(n)
    for j in range(1, n + 1):
        if j >= 2:
            matrix[j - 1, j - 2] = 2 * h[j - 1] / (h[j] + h[j - 1])
        if j <= n - 1:
            matrix[j - 1, j] = 2 * h[j] / (h[j] + h[j - 1])
    slope = np.diff(padded, axis=0) / np.diff(d)[:, None]
    rhs = 6 * (slope[1:] - slope[:-1]) / (d[2:] - d[:-2])[:, None]
    second = np.zeros((n + 2, 2))
    second[1 : n + 1] = np.linalg.solve(matrix, rhs)
    curve = []
    for i in range(1, n):
        step = h[i]
        cubic = (second[i + 1] - second[i]) / (3 * step)
        linear = (padded[i + 1] - padded[i]) / step - step / 3 * (second[i + 1] + 2 * second[i])
        t = np.arange(0, math.floor(step) + 1, dtype=np.int64)[:, None]
        curve.append(padded[i] + linear * t + second[i] * (t * t) + cubic * (t * t * t))
    return np.vstack(curve)


def float32_area(points: Any) -> float:
    """ROI.m ``-Area:`` as a plain loop in single precision: area += x_i y_j, area -= y_i x_j, each
    product of two floats rounded to float, then |area x 0.5|."""
    import numpy as np

    xs, ys = np.asarray(points)[:, 0].astype(np.float32), np.asarray(points)[:, 1].astype(np.float32)
    area = np.float32(0)
    for i in range(len(xs)):
        j = (i + 1) % len(xs)
        area = np.float32(area + np.float32(xs[i] * ys[j]))
        area = np.float32(area - np.float32(ys[i] * xs[j]))
    return float(abs(np.float32(area * np.float32(0.5))))


def seg_evidence(path: Any) -> Any:
    """A DICOM file read as the source of a highdicom SEG (the type-2 study attributes highdicom wants
    present, empty when the file lacks them)."""
    import pydicom

    ds = pydicom.dcmread(path)
    for keyword in ("AccessionNumber", "StudyID", "ReferringPhysicianName"):
        if keyword not in ds:
            setattr(ds, keyword, "")
    return ds


def foreign_seg(sources: list[Any], labels: Any, descriptions: list[Any], series_number: int = 40) -> Any:
    """A binary SEG of ``sources`` (datasets) as another tool writes it with highdicom."""
    import highdicom as hd

    return hd.seg.Segmentation(
        source_images=sources,
        pixel_array=labels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="another tool",
        manufacturer_model_name="test",
        software_versions="1",
        device_serial_number="1",
    )
