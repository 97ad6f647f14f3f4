"""A menu click to the task's body, against the OsiriXgrpc plugin's own way of starting a script.

Baseline (measured in the same run, on the same host): the plugin starts a script as
``python -u script.py``; the script imports pyosirix (``import osirix``) and one call is answered.
Measured against it, each from the request to the task body running with a connected context:

1. a decorated task started by the host (what a menu click in the web UI does): goal <= 0.5x;
2. a script task started by the host (the plugin's way, supervised by the host): goal <= 1.1x;
3. ``osirix-tasks run`` typed in a shell, a host running: goal <= 1.3x;
and, on their own: 4. ``osirix-tasks --help`` (goal <= 0.25 s) and ``tasks list`` on a 50-task
registry (goal <= 0.4 s).

    python benchmarks/bench_startup.py [--repeat 9]
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
from collections.abc import Callable
from pathlib import Path

from osirix_tasks.client.server_configs import free_port
from osirix_tasks.host.config import HostConfig
from osirix_tasks.host.control import host_serving, stream
from osirix_tasks.host.control_protocol import OutputFrame, StartRun
from osirix_tasks.host.spawn import spawn_host
from osirix_tasks.testing import isolated_env

BODY = re.compile(r"BODY (\d+\.\d+)")

PYOSIRIX_SCRIPT = """
import time, osirix  # pyosirix, unmodified: it finds the server in server_configs.json
osirix.osirix_version()  # one call answered
print(f"BODY {time.time():.6f}", flush=True)
"""

DECORATED = '''
import time
from osirix_tasks import osirix_task

@osirix_task(type="Database", name="probe")
def probe(context):
    """Report when the body runs, its context connected."""
    assert context.browser is not None
    print(f"BODY {time.time():.6f}", flush=True)
'''


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def repeated(measure: Callable[[], float], repeat: int, pause: float) -> list[float]:
    measure()  # warm the file cache (and the host's warm launcher)
    samples = []
    for _ in range(repeat):
        time.sleep(pause)  # a user does not click ten times a second: the next launcher gets ready
        samples.append(measure())
    return samples


def body_time(text: str) -> float:
    match = BODY.search(text)
    assert match, text
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--pause", type=float, default=1.0, help="Seconds between two starts.")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    env = isolated_env(root)
    (root / "probe_mod.py").write_text(textwrap.dedent(DECORATED))
    script = root / "pyosirix_probe.py"
    script.write_text(textwrap.dedent(PYOSIRIX_SCRIPT))
    registry = root / "tasks.toml"
    registry.write_text(
        '[[task]]\nname = "probe"\ntype = "Database"\nlocation = "probe_mod:probe"\n\n'
        f'[[task]]\nname = "pyosirix probe"\ntype = "Database"\nlocation = "{script}"\n'
    )
    port = free_port()
    host_process = spawn_host(HostConfig(demo=True, ports=(port,)), env=env, log_path=root / "serve.log")
    try:
        info = host_serving(port, env)
        assert info is not None
        environ = {k: env[k] for k in ("HOME", "OSIRIX_TASKS_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME") if k in env}

        def plugin_way() -> float:
            started = time.time()
            out = subprocess.run(
                [sys.executable, "-u", str(script)], capture_output=True, text=True, env=env, cwd=root
            ).stdout
            return body_time(out) - started

        def on_host(name: str) -> Callable[[], float]:
            def measure() -> float:
                request = StartRun(name=name, registry=str(registry), server=f"127.0.0.1:{port}", environ=environ)
                started = time.time()
                text = ""
                for frame in stream(info, request):
                    if isinstance(frame, OutputFrame) and frame.stream == 1:
                        text += frame.text
                return body_time(text) - started

            return measure

        def from_shell() -> float:
            started = time.time()
            out = subprocess.run(
                [sys.executable, "-m", "osirix_tasks", "--registry", str(registry), "run", "probe"],
                capture_output=True,
                text=True,
                env=env,
                cwd=root,
            ).stdout
            return body_time(out) - started

        repeat, pause = options.repeat, options.pause
        baseline = median(repeated(plugin_way, repeat, pause))  # the same pause as the runs it is compared with
        decorated = median(repeated(on_host("probe"), repeat, pause))
        scripted = median(repeated(on_host("pyosirix probe"), repeat, pause))
        shell = median(repeated(from_shell, repeat, pause))
        print(f"Start-up, median of {repeat} (baseline: the plugin's way, measured now)")
        print(f"  plugin's way: python -u script.py, import osirix, one call  {baseline:.3f} s   1.00x")
        print(
            f"  1. host starts a decorated task, to its body              {decorated:.3f} s   "
            f"{decorated / baseline:.2f}x  (goal <= 0.5x)"
        )
        print(
            f"  2. host starts the same pyosirix script                   {scripted:.3f} s   "
            f"{scripted / baseline:.2f}x  (goal <= 1.1x)"
        )
        print(
            f"  3. osirix-tasks run (decorated) from a shell, host running {shell:.3f} s   "
            f"{shell / baseline:.2f}x  (goal <= 1.3x)"
        )
    finally:
        host_process.stop()

    fifty = root / "fifty.toml"
    fifty.write_text(
        "".join(f'[[task]]\nname = "task {i}"\ntype = "ROI"\nlocation = "{script}"\n\n' for i in range(50))
    )

    def command(*args: str) -> Callable[[], float]:
        def measure() -> float:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "osirix_tasks", *args], capture_output=True, env=env, check=True)
            return time.perf_counter() - started

        return measure

    bare = median(repeated(command("--version"), repeat, 0))
    helped = median(repeated(command("--help"), repeat, 0))
    listed = median(repeated(command("--registry", str(fifty), "tasks", "list"), repeat, 0))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python = time.perf_counter() - started
    print(f"CLI, median of {repeat} (python -c pass: {python:.3f} s)")
    print(f"  osirix-tasks --version          {bare:.3f} s")
    print(f"  4. osirix-tasks --help          {helped:.3f} s  (goal <= 0.25 s)")
    print(f"  5. tasks list, 50-task registry {listed:.3f} s  (goal <= 0.4 s)")
    if os.environ.get("BENCH_KEEP") is None:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
