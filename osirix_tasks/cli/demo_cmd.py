"""``osirix-tasks demo``: the embedded OsiriX with its demo data, driven by a builtin task.

This first version runs the builtin Database task in this process against a host it starts
(or one already running); the runner, with one task of each type in its own process, replaces
it when the runner lands.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import time
from collections.abc import Iterator

import click
import grpc
from osirixgrpc import osirix_pb2_grpc, utilities_pb2

from ..catalog import build_catalog
from ..client import check
from ..context import TaskContext
from ..decorators import load_task_function
from ..model import TaskType
from ..server.control import live_hosts, send
from ..server.demo import _uid as demo_uid
from ..server.servicer import MAX_MESSAGE_BYTES
from ._common import AppState, fail, pass_state


@contextlib.contextmanager
def _host(keep: bool) -> Iterator[int]:
    hosts = live_hosts()
    for info in hosts:
        ports = send(info, {"op": "status"})["ports"]
        if ports:
            click.echo(f"Using the embedded OsiriX already running (pid {info.pid}) on port {ports[0]}")
            yield ports[0]
            return
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "osirix_tasks", "serve", "--demo", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               start_new_session=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    while line and not line.startswith("Listening on"):
        line = process.stdout.readline()
    if not line:
        fail(f"the embedded OsiriX did not start (exit code {process.wait()}) - run 'osirix-tasks serve' to see why")
    click.echo(f"Started an embedded OsiriX with the demo data (pid {process.pid}) on 127.0.0.1:{port}")
    try:
        yield port
    finally:
        if keep:
            click.echo(f"Left it running: stop it with 'kill {process.pid}' or 'osirix-tasks servers stop {port}'")
        else:
            process.terminate()
            process.wait(timeout=30)


@click.command()
@click.option("--keep", is_flag=True, help="Leave the embedded OsiriX running afterwards.")
@pass_state
def demo(state: AppState, keep: bool) -> None:
    """Start the embedded OsiriX with demo data and run a builtin task against it."""
    catalog = build_catalog(state.registry())
    [entry] = [e for e in catalog.of_type(TaskType.DATABASE) if e.origin == "builtin"][:1]
    with _host(keep) as port:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
        stub = osirix_pb2_grpc.OsiriXServiceStub(channel)
        for info in live_hosts():
            if port in send(info, {"op": "status"})["ports"]:
                send(info, {"op": "select", "studies": [demo_uid("study")], "series": []})
        browser = check(stub.OsirixCurrentBrowser(utilities_pb2.Empty()), "OsirixCurrentBrowser").browser_controller
        selection = check(stub.BrowserControllerDatabaseSelection(browser), "BrowserControllerDatabaseSelection")
        context = TaskContext(task=entry.spec, server=f"127.0.0.1:{port}", stub=stub, browser=browser,
                              studies=list(selection.studies), series=list(selection.series))
        output = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(output):
            load_task_function(entry.spec.location)(context)
        elapsed = time.perf_counter() - started
        click.secho(f"\n{entry.spec.type.value} task '{entry.spec.name}' ({entry.origin}) "
                    f"took {elapsed * 1000:.0f} ms and printed:", bold=True)
        click.echo(output.getvalue().rstrip())
        channel.close()
