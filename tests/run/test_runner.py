"""The runner for real: subprocesses, process groups, timeouts, cancel, capture, the console store."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import textwrap
import time
import venv
from pathlib import Path

import psutil
import pytest

from osirix_tasks.testing import Project, RunningHost
from osirix_tasks.testing.project import output_text as text_of


def test_a_script_runs_as_the_plugin_runs_it(project: Project) -> None:
    script = project.script(
        "env",
        """
        import json, os, sys
        print(json.dumps({"cwd": os.getcwd(), "argv": sys.argv, "env": dict(os.environ),
                          "orig_argv": sys.orig_argv}))
        print("to stderr", file=sys.stderr)
    """,
    )
    done = project.cli("run", "env", "--", "--flag", "value")
    assert done.returncode == 0, done.stderr
    [record] = project.runs()
    seen = json.loads(text_of(project.output(record["id"]), "stdout"))
    assert seen["cwd"] == str(script.parent)
    assert seen["argv"] == [str(script), "--flag", "value"]
    assert seen["orig_argv"] == [sys.executable, "-u", str(script), "--flag", "value"]
    env = seen["env"]
    assert env["PATH"].split(":")[0] == os.path.dirname(sys.executable)
    assert env["OSIRIX_TASKS_SERVER"] == "127.0.0.1:1" and env["OSIRIX_TASKS_RUN_ID"] == record["id"]
    assert env["HOME"] == str(project.root)
    # The plugin's minimal environment; the two pyosirix-bridge variables appear because server 127.0.0.1:1 is not
    # the one pyosirix would pick by itself (see test_run_pyosirix_server.py).
    assert not set(env) - {
        "HOME",
        "PATH",
        "OSIRIX_TASKS_SERVER",
        "OSIRIX_TASKS_RUN_ID",
        "OSIRIX_TASKS_TASK_NAME",
        "OSIRIX_TASKS_TASK_TYPE",
        "OSIRIX_TASKS_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "PYTHONPATH",
        "OSIRIX_TASKS_PYOSIRIX_HOME",
    }
    assert env["PYTHONPATH"].endswith("_pyosirix_site")
    assert "to stderr" in done.stderr and '"cwd"' in done.stdout
    assert record["status"] == "succeeded" and record["exit_code"] == 0 and record["pid"] > 0
    assert record["spec"]["location"] == str(script) and record["server"] == "127.0.0.1:1"
    assert record["ended"] >= record["started"] and record["duration"] >= 0


def test_stdout_and_stderr_are_kept_apart_in_arrival_order(project: Project) -> None:
    project.script(
        "interleave",
        """
        import sys, time
        for i in range(3):
            print(f"out {i}", flush=True); time.sleep(0.3)
            print(f"err {i}", file=sys.stderr, flush=True); time.sleep(0.3)
    """,
    )
    project.cli("run", "interleave")
    [record] = project.runs()
    chunks = [c for c in project.output(record["id"])["output"] if c["stream"] != "system"]
    runs: list[tuple[str, str]] = []  # consecutive chunks of one stream joined: how they were split is not the point
    for chunk in chunks:
        if runs and runs[-1][0] == chunk["stream"]:
            runs[-1] = (chunk["stream"], runs[-1][1] + chunk["text"])
        else:
            runs.append((chunk["stream"], chunk["text"]))
    assert runs == [(s, f"{s[3:]} {i}\n") for i in range(3) for s in ("stdout", "stderr")]
    assert all(a["at"] <= b["at"] for a, b in zip(chunks, chunks[1:], strict=False))


def test_failures_are_recorded(project: Project) -> None:
    project.script("raises", "raise RuntimeError('boom')\n")
    project.script("exits", "import sys; sys.exit(7)\n")
    project.script("killed", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)\n")
    assert project.cli("run", "raises").returncode == 1
    assert project.cli("run", "exits").returncode == 7
    assert project.cli("run", "killed").returncode == 128 + 9
    records = {r["task_name"]: r for r in project.runs()}
    assert (records["raises"]["status"], records["raises"]["exit_code"]) == ("failed", 1)
    assert "RuntimeError: boom" in text_of(project.output(records["raises"]["id"]), "stderr")
    assert (records["exits"]["status"], records["exits"]["exit_code"]) == ("failed", 7)
    assert (records["killed"]["status"], records["killed"]["signal"], records["killed"]["exit_code"]) == (
        "failed",
        9,
        None,
    )


GROUP = """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    print(child.pid, flush=True)
    time.sleep(60)
