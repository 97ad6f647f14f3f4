"""The runner and the client, measured against baselines taken in the same run.

1. Start-up: wall time from launching ``osirix-tasks run`` to the task body running with a
   connected context, versus a bare ``python -c "import osirix_tasks"`` (goal: at most 1.5x).
2. One-call latency on the same embedded OsiriX: our client (one RPC per call) versus pyosirix
   (a version call before every method).
3. Console capture: a task printing 100 MB, captured to the console store, versus the same
   bytes read from a pipe and thrown away.

    python benchmarks/bench_runner.py [--calls 500] [--megabytes 100]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from osirixgrpc import utilities_pb2

from osirix_tasks.client import Connection
from osirix_tasks.client.server_configs import free_port

OSIRIX_TASKS = str(Path(sys.executable).with_name("osirix-tasks"))


def median_of(func, repeat: int) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(func() for _ in range(repeat))


def startup(root: Path, port: int, env: dict[str, str], repeat: int) -> None:
    (root / "probe_tasks.py").write_text(
        textwrap.dedent("""
        import time
        from osirix_tasks import osirix_task

        @osirix_task(type="Database", name="Latency probe")
        def probe(context):
            assert context.browser is not None  # connected, context filled
            print(f"BODY {time.time():.6f}", flush=True)
    """)
    )
    (root / "tasks.toml").write_text('[settings]\nmodules = ["probe_tasks"]\n')

    def to_body() -> float:
        started = time.time()
        out = subprocess.run(
            [OSIRIX_TASKS, "run", "Latency probe", "--server", str(port)],
            capture_output=True,
            text=True,
            env=env,
            cwd=root,
        ).stdout
        match = re.search(r"BODY (\S+)", out)
        assert match, out
        return float(match.group(1)) - started

    def bare_import() -> float:
        started = time.time()
        subprocess.run([sys.executable, "-c", "import osirix_tasks"], check=True, env=env, cwd=root)
        return time.time() - started

    to_body()  # warm the file cache
    ours, bare = median_of(to_body, repeat), median_of(bare_import, repeat)
    print(f"1. start-up (median of {repeat}):")
    print(f"   python -c 'import osirix_tasks':        {bare:.3f} s")
    print(f"   osirix-tasks run -> body with context:  {ours:.3f} s   ratio {ours / bare:.2f}x (goal <= 1.5x)")


def latency(port: int, calls: int) -> None:
    from osirix.osirix_utilities import Osirix, OsirixService  # pyosirix, unmodified

    connection = Connection(port)
    browser = connection.call("OsirixCurrentBrowser", utilities_pb2.Empty()).browser_controller
    [study] = connection.call("BrowserControllerDatabaseStudies", browser).studies
    service = OsirixService(port=port)
    service.start_service()
    from osirix.dicom import DicomStudy

    py_study = DicomStudy(service, study)
    assert py_study.patient_name == connection.call("DicomStudyName", study).name

    def ours() -> float:
        started = time.perf_counter()
        connection.call("DicomStudyName", study)
        return time.perf_counter() - started

    def pyosirix() -> float:
        started = time.perf_counter()
        _ = py_study.patient_name
        return time.perf_counter() - started

    for _ in range(50):
        ours(), pyosirix()
    t_ours, t_py = median_of(ours, calls), median_of(pyosirix, calls)
    print(f"2. one-call latency, DicomStudyName (median of {calls}):")
    print(f"   osirix-tasks client: {t_ours * 1e6:7.0f} us")
    print(f"   pyosirix:            {t_py * 1e6:7.0f} us   ours is {t_py / t_ours:.2f}x faster")
    assert Osirix is not None
    connection.close()


def capture(root: Path, env: dict[str, str], megabytes: int) -> None:
    script = root / "loud.py"
    script.write_text(
        textwrap.dedent(f"""
        import sys
        block = (("x" * 1023 + "\\n") * 1024).encode()
        for _ in range({megabytes}):
            sys.stdout.buffer.write(block)
    """)
    )
    from osirix_tasks import TaskSpec
    from osirix_tasks.run.runner import plan_run, start_run
    from osirix_tasks.run.store import RunStore

    store = RunStore(root / "bench-runs.sqlite")
    spec = TaskSpec(name="Loud", type="Database", location=str(script))
    plan = plan_run(spec, server=None, args=[], registry=root / "tasks.toml", plugins=None)
    started = time.perf_counter()
    record = start_run(plan, store)  # the real supervisor loop, in this process, no terminal echo
    ours = time.perf_counter() - started
    assert record.status == "succeeded"
    kept = store.conn.execute(
        "SELECT SUM(LENGTH(text)) FROM output WHERE run_id = ? AND stream = 1", (record.id,)
    ).fetchone()[0]
    assert kept == megabytes * 1024 * 1024

    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-u", str(script)], stdout=subprocess.PIPE)
    assert child.stdout is not None
    while child.stdout.read(1 << 16):
        pass
    child.wait()
    baseline = time.perf_counter() - started
    print(f"3. console capture of {megabytes} MB (runner supervise loop, output stored in SQLite):")
    print(f"   pipe read and discarded: {baseline:6.2f} s  {megabytes / baseline:7.0f} MB/s")
    print(
        f"   osirix-tasks console:    {ours:6.2f} s  {megabytes / ours:7.0f} MB/s  "
        f"({ours / baseline:.2f}x the bare pipe time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {
            **os.environ,
            "HOME": str(root),
            "OSIRIX_TASKS_HOME": str(root),
            "XDG_DATA_HOME": str(root / "data"),
            "XDG_CONFIG_HOME": str(root / "config"),
        }
        env.pop("OSIRIX_TASKS_REGISTRY", None)
        port = free_port()
        host = subprocess.Popen(
            [OSIRIX_TASKS, "serve", "--demo", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert host.stdout is not None
            while not host.stdout.readline().startswith("Listening"):
                pass
            startup(root, port, env, options.repeat)
            os.environ["HOME"] = str(root)
            latency(port, options.calls)
            capture(root, env, options.megabytes)
        finally:
            host.terminate()
            host.wait(timeout=60)


if __name__ == "__main__":
    main()
