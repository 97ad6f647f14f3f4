"""Pixel transfer: the heavy path of the OsiriXgrpc protocol.

(a) server side: one 512x512 DCMPixImage answer serialised by our fast path versus a servicer
    that fills ``image_data_float`` with ``extend`` (the obvious way). Goal: >= 40x.
(b) end to end through ``osirix-tasks serve``: a 40- and a 300-plane 512x512 float32 volume, each
    figure from the same run:
    - the tuned socket: a sender process sends one preallocated block over loopback TCP and the
      receiver reads it with ``recv_into`` into a preallocated, already-touched buffer (the wire's
      speed for Python);
    - the gRPC ceiling: a bare grpcio server process answering every call with a ready-made
      plane-sized message, read by a bare client with the same number of requests in flight (what
      grpcio itself reaches, with no work on either side);
    - our client: ``Connection.volume`` (bounded in-flight requests, planes decoded with
      ``frombuffer`` and copied once into the result), into a new array and into a reused one,
      and ``pixels()`` one plane at a time;
    - pyosirix 0.2.1b6, unmodified (a version call per method, decoding through protobuf).
    Goals: ours >= 50 % of the tuned socket and >= 3x pyosirix.

    python benchmarks/bench_pixels.py [--slices 40 300] [--repeat 20] [--skip-e2e]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from osirixgrpc import browsercontroller_pb2, dcmpix_pb2, utilities_pb2, viewercontroller_pb2
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from osirix_tasks.client import Connection
from osirix_tasks.client.server_configs import free_port
from osirix_tasks.emulator.workspace import Pix
from osirix_tasks.wire.options import CHANNEL_OPTIONS, IN_FLIGHT
from osirix_tasks.wire.pixel_encode import PixImage

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


_SENDER = """
import socket, sys
total, port = int(sys.argv[1]), int(sys.argv[2])
block = bytearray(total)  # preallocated, touched: sent as it is
with socket.create_connection(("127.0.0.1", port)) as connection:
    for _ in range(int(sys.argv[3])):
        connection.sendall(block)
        connection.recv(1)  # the receiver's go for the next round
"""


def tuned_socket(total_bytes: int, rounds: int) -> float:
    """Best seconds to move ``total_bytes`` from another process over loopback TCP (``recv_into``
    into a preallocated buffer, reads of up to 16 MB)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        sender = subprocess.Popen(
            [sys.executable, "-c", _SENDER, str(total_bytes), str(server.getsockname()[1]), str(rounds)]
        )
        connection, _ = server.accept()
        buffer = bytearray(total_bytes)
        view = memoryview(buffer)
        times = []
        with connection:
            for _ in range(rounds):
                start = time.perf_counter()
                received = 0
                while received < total_bytes:
                    received += connection.recv_into(view[received:], min(1 << 24, total_bytes - received))
                times.append(time.perf_counter() - start)
                connection.sendall(b"n")
        sender.wait(timeout=60)
    return min(times)


_BARE_SERVER = """
import sys
from concurrent.futures import ThreadPoolExecutor
import grpc
from osirix_tasks.wire.memory import tune_allocator
tune_allocator()  # as our host does
answer = bytes(int(sys.argv[1]))  # ready-made, plane-sized
handler = grpc.method_handlers_generic_handler(
    "bench.Bare", {"Plane": grpc.unary_unary_rpc_method_handler(lambda request, context: answer)}
)
server = grpc.server(ThreadPoolExecutor(8), handlers=[handler], options=[("grpc.max_send_message_length", 1 << 29)])
print(server.add_insecure_port("127.0.0.1:0"), flush=True)
server.start()
server.wait_for_termination()
"""


def grpc_ceiling(planes: int, plane_bytes: int, in_flight: int, repeat: int) -> float:
    """Best seconds for a bare grpcio client to fetch ``planes`` ready-made answers from a bare
    grpcio server process, ``in_flight`` at a time, without decoding them."""
    from collections import deque

    import grpc

    server = subprocess.Popen([sys.executable, "-c", _BARE_SERVER, str(plane_bytes)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
        plane = channel.unary_unary("/bench.Bare/Plane")

        def fetch() -> None:
            pending: deque[grpc.Future] = deque(plane.future(b"") for _ in range(min(in_flight, planes)))
            for index in range(planes):
                pending.popleft().result()
                if index + len(pending) + 1 < planes:
                    pending.append(plane.future(b""))

        fetch()
        seconds = best(fetch, repeat)
        channel.close()
        return seconds
    finally:
        server.kill()
        server.wait()


def end_to_end(slice_counts: list[int], repeat: int) -> None:
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
                measure(port, slices, env, repeat)
            finally:
                host.terminate()
                host.wait(timeout=60)


def measure(port: int, slices: int, env: dict[str, str], repeat: int) -> None:
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
    plane_bytes = SIZE * SIZE * 4
    total = slices * plane_bytes
    megabytes = total / 1e6

    volume = connection.volume(pix)
    ours = best(lambda: connection.volume(pix), repeat)
    reused = best(lambda: connection.volume(pix, out=volume), repeat)
    sequential = best(lambda: [connection.pixels(p) for p in pix], max(2, repeat // 3))

    os.environ.update(HOME=env["HOME"])
    from osirix.osirix_utilities import OsirixService
    from osirix.viewer_controller import ViewerController

    service = OsirixService(port=port)
    service.start_service()
    py_pix = ViewerController(service, viewer).pix_list()
    py_volume = np.stack([p.image for p in py_pix])
    assert np.array_equal(py_volume.astype(np.float32), volume)
    pyosirix_time = best(lambda: np.stack([p.image for p in py_pix]), 2)
    connection.close()
    service.stop_service()

    socket_time = tuned_socket(total, repeat)
    ceiling = grpc_ceiling(slices, plane_bytes + 12, IN_FLIGHT, repeat)
    print(f"    {slices} planes ({megabytes:.0f} MB), best of {repeat}:")
    for label, seconds in (
        ("tuned socket (recv_into)", socket_time),
        (f"gRPC ceiling (bare, {IN_FLIGHT} in flight)", ceiling),
        ("osirix-tasks volume(), new array", ours),
        ("osirix-tasks volume(out=reused)", reused),
        ("osirix-tasks pixels() one by one", sequential),
        ("pyosirix 0.2.1b6", pyosirix_time),
    ):
        print(
            f"      {label:36s} {seconds:7.3f} s  {total / seconds / 1e9:6.2f} GB/s  "
            f"{socket_time / seconds * 100:5.0f} % of the socket"
        )
    print(
        f"      volume(): {socket_time / ours * 100:.0f} % of the tuned socket (goal >= 50 %), "
        f"{ceiling / ours * 100:.0f} % of the gRPC ceiling, {pyosirix_time / ours:.1f}x pyosirix (goal >= 3x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slices", type=int, nargs="+", default=[40, 300])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--skip-e2e", action="store_true")
    options = parser.parse_args()
    server_side(options.repeat)
    if not options.skip_e2e:
        end_to_end(options.slices, max(3, options.repeat // 4))


if __name__ == "__main__":
    main()