"""


def test_timeout_stops_the_whole_process_group(project: Project) -> None:
    project.script("hangs", GROUP, timeout=1.5)
    started = time.monotonic()
    done = project.cli("run", "hangs")
    assert done.returncode == 124 and time.monotonic() - started < 20
    [record] = project.runs()
    assert record["status"] == "timed out" and record["timed_out"] and record["signal"] == 15
    assert record["message"] == "timed out after 1.5 s"
    grandchild = int(text_of(project.output(record["id"]), "stdout").split()[0])
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    assert "stopped after its 1.5 s timeout" in text_of(project.output(record["id"]), "system")


def test_term_ignoring_task_is_killed_after_the_grace_period(project: Project) -> None:
    project.script(
        "stubborn",
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        time.sleep(60)
    """,
    )
    run_id = project.cli("run", "stubborn", "--background", check=True).stdout.strip()
    deadline = time.monotonic() + 20
    while "ready" not in text_of(project.output(run_id), "stdout") and time.monotonic() < deadline:
        time.sleep(0.1)
    done = project.cli("cancel", run_id, "--grace", "1")
    assert done.returncode == 0 and "cancelled" in done.stdout
    record = project.wait(run_id)
    assert record["status"] == "cancelled" and record["signal"] == 9 and record["cancelled"]


def test_cancel_a_background_run(project: Project) -> None:
    project.script("sleeper", GROUP)
    run_id = project.cli("run", "sleeper", "--background", check=True).stdout.strip()
    deadline = time.monotonic() + 20
    while not text_of(project.output(run_id), "stdout") and time.monotonic() < deadline:
        time.sleep(0.1)
    grandchild = int(text_of(project.output(run_id), "stdout").split()[0])
    assert project.cli("cancel", run_id).returncode == 0
    record = project.wait(run_id)
    assert record["status"] == "cancelled" and record["signal"] == 15 and record["background"]
    time.sleep(0.3)
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    again = project.cli("cancel", run_id)
    assert again.returncode == 1 and "already finished (cancelled)" in again.stderr


def test_utf8_is_decoded_incrementally_and_bad_bytes_replaced(project: Project) -> None:
    project.script(
        "bytes",
        """
        import os, time
        os.write(1, b"caf\\xc3")
        time.sleep(0.5)
        os.write(1, b"\\xa9 ok\\n")
        os.write(2, b"\\xff bad \\xe2\\x82\\n")
        os.write(1, "\\u6f22\\u5b57\\n".encode()[:2])
        time.sleep(0.3)
        os.write(1, "\\u6f22\\u5b57\\n".encode()[2:])
    """,
    )
    assert project.cli("run", "bytes").returncode == 0
    [record] = project.runs()
    output = project.output(record["id"])
    assert text_of(output, "stdout") == "café ok\n漢字\n"
    assert text_of(output, "stderr") == "\ufffd bad \ufffd\n"


def test_100_mb_of_output_is_kept_with_bounded_memory(project: Project) -> None:
    project.script(
        "loud",
        """
        import sys
        line = ("x" * 1023 + "\\n").encode()
        block = line * 1024
        for _ in range(100):
            sys.stdout.buffer.write(block)
    """,
    )
    run_id = project.cli("run", "loud", "--background", check=True).stdout.strip()
    peak = 0
    deadline = time.monotonic() + 120
    supervisor = None
    while time.monotonic() < deadline:
        [record] = [r for r in project.runs() if r["id"] == run_id]
        if supervisor is None and record["supervisor_pid"]:
            supervisor = psutil.Process(record["supervisor_pid"])
        if supervisor is not None:
            with contextlib.suppress(psutil.NoSuchProcess):
                peak = max(peak, supervisor.memory_info().rss)
        if record["status"] not in ("starting", "running"):
            break
        time.sleep(0.05)
    assert record["status"] == "succeeded"
    import sqlite3

    store = project.root / ".local" / "share" / "osirix-tasks" / "runs.sqlite"
    total = (
        sqlite3.connect(store)
        .execute("SELECT SUM(LENGTH(text)) FROM output WHERE run_id = ? AND stream = 1", (run_id,))
        .fetchone()[0]
    )
    assert total == 100 * 1024 * 1024
    assert 0 < peak < 150 * 1024 * 1024  # the supervisor never held the 100 MB


