"""A disk that fills during a transfer: instances that cannot be kept are refused (out of resources),
the node keeps serving, nothing indexed before is lost, and every instance acknowledged is indexed
once there is room again. The database lives on a small tmpfs mounted for this test (root only)."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE

from osirix_tasks.client.server_configs import free_port
from osirix_tasks.testing import running_host

from .peers import assert_same_instance, dcmtk, index_rows, make_image, stored_path, wait_until, write_series

pytestmark = pytest.mark.slow
SIZE_MB = 24


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of SIZE_MB, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}) - this test runs as root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_refuses_then_recovers(small_disk: Path, tmp_path: Path) -> None:
    port = free_port()
    home = tmp_path / "home"
    with running_host(home, "--empty", "--no-web", "--dicom-port", str(port), database=small_disk / "db") as host:
        first = write_series(
            tmp_path / "first",
            3,
            modality="CT",
            study=generate_uid(),
            series=generate_uid(),
            patient="Before^Full",
            description="before",
            sop_class=CTImageStorage,
            rows=64,
            columns=64,
        )
        dcmtk("storescu", "-aec", "OSIRIX_TASKS", "127.0.0.1", str(port), *map(str, first))
        wait_until(lambda: all(stored_path(host.database, pydicom.dcmread(f).SOPInstanceUID) for f in first))
        filler = small_disk / "filler"
        free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
        with open(filler, "wb") as handle:  # leave about 2 MB
            handle.write(b"\0" * max(free - 2 * 1024 * 1024, 0))
        statuses = _send_big_series(port, count=24)  # 24 x 512 KB: far more than is left
        assert 0xA700 in statuses.values(), statuses  # refused: out of resources
        dcmtk("echoscu", "-aec", "OSIRIX_TASKS", "127.0.0.1", str(port))  # still serving
        for original in first:  # what was indexed before is intact
            assert_same_instance(original, stored_path(host.database, pydicom.dcmread(original).SOPInstanceUID))
        filler.unlink()  # room again: every acknowledged instance gets indexed
        accepted = [uid for uid, status in statuses.items() if status == 0]
        wait_until(lambda: all(stored_path(host.database, uid) for uid in accepted), timeout=90)
        refused = [uid for uid, status in statuses.items() if status != 0]
        assert not any(stored_path(host.database, uid) for uid in refused)
        assert index_rows(host.database, "SELECT COUNT(*) FROM images")[0][0] == len(first) + len(accepted)
        assert any("free disk space" in line for line in host.output)
        dcmtk("echoscu", "-aec", "OSIRIX_TASKS", "127.0.0.1", str(port))


def _send_big_series(port: int, count: int) -> dict[str, int]:
    ae = AE(ae_title="FILLER")
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", port, ae_title="OSIRIX_TASKS")
    assert assoc.is_established
    statuses: dict[str, int] = {}
    study, series = generate_uid(), generate_uid()
    try:
        for number in range(1, count + 1):
            ds = make_image(
                modality="CT",
                study=study,
                series=series,
                number=number,
                rows=512,
                columns=512,
                patient="Fill^Disk",
                description="big",
                sop_class=CTImageStorage,
                seed=number,
            )
            status = assoc.send_c_store(ds)
            statuses[ds.SOPInstanceUID] = int(status.Status)
    finally:
        assoc.release()
    return statuses


def test_a_staging_folder_left_readable_is_tightened_and_received_files_are_private(tmp_path: Path) -> None:
    from osirix_tasks.dicomnode.receiver import STAGING_FOLDER, Receiver
    from osirix_tasks.emulator.database.index import Database

    db = Database(tmp_path / "db")
    (db.folder / STAGING_FOLDER).mkdir(mode=0o755)  # made by an earlier version, or by hand
    os.chmod(db.folder / STAGING_FOLDER, 0o755)
    receiver = Receiver(db, lambda arrivals: None)
    try:
        assert stat.S_IMODE(os.stat(receiver.staging).st_mode) == 0o700
        staged = receiver.stage([b"not read here"])
        assert stat.S_IMODE(os.stat(staged).st_mode) == 0o600 and staged.read_bytes() == b"not read here"
        staged.unlink()
    finally:
        receiver.close()
        db.close()
