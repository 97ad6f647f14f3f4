"""A bulk save (many planes at once) is encoded by worker processes: the files are the same ROIs,
valid, indexed; a worker that dies leaves its planes to the saver's thread, and nothing is lost."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pydicom
import pytest

from osirix_tasks.emulator.roi_store import encoders
from osirix_tasks.emulator.roi_store.planes import EncodeJob, encode_plane
from osirix_tasks.roidicom.evidence import source_header
from osirix_tasks.roidicom.private import read_document
from osirix_tasks.roidicom.records import PlaneKey, RoiRecord, SourceImage
from osirix_tasks.roidicom.sr import PlaneRois
from tests.emulator.test_roi_store_files import Osirix, database, demo_files, draw, everything  # noqa: F401

pytestmark = pytest.mark.slow


def _die() -> None:
    os._exit(3)  # a worker killed as it starts (out of memory, a signal)


def _dying_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_die)


def _jobs(files: list[Path], folder: Path) -> list[EncodeJob]:
    jobs = []
    for index, path in enumerate(files):
        header = source_header(path)
        key = PlaneKey(str(header.SOPInstanceUID), 0)
        brush = RoiRecord(20, f"brush {index}", texture=np.ones((4, 5), dtype=bool), texture_origin=(10, 12))
        brush.tracking_uid = str(pydicom.uid.generate_uid())
        oval = RoiRecord(9, f"oval {index}", rect=(40.0 + index, 50.0, 6.0, 4.0))
        source = SourceImage(str(path), key, int(header.Rows), int(header.Columns), index)
        jobs.append(EncodeJob(str(header.StudyInstanceUID), folder, header, PlaneRois(source, [oval, brush])))
    return jobs


def _stored(path: Path) -> list[str]:
    document = read_document(pydicom.dcmread(path))
    assert document is not None
    return [r["name"] for p in document["planes"] for r in p["rois"]]


def test_workers_write_what_the_saver_thread_would(demo_files: list[Path], tmp_path: Path) -> None:  # noqa: F811
    jobs = _jobs(demo_files[:6], tmp_path / "pool")
    results = list(encoders.encode_all(jobs, bulk=2))
    assert [job for job, _ in results] == jobs  # in order
    local = [encode_plane(job) for job in _jobs(demo_files[:6], tmp_path / "local")]
    for (_, done), alone in zip(results, local, strict=True):
        assert not isinstance(done, BaseException), done
        assert done.key == alone.key and done.seg_path is not None
        assert _stored(done.sr_path) == _stored(alone.sr_path)
        seg = pydicom.dcmread(done.seg_path)
        assert np.array_equal(seg.pixel_array, pydicom.dcmread(alone.seg_path).pixel_array)


def test_a_dead_worker_leaves_its_planes_to_the_saver_thread(demo_files: list[Path], tmp_path: Path) -> None:  # noqa: F811
    jobs = _jobs(demo_files[:4], tmp_path / "files")
    results = list(encoders.encode_all(jobs, bulk=2, pool_factory=_dying_pool))
    assert [job for job, _ in results] == jobs
    for index, (_, done) in enumerate(results):
        assert not isinstance(done, BaseException), done
        assert _stored(done.sr_path) == [f"oval {index}", f"brush {index}"]


def test_a_bulk_save_through_the_protocol_reads_back_the_same(
    database: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(encoders, "BULK", 8)  # a bulk save of 24 ROIs on 12 planes
    started: list[int] = []
    real_pool = encoders._pool
    monkeypatch.setattr(encoders, "_pool", lambda workers: started.append(workers) or real_pool(workers))
    first = Osirix(database)
    viewer = first.open()
    store = first.state.roi_store
    store.enabled = False  # nothing saved while drawing: the closing viewer saves its 12 planes at once
    for idx in range(0, 24, 2):
        draw(first, viewer, 9, idx, f"cyst {idx}", rect=(30 + idx, 40, 8, 5))
        draw(first, viewer, 20, idx, f"paint {idx}", mask=np.ones((3, 4), dtype=bool), at=(5 + idx, 7))
    before = everything(first, viewer)
    store.enabled = True
    store.closing(first.state.cache.lookup(viewer.osirixrpc_uid)[1])
    assert store.flush()
    assert started and len(first.stored_files()) == 24  # by workers: an SR and a SEG per plane

    second = Osirix(database)
    assert everything(second, second.open()) == before