def test_missing_interpreter_and_one_without_osirix_tasks(project: Project, tmp_path: Path) -> None:
    bare = tmp_path / "bare-venv"
    venv.EnvBuilder(with_pip=False).create(bare)
    project.script("gone", "print(1)\n")
    project.registry.write_text(
        project.registry.read_text().replace(
            f'location = "{project.root / "scripts" / "gone.py"}"',
            f'location = "{project.root / "scripts" / "gone.py"}"\ninterpreter = "{bare / "bin" / "python"}"',
        )
    )
    (bare / "bin" / "python").unlink()
    (bare / "bin" / "python3").unlink(missing_ok=True)
    done = project.cli("run", "gone")
    assert done.returncode == 1
    assert (
        "task 'gone' cannot run: tasks.toml:5: task 'gone' (Database): field 'interpreter': interpreter" in done.stderr
        and "does not exist" in done.stderr
    )

    other = tmp_path / "other-venv"
    venv.EnvBuilder(with_pip=False).create(other)
    (project.root / "decorated_mod.py").write_text(
        textwrap.dedent("""
        from osirix_tasks import osirix_task

        @osirix_task(type="Database", name="Decorated")
        def decorated(context):
            print("ran")
    """)
    )
    project.registry.write_text('[[task]]\nmodule = "decorated_mod"\n')
    env_python = other / "bin" / "python"
    tasks = json.loads(project.cli("tasks", "list", "--json", check=True).stdout)
    assert any(t["name"] == "Decorated" for t in tasks)
    from osirix_tasks import TaskSpec
    from osirix_tasks.run.runner import RunRefused, plan_run

    spec = TaskSpec(name="Decorated", type="Database", location="decorated_mod:decorated", interpreter=str(env_python))
    with pytest.raises(RunRefused, match=r"cannot import osirix_tasks - install it there: .* -m pip install"):
        plan_run(spec, server=None, args=[], registry=project.registry, plugins=None)


def test_a_blocking_task_refuses_a_second_start(project: Project) -> None:
    project.script("blocker", "import time; print('holding', flush=True); time.sleep(30)\n", blocking=True)
    project.script("other", "print('other')\n")
    run_id = project.cli("run", "blocker", "--background", check=True).stdout.strip()
    deadline = time.monotonic() + 20
    while "holding" not in text_of(project.output(run_id), "stdout") and time.monotonic() < deadline:
        time.sleep(0.1)
    for name in ("other", "blocker"):
        refused = project.cli("run", name)
        assert refused.returncode == 1
        assert f"the blocking task 'blocker' (run {run_id}) is running" in refused.stderr
    project.cli("cancel", run_id, check=True)
    assert project.cli("run", "other").returncode == 0


def test_ten_background_runs_at_once(project: Project) -> None:
    project.script(
        "worker",
        """
        import os, sys, time
        for i in range(20):
            print(f"{os.environ['OSIRIX_TASKS_RUN_ID']} line {i}", flush=True)
            time.sleep(0.01)
    """,
    )
    ids = [project.cli("run", "worker", "--background", check=True).stdout.strip() for _ in range(10)]
    assert len(set(ids)) == 10
    for run_id in ids:
        record = project.wait(run_id)
        assert record["status"] == "succeeded"
        lines = text_of(project.output(run_id), "stdout").splitlines()
        assert lines == [f"{run_id} line {i}" for i in range(20)]


def test_console_history_save_and_clear(project: Project, tmp_path: Path) -> None:
    project.script("talk", "import sys; print('hello'); print('oops', file=sys.stderr)\n")
    project.script("long", "import time; time.sleep(30)\n")
    project.cli("run", "talk", check=True)
    [record] = project.runs()
    shown = project.cli("console", record["id"])
    assert "hello" in shown.stdout and "oops" in shown.stderr and "Task finished" in shown.stderr
    latest = project.cli("console")
    assert "hello" in latest.stdout
    saved = tmp_path / "saved.txt"
    project.cli("console", record["id"], "--save", str(saved), check=True)
    assert "hello\n" in saved.read_text() and "[stderr] oops\n" in saved.read_text()
    history = project.cli("runs", check=True).stdout
    assert record["id"] in history and "succeeded" in history and "exit 0" in history
    long_id = project.cli("run", "long", "--background", check=True).stdout.strip()
    assert "Cleared 1 finished run(s)." in project.cli("console", "--clear", check=True).stdout
    assert [r["id"] for r in project.runs()] == [long_id]
    project.cli("cancel", long_id, check=True)
    missing = project.cli("console", "no-such-run")
    assert missing.returncode == 1 and "no run 'no-such-run'" in missing.stderr


