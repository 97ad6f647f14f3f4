"""Load the embedded OsiriX: N client processes making M mixed calls each against one host.

The mix per client: database reads (study, series, image attributes), viewer reads, pixel
fetches (DCMPixImage), ROI statistics, and ROI creation followed by deletion. Reports calls/s,
p50/p99 latency, errors (status 0 or gRPC errors), and the host's memory before and after (once
every ROI made by the load is deleted). Goal: 0 errors, memory after within 10 % of before.

    python benchmarks/bench_load.py [--processes 8] [--calls 10000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import psutil
from osirixgrpc import dcmpix_pb2, osirix_pb2_grpc, types_pb2, utilities_pb2, viewercontroller_pb2

from osirix_tasks.client.server_configs import free_port

VC = viewercontroller_pb2
EMPTY = utilities_pb2.Empty()


def worker(port: int, calls: int, seed: int, viewer_uid: str, queue: Any) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 1 << 29)])
    stub = osirix_pb2_grpc.OsiriXServiceStub(channel)
    rng = random.Random(seed)
    viewer = types_pb2.ViewerController(osirixrpc_uid=viewer_uid)
    browser = stub.OsirixCurrentBrowser(EMPTY).browser_controller
    [study] = stub.BrowserControllerDatabaseStudies(browser).studies
    [series] = stub.DicomStudySeries(study).series
    images = list(stub.DicomSeriesImages(series).images)
    pix = list(stub.ViewerControllerPixList(VC.ViewerControllerPixListRequest(viewer_controller=viewer)).pix)
    latencies: list[float] = []
    errors = 0
    made = 0

    def timed(rpc: str, request: Any) -> Any:
        nonlocal errors
        started = time.perf_counter()
        try:
            answer = getattr(stub, rpc)(request, timeout=60)
        except grpc.RpcError:
            errors += 1
            answer = None
        latencies.append(time.perf_counter() - started)
        if answer is not None and answer.status.status != 1:
            errors += 1
        return answer

    while len(latencies) < calls:
        kind = rng.random()
        if kind < 0.35:
            rpc, ref = rng.choice(
                [
                    ("DicomStudyName", study),
                    ("DicomStudyDate", study),
                    ("DicomSeriesName", series),
                    ("DicomSeriesNumberOfImages", series),
                ]
            )
            timed(rpc, ref)
            image = rng.choice(images)
            timed(rng.choice(["DicomImageSliceLocation", "DicomImageSOPInstanceUID", "DicomImageDate"]), image)
        elif kind < 0.5:
            timed(rng.choice(["ViewerControllerIdx", "ViewerControllerWLWW", "ViewerControllerTitle"]), viewer)
        elif kind < 0.7:
            timed("DCMPixImage", rng.choice(pix))
        else:
            index = rng.randrange(len(pix))
            answer = timed(
                "ViewerControllerNewROI",
                VC.ViewerControllerNewROIRequest(
                    viewer_controller=viewer,
                    itype=rng.choice([6, 9, 11]),
                    idx=index,
                    name=f"load-{seed}",
                    rectangle=VC.ViewerControllerNewROIRequest.Rect(
                        origin_x=rng.uniform(0, 80),
                        origin_y=rng.uniform(0, 80),
                        width=rng.uniform(2, 30),
                        height=rng.uniform(2, 30),
                    ),
                    points=[
                        VC.ViewerControllerNewROIRequest.Point2D(x=rng.uniform(0, 120), y=rng.uniform(0, 120))
                        for _ in range(5)
                    ],
                ),
            )
            if answer is not None and answer.status.status == 1:
                made += 1
                timed("DCMPixComputeROI", dcmpix_pb2.DCMPixComputeROIRequest(pix=pix[index], roi=answer.roi))
                timed("ROIArea", answer.roi)
                timed("ROIDelete", answer.roi)
    channel.close()
    queue.put((latencies, errors, made))


def host_memory(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--calls", type=int, default=10_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {**os.environ, "HOME": str(root), "OSIRIX_TASKS_HOME": str(root), "XDG_DATA_HOME": str(root / "data")}
        port = free_port()
        host = subprocess.Popen(
            [sys.executable, "-m", "osirix_tasks", "serve", "--demo", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert host.stdout is not None
            while not host.stdout.readline().startswith("Listening"):
                pass
            from osirix_tasks.emulator.database.demo import _uid

            subprocess.run(
                [sys.executable, "-m", "osirix_tasks", "open", _uid("series")], check=True, env=env, capture_output=True
            )
            stub = osirix_pb2_grpc.OsiriXServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
            viewer_uid = stub.OsirixFrontmostViewer(EMPTY).viewer_controller.osirixrpc_uid
            # warm-up, so that 'before' includes what any first use allocates
            warm: Any = multiprocessing.Queue()
            worker(port, 2000, 999, viewer_uid, warm)
            warm.get()
            time.sleep(0.5)
            before = host_memory(host.pid)
            queue: Any = multiprocessing.Queue()
            processes = [
                multiprocessing.Process(target=worker, args=(port, options.calls, n, viewer_uid, queue))
                for n in range(options.processes)
            ]
            started = time.perf_counter()
            for process in processes:
                process.start()
            results = [queue.get() for _ in processes]
            elapsed = time.perf_counter() - started
            for process in processes:
                process.join()
            time.sleep(0.5)
            after = host_memory(host.pid)
            listing = stub.ViewerControllerROIList(
                VC.ViewerControllerROIListRequest(
                    viewer_controller=types_pb2.ViewerController(osirixrpc_uid=viewer_uid)
                )
            )
            left = sum(len(s.rois) for s in listing.roi_slices)
            cached = len(stub.OsirixCacheUids(EMPTY).uids)
        finally:
            host.terminate()
            host.wait(timeout=60)
    latencies = np.array([t for r in results for t in r[0]])
    errors = sum(r[1] for r in results)
    made = sum(r[2] for r in results)
    print(
        f"{options.processes} client processes x {options.calls} mixed calls = {latencies.size} calls "
        f"in {elapsed:.1f} s on {os.cpu_count()} cores"
    )
    print(f"throughput: {latencies.size / elapsed:,.0f} calls/s")
    print(
        f"latency: p50 {np.percentile(latencies, 50) * 1e3:.2f} ms, p99 {np.percentile(latencies, 99) * 1e3:.2f} ms, "
        f"max {latencies.max() * 1e3:.1f} ms"
    )
    print(f"errors: {errors}")
    print(f"ROIs created and deleted: {made}; ROIs left in the viewer: {left}; uids cached after: {cached}")
    print(
        f"host memory (RSS): before {before / 1e6:.1f} MB, after {after / 1e6:.1f} MB "
        f"({(after - before) / before * 100:+.1f} %)"
    )


if __name__ == "__main__":
    main()
