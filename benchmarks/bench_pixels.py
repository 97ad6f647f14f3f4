"""Pixel transfer: the heavy path of the OsiriXgrpc protocol.

(a) server side: one 512x512 DCMPixImage answer serialised by our fast path versus a servicer
    that fills ``image_data_float`` with ``extend`` (the obvious way). Goal: >= 40x.
(b) end to end through ``osirix-tasks serve``: a 40- and a 300-slice 512x512 volume fetched by
    our client (frombuffer decoding, requests in flight concurrently), by pyosirix (its extra
    version call per method, decoding through the protobuf container), and by a raw loopback TCP
    socket moving the same number of bytes. Goal: >= half the socket's throughput, clearly
    ahead of pyosirix.

    python benchmarks/bench_pixels.py [--slices 40 300] [--skip-e2e]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pydicom
from osirixgrpc import browsercontroller_pb2, dcmpix_pb2, utilities_pb2, viewercontroller_pb2
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from osirix_tasks.client import Connection
from osirix_tasks.client.server_configs import free_port
from osirix_tasks.server.fastpix import PixImage
from osirix_tasks.server.workspace import Pix

SIZE = 512


def best(func, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def server_side(repeat: int) -> None:
    data = np.random.default_rng(0).normal(100, 30, size=(SIZE, SIZE)).astype(np.float32)
    pix = Pix(data, (1, 1), (0, 0, 0), (1, 0, 0, 0, 1, 0, 0, 0, 1), 0, "", None, None, None)

    def obvious() -> bytes:
        response = dcmpix_pb2.DCMPixImageResponse(rows=SIZE, columns=SIZE)
        response.status.status = 1
        response.image_data_float.extend(pix.data.ravel())
        return bytes(response.SerializeToString())

    def obvious_tolist() -> bytes:
        response = dcmpix_pb2.DCMPixImageResponse(rows=SIZE, columns=SIZE)
        response.status.status = 1
        response.image_data_float.extend(pix.data.ravel().tolist())
        return bytes(response.SerializeToString())

    def fast() -> bytes:
        return PixImage(pix).serialize()

    assert fast() == obvious() == obvious_tolist()
    t_fast, t_obvious, t_list = best(fast, repeat), best(obvious, repeat), best(obvious_tolist, repeat)
    print(f"(a) server side, one {SIZE}x{SIZE} DCMPixImage answer (best of {repeat}):")
    print(f"    extend(ndarray) + SerializeToString: {t_obvious * 1e3:8.2f} ms")
    print(f"    extend(tolist()) + SerializeToString: {t_list * 1e3:7.2f} ms")
    print(f"    fast path (tobytes):                  {t_fast * 1e3:7.3f} ms")
    print(f"    speed-up: {t_obvious / t_fast:.0f}x over extend(ndarray), {t_list / t_fast:.0f}x over extend(tolist())")


def write_series(folder: Path, slices: int) -> None:
    folder.mkdir(parents=True)
    study, series = generate_uid(), generate_uid()
    base = np.random.default_rng(1).integers(0, 4000, size=(SIZE, SIZE), dtype=np.uint16)
    for index in range(slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"{index}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.PatientName, ds.SeriesDescription = "MR", "Bench^Volume", f"bench {slices}"
        ds.InstanceNumber = index + 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, float(index)], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.Rows, ds.Columns = [0.5, 0.5], SIZE, SIZE
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = np.roll(base, index, axis=0).tobytes()
        pydicom.dcmwrite(ds.filename, ds, enforce_file_format=True)


def socket_baseline(total_bytes: int, chunk: int) -> float:
    """Seconds to move ``total_bytes`` over a loopback TCP socket in ``chunk``-sized messages."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    payload = b"\x01" * chunk

    def send() -> None:
        connection, _ = server.accept()
        with connection:
            sent = 0
            while sent < total_bytes:
                connection.sendall(payload)
                sent += chunk

    thread = threading.Thread(target=send)
    thread.start()
    client = socket.create_connection(server.getsockname())
    buffer = bytearray(total_bytes)
    view = memoryview(buffer)
    start = time.perf_counter()
    received = 0
    while received < total_bytes:
        received += client.recv_into(view[received:], min(1 << 20, total_bytes - received))
    elapsed = time.perf_counter() - start
    client.close()
    thread.join()
    server.close()
    return elapsed


def end_to_end(slice_counts: list[int]) -> None:
    print("(b) end to end through 'osirix-tasks serve' (512x512 float32 slices, loopback):")
    for slices in slice_counts:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_series(root / "series", slices)
            port = free_port()
            env = {**os.environ, "HOME": str(root), "OSIRIX_TASKS_HOME": str(root)}
            host = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "osirix_tasks",
                    "serve",
                    "--empty",
                    "--port",
                    str(port),
                    "--database",
                    str(root / "db"),
                    "--import",
                    str(root / "series"),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=env,
            )
            try:
                assert host.stdout is not None
                while not host.stdout.readline().startswith("Listening"):
                    pass
                measure(port, slices, env)
            finally:
                host.terminate()
                host.wait(timeout=60)


def measure(port: int, slices: int, env: dict[str, str]) -> None:
    connection = Connection(port)
    stub = connection.stub
    browser = stub.OsirixCurrentBrowser(utilities_pb2.Empty()).browser_controller
    [study] = stub.BrowserControllerDatabaseStudies(browser).studies
    [series] = stub.DicomStudySeries(study).series
    images = stub.DicomSeriesSortedImages(series).sorted_images
    frames = [browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(images=images)]
    viewer = stub.BrowserControllerOpenViewerFromImages(
        browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(browser=browser, frames=frames)
    ).viewer
    pix = stub.ViewerControllerPixList(
        viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer)
    ).pix
    megabytes = slices * SIZE * SIZE * 4 / 1e6

    ours = best(lambda: connection.volume(pix), 3)
    volume = connection.volume(pix)
    sequential = best(lambda: [connection.pixels(p) for p in pix], 2)

    os.environ.update(HOME=env["HOME"])
    from osirix.osirix_utilities import OsirixService
    from osirix.viewer_controller import ViewerController

    service = OsirixService(port=port)
    service.start_service()
    py_viewer = ViewerController(service, viewer)
    py_pix = py_viewer.pix_list()
    start = time.perf_counter()
    py_volume = np.stack([p.image for p in py_pix])
    pyosirix_time = time.perf_counter() - start
    assert np.array_equal(py_volume.astype(np.float32), volume)

    raw = best(lambda: socket_baseline(int(megabytes * 1e6), SIZE * SIZE * 4), 3)
    print(f"    {slices} slices ({megabytes:.0f} MB):")
    for label, seconds in (
        ("raw loopback socket", raw),
        ("osirix-tasks client, concurrent", ours),
        ("osirix-tasks client, one by one", sequential),
        ("pyosirix", pyosirix_time),
    ):
        print(f"      {label:33s} {seconds:7.3f} s  {megabytes / seconds:8.0f} MB/s  {raw / seconds:6.2f}x socket")
    print(f"      our client vs pyosirix: {pyosirix_time / ours:.1f}x faster")
    connection.close()
    service.stop_service()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slices", type=int, nargs="+", default=[40, 300])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--skip-e2e", action="store_true")
    options = parser.parse_args()
    server_side(options.repeat)
    if not options.skip_e2e:
        end_to_end(options.slices)


if __name__ == "__main__":
    main()
