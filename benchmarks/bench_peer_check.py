"""The gRPC peer check (other users' processes refused, ``host/peer_check.py``) versus no check.

Two gRPC servers in this process serve the same embedded OsiriX state (an empty database): one with
the peer check, one without (``--allow-other-users``). One client calls ``OsirixVersion`` on each in
turn, rounds interleaved so that the machine's load falls on both alike; the ratio of the medians is
the cost of the check (the owner of the peer's socket is asked from the kernel on every call, by
sock_diag netlink). Then a client that opens a new connection for every call.

    python benchmarks/bench_peer_check.py [--calls 500] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
from osirixgrpc import osirix_pb2_grpc
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.client.server_configs import free_port
from osirix_tasks.emulator.database.index import Database
from osirix_tasks.emulator.rpc.servicer import build_handler
from osirix_tasks.emulator.state import OsirixState
from osirix_tasks.host.peer_check import PeerCheck, checks_peers


def serve(handler: Any, checked: bool) -> tuple[grpc.Server, int]:
    port = free_port()
    interceptors = [PeerCheck(port)] if checked else None
    server = grpc.server(ThreadPoolExecutor(max_workers=4), handlers=[handler], interceptors=interceptors)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, port


def per_call(port: int, calls: int, new_connection: bool) -> float:
    if new_connection:
        started = time.perf_counter()
        for _ in range(calls):
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                osirix_pb2_grpc.OsiriXServiceStub(channel).OsirixVersion(Empty())
        return (time.perf_counter() - started) / calls
    stub = osirix_pb2_grpc.OsiriXServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    stub.OsirixVersion(Empty())
    started = time.perf_counter()
    for _ in range(calls):
        stub.OsirixVersion(Empty())
    return (time.perf_counter() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if not checks_peers():
        print("this system does not tell the owner of a peer socket: no check to measure")
        return
    with tempfile.TemporaryDirectory() as folder:
        handler = build_handler(OsirixState(Database(Path(folder) / "db")))
        checked, checked_port = serve(handler, True)
        plain, plain_port = serve(handler, False)
        for label, fresh, calls in (("one connection", False, args.calls), ("a connection per call", True, 50)):
            times: dict[str, list[float]] = {"checked": [], "unchecked": []}
            for _ in range(args.rounds):
                times["checked"].append(per_call(checked_port, calls, fresh))
                times["unchecked"].append(per_call(plain_port, calls, fresh))
            medians = {k: statistics.median(v) for k, v in times.items()}
            print(
                f"{label:>22}: checked {medians['checked'] * 1e6:8.1f} us/call, unchecked "
                f"{medians['unchecked'] * 1e6:8.1f} us/call, ratio {medians['checked'] / medians['unchecked']:.2f}"
            )
        checked.stop(None)
        plain.stop(None)


if __name__ == "__main__":
    main()
