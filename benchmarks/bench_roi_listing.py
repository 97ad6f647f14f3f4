"""The page's ROI listing and its change polling, against the ways they were done before, in one run.

1. ROIs of one plane with everything the viewer draws (type, name, colour, opacity, thickness, points,
   area, mean): ``client.roi_listing.list_rois(drawing=True)``, whose calls are sent together wave by
   wave, versus the same calls made one after the other (the page's former reader: about nine calls
   per ROI, each waiting for its answer).
2. Polling for changes: the host's change counters (``WhatChanged`` over the control channel, what
   ``GET /api/changes`` asks) versus reading the displayed plane and hashing it (the former digest).

Ratios are against the baseline measured in the same run (timings on a busy machine are noisy).

    python benchmarks/bench_roi_listing.py [--rois 40] [--rounds 20]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from osirixgrpc import dcmpix_pb2, viewercontroller_pb2

from osirix_tasks.client import Connection
from osirix_tasks.client.roi_listing import list_rois
from osirix_tasks.client.viewer_tools import add_roi, open_series
from osirix_tasks.host.control import ask, live_hosts
from osirix_tasks.host.control_protocol import WhatChanged
from osirix_tasks.testing import running_host
from osirix_tasks.vocabulary import roi_type


def one_by_one(connection: Connection, viewer: Any, frame: int, plane: int) -> list[dict[str, Any]]:
    """The former way: every property of every ROI asked for in turn."""
    call = connection.call
    request = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=frame)
    rois = call("ViewerControllerROIList", request).roi_slices[plane].rois
    selected = {r.osirixrpc_uid for r in call("ViewerControllerSelectedROIs", viewer).rois}
    found = []
    for roi in rois:
        itype = call("ROIIType", roi).itype
        info = {
            "itype": itype,
            "name": call("ROIName", roi).name,
            "color": call("ROIColor", roi),
            "opacity": call("ROIOpacity", roi).opacity,
            "thickness": call("ROIThickness", roi).thickness,
            "points": [[p.x, p.y] for p in call("ROIPoints", roi).points],
            "selected": roi.osirixrpc_uid in selected,
        }
        kind = roi_type(itype)
        if kind is not None and kind.closed:
            pix = call("ROIPix", roi).pix
            info["area"] = call("ROIArea", roi).area
            info["mean"] = call("DCMPixComputeROI", dcmpix_pb2.DCMPixComputeROIRequest(pix=pix, roi=roi)).mean
        found.append(info)
    return found


def timed(work: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rois", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_host(Path(tmp), "--demo") as host:
        info = next(h for h in live_hosts(host.env()) if h.pid == host.process.pid)
        with Connection(host.address) as connection:
            viewer = open_series(connection)
            plane = int(connection.call("ViewerControllerIdx", viewer).idx)
            for n in range(options.rois):
                x, y = 10 + (n % 8) * 13, 10 + (n // 8) * 13
                add_roi(connection, "oval" if n % 2 else "rectangle", name=f"r{n}", box=(x, y, 10, 10), viewer=viewer)
            listed = list_rois(connection, viewer, frame=0, plane=plane, drawing=True)
            assert len(listed) == options.rois == len(one_by_one(connection, viewer, 0, plane))
            batched = timed(lambda: list_rois(connection, viewer, frame=0, plane=plane, drawing=True), options.rounds)
            serial = timed(lambda: one_by_one(connection, viewer, 0, plane), options.rounds)
            pixes = connection.call(
                "ViewerControllerPixList",
                viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=0),
            ).pix
            shown = pixes[plane]
            hashing = timed(
                lambda: hashlib.blake2b(connection.pixels(shown).tobytes(), digest_size=8).hexdigest(), options.rounds
            )
            counters = timed(lambda: ask(info, WhatChanged(since=0)), options.rounds)
    print(f"1. ROI listing of one plane with {options.rois} ROIs (median of {options.rounds}):")
    print(f"   one call after another (baseline): {serial * 1000:8.2f} ms")
    print(f"   calls sent together:               {batched * 1000:8.2f} ms   ({serial / batched:.1f}x faster)")
    print(f"2. Polling for a change of the displayed plane (median of {options.rounds}):")
    print(f"   read + hash the plane (baseline):  {hashing * 1000:8.2f} ms")
    print(f"   the host's change counters:        {counters * 1000:8.2f} ms   ({hashing / counters:.1f}x faster)")


if __name__ == "__main__":
    main()
