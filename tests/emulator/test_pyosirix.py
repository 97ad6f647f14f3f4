"""Unmodified pyosirix (the published client) against the embedded OsiriX."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from osirix_tasks.testing import RunningHost


def run_pyosirix(host: RunningHost, code: str) -> dict:  # type: ignore[type-arg]
    """Run ``code`` with pyosirix in a fresh process whose HOME is the host's (so pyosirix finds
    the server on its own through server_configs.json); it prints one JSON object."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=host.env(), timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_pyosirix_finds_our_port_and_reads_the_database(host: RunningHost) -> None:
    assert host.cli("select", "--study", demo_study_uid()).returncode == 0
    result = run_pyosirix(
        host,
        """
        import json, osirix
        port = osirix.osirixgrpc_port_preference()
        version = osirix.osirix_version()
        studies, series = osirix.current_browser().database_selection()
        study = studies[0]
        s = study.series[0]
        images = s.sorted_images()
        print(json.dumps({
            "port": int(port), "version": version[0],
            "patient": study.patient_name, "study_name": study.study_name, "modalities": study.modalities,
            "images": study.number_of_images, "uid": study.patient_uid,
            "birth": study.date_of_birth.isoformat(), "date": study.date.isoformat(),
            "series": s.series_description, "series_uid": s.series_instance_uid, "n": len(images),
            "first_location": images[0].slice_location, "last_location": images[-1].slice_location,
            "width": images[0].width, "path": images[0].complete_path,
        }))
    """,
    )
    assert result["port"] == host.ports[0]
    assert result["version"].startswith("osirix-tasks")
    assert result["patient"] == "Demo Phantom"  # PN 'Demo^Phantom' as OsiriX shows it
    assert result["study_name"] == "Demo Brain Phantom"
    assert result["uid"] == "DEMO PHANTOM-DEMO-0001-19800101"
    assert result["modalities"] == "MR" and result["images"] == 24 and result["n"] == 24
    assert result["birth"] == "1980-01-01T00:00:00"
    assert result["date"] == "2024-01-15T09:35:12"
    assert result["series"] == "t1 axial demo" and result["series_uid"].endswith(" TE-12")
    assert result["first_location"] < result["last_location"]
    assert result["width"] == 128 and result["path"].startswith(str(host.database))


def test_pyosirix_sees_status_0_as_its_exception(host: RunningHost) -> None:
    result = run_pyosirix(
        host,
        """
        import json, osirix
        from osirix.exceptions import GrpcException
        try:
            osirix.frontmost_viewer()
            print(json.dumps({"raised": None}))
        except GrpcException as exc:
            print(json.dumps({"raised": str(exc)}))
    """,
    )
    assert result["raised"] == "No ViewerController active"


def demo_study_uid() -> str:
    from osirix_tasks.emulator.database.demo import _uid

    return _uid("study")


def test_pyosirix_drives_viewers_pixels_rois_and_3d(host: RunningHost) -> None:
    assert host.cli("select", "--study", demo_study_uid()).returncode == 0
    result = run_pyosirix(
        host,
        """
        import json
        import numpy as np
        import osirix
        browser = osirix.current_browser()
        studies, _ = browser.database_selection()
        images = studies[0].series[0].sorted_images()
        viewer = browser.open_viewer_2d(images)
        front = osirix.frontmost_viewer()
        pix = viewer.pix_list()[12]
        image = pix.image
        mask = np.zeros((20, 30), bool); mask[2:18, 3:27] = True
        roi = viewer.new_mask_roi(mask, buffer_position_column=40, buffer_position_row=50, idx=12, name="m")
        stats = pix.compute_roi(roi)
        inside = image[52:68, 43:67]
        rows, columns, values = pix.get_roi_values(roi)
        pix.image = image + 1
        after = pix.image
        ovals = [viewer.new_oval_roi((64, 64), 20, 10, idx=i, name="oval") for i in (10, 11, 12)]
        square = np.array([(50, 50), (70, 50), (70, 70), (50, 70)])
        for i in (10, 11, 12):
            viewer.new_polygon_roi(square, idx=i, name="tumour")
        vr = viewer.open_vr_viewer("MIP")
        volumes = vr.roi_volumes()
        result = {
            "same_front": front.pb2_object.osirixrpc_uid == viewer.pb2_object.osirixrpc_uid,
            "shape": list(image.shape), "mean_ok": bool(np.isclose(stats["mean"], inside.mean())),
            "std_ok": bool(np.isclose(stats["std_dev"], inside.std(), rtol=1e-5)),
            "count": int(len(values)), "values_ok": bool(np.array_equal(values, image[rows, columns])),
            "set_ok": bool(np.array_equal(after, image + 1)), "roi_type": roi.itype,
            "oval_area": ovals[0].roi_area(), "mode": vr.rendering_mode, "title": vr.title,
            "volumes": [v.name for v in volumes],
        }
        viewer.close()
        result["after_close"] = len(osirix.displayed_2d_viewers())
        print(json.dumps(result))
    """,
    )
    assert result["same_front"] and result["shape"] == [128, 128]
    assert result["mean_ok"] and result["std_ok"] and result["values_ok"] and result["set_ok"]
    assert result["count"] == 16 * 24 and result["roi_type"] == 20
    assert abs(result["oval_area"] - 3.14159 * 10 * 5 * 1.5 * 1.5 / 100) < 0.02
    assert result["mode"] == "MIP" and result["title"].startswith("3D Reconstruction: t1 axial demo")
    # ROIVolume.mm counts pencil, closed polygon and brush ROIs (not ovals), names in roiNames order.
    assert result["volumes"] == ["tumour", "m"] and result["after_close"] == 0