def test_follow_shows_output_until_the_end(project: Project) -> None:
    project.script("slow", "import time\nfor i in range(3):\n    print(i, flush=True); time.sleep(0.4)\n")
    run_id = project.cli("run", "slow", "--background", check=True).stdout.strip()
    followed = project.cli("console", run_id, "--follow", timeout=60)
    assert followed.stdout.split() == ["0", "1", "2"]


def test_plugins_add_environment_and_wrap_runs(project: Project) -> None:
    (project.root / "plugins").mkdir()
    (project.root / "plugins" / "extras.py").write_text(
        textwrap.dedent("""
        from osirix_tasks import hookimpl

        @hookimpl
        def osirix_tasks_environment(task, env):
            env["EXTRA_FROM_PLUGIN"] = f"for {task.name}"
    """)
    )
    project.script("show", "import os; print(os.environ.get('EXTRA_FROM_PLUGIN'))\n")
    done = project.cli("run", "show")
    assert done.returncode == 0 and "for show" in done.stdout


def test_a_run_without_any_known_server_warns_and_still_runs_the_script(project: Project) -> None:
    del project.env["OSIRIX_TASKS_SERVER"]  # and no server_configs.json in this HOME
    project.script("offline", "import os; print('server:', os.environ.get('OSIRIX_TASKS_SERVER'))\n")
    done = project.cli("run", "offline")
    assert done.returncode == 0, done.stderr
    assert "warning: no active OsiriX server" in done.stderr and "starting the task without one" in done.stderr
    assert "server: None" in done.stdout
    assert project.runs()[0]["server"] is None


def test_a_decorated_task_without_a_server_says_how_to_start_one(project: Project) -> None:
    del project.env["OSIRIX_TASKS_SERVER"]
    (project.root / "offline_mod.py").write_text(
        textwrap.dedent("""
        from osirix_tasks import osirix_task

        @osirix_task(type="Database", name="Needs OsiriX")
        def needs(context):
            print("body ran")
    """)
    )
    project.registry.write_text('[[task]]\nmodule = "offline_mod"\n')
    done = project.cli("run", "Needs OsiriX")
    assert done.returncode == 3
    assert "no active OsiriX server" in done.stderr and "osirix-tasks serve" in done.stderr
    assert "body ran" not in done.stdout


def test_a_script_without_its_context_exits_3_with_one_line(project: Project) -> None:
    project.script("needs_a_viewer", "import osirix_tasks\ncontext = osirix_tasks.context('Image')\nprint('body')\n")
    done = project.cli("run", "needs_a_viewer")
    assert done.returncode == 3, done.stderr
    [record] = project.runs()
    stderr = text_of(project.output(record["id"]), "stderr")
    assert "Traceback" not in stderr and "body" not in text_of(project.output(record["id"]), "stdout")

    [line] = stderr.strip().splitlines()
    assert line.startswith("osirix-tasks: ") and "127.0.0.1:1" in line


def test_a_registry_env_table_reaches_the_task(project: Project) -> None:
    project.script("show_env", "import os; print(os.environ.get('MY_SETTING'), os.environ.get('HOME') is not None)\n")
    with project.registry.open("a") as handle:  # the entry just written is the last table: add its env
        handle.write('[task.env]\nMY_SETTING = "42"\n')
    done = project.cli("run", "show_env")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "42 True"


def test_a_bad_env_table_is_a_registry_problem(project: Project) -> None:
    project.script("bad_env", "print(1)\n")
    with project.registry.open("a") as handle:
        handle.write('[task.env]\n"A=B" = "1"\n')
    done = project.cli("tasks", "validate")
    assert done.returncode == 1 and "field 'env'" in done.stderr and "'A=B'" in done.stderr


def test_a_registry_name_for_a_decorated_function_wins(project: Project, host: RunningHost) -> None:
    (project.root / "named_mod.py").write_text(
        textwrap.dedent('''
        from osirix_tasks import osirix_task

        @osirix_task(type="Database", name="its own name")
        def report(context):
            """The function's own description."""
            print("running as", context.task.name)
    ''')
    )
    project.registry.write_text('[[task]]\nname = "renamed"\ntype = "Database"\nlocation = "named_mod:report"\n')
    project.env["OSIRIX_TASKS_SERVER"] = host.address
    shown = json.loads(project.cli("tasks", "show", "renamed", "--json", check=True).stdout)
    assert [t["description"] for t in shown] == ["The function's own description."]
    done = project.cli("run", "renamed")
    assert done.returncode == 0, done.stderr
    assert "running as renamed" in done.stdout
