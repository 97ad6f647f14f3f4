"""Faults and security: killed processes, a full disk, corrupted files, local-only servers."""

from __future__ import annotations

import ipaddress
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pydicom
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.testing import Project, isolated_env, running_host
from osirix_tasks.testing.project import output_text as text_of


def replicate_demo(folder: Path, count: int) -> None:
    """``count`` DICOM files with their own SOP instance UIDs (three series)."""
    template = generate_demo_series(folder.parent / "template")
    folder.mkdir()
    datasets = [pydicom.dcmread(p) for p in template]
    for n in range(count):
        ds = datasets[n % len(datasets)]
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.10.1458.9.{n}"
        ds.SeriesInstanceUID = f"1.2.826.0.1.3680043.10.1458.8.{n % 3}"
        ds.save_as(folder / f"{n:05d}.dcm")


def test_host_killed_in_the_middle_of_an_import_leaves_a_consistent_database(tmp_path: Path) -> None:
    source = tmp_path / "files"
    replicate_demo(source, 600)
    database = tmp_path / "db"
    env = isolated_env(tmp_path)
    importer = subprocess.Popen(
        [sys.executable, "-m", "osirix_tasks", "import", str(source), "--database", str(database)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    index = database / "index.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if sqlite3.connect(index).execute("SELECT COUNT(*) FROM images").fetchone()[0] > 0:
                break
        except sqlite3.Error:
            pass
        time.sleep(0.005)
    importer.send_signal(signal.SIGKILL)
    importer.wait()
    rows = sqlite3.connect(index).execute("SELECT path, sop_instance_uid FROM images").fetchall()
    assert 0 < len(rows) < 600, "the kill should land in the middle of the import"
    for path, uid in rows:  # each indexed file is complete and is the file its row says
        assert not path.startswith("pending:")
        assert pydicom.dcmread(path).SOPInstanceUID == uid
    # the restarted host cleans what the killed one left half done, then everything imports once
    with running_host(tmp_path, "--import", str(source), database=database) as host:
        stub = host.stub()
        [study] = stub.BrowserControllerDatabaseStudies(stub.OsirixCurrentBrowser(Empty()).browser_controller).studies
        assert stub.DicomStudyNumberOfImages(study).no_images == 600
    files = [p for p in (database / "DATABASE.noindex").rglob("*") if p.is_file()]
    indexed = {row[0] for row in sqlite3.connect(index).execute("SELECT path FROM images")}
    assert len(indexed) == 600 and {str(p) for p in files} == indexed


def test_a_killed_supervisor_is_seen_and_its_task_can_still_be_stopped(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.script("long", "import time\nprint('up', flush=True)\ntime.sleep(60)\n")
    run_id = project.cli("run", "long", "--background", check=True).stdout.strip()
    deadline = time.monotonic() + 20
    while "up" not in text_of(project.output(run_id), "stdout") and time.monotonic() < deadline:
        time.sleep(0.1)
    [record] = project.runs()
    os.kill(record["supervisor_pid"], signal.SIGKILL)
    time.sleep(2.5)
    [record] = project.runs()
    assert record["status"] == "lost"
    assert "its supervisor stopped before the task ended; the task may still be running" in record["message"]
    assert psutil.pid_exists(record["pid"])
    done = project.cli("cancel", run_id, "--grace", "1")
    assert done.returncode == 0, done.stderr
    time.sleep(0.5)
    assert not psutil.pid_exists(record["pid"]) or psutil.Process(record["pid"]).status() == psutil.STATUS_ZOMBIE
    assert project.runs()[0]["status"] == "cancelled"


def test_a_full_disk_for_the_console_store_is_a_clear_error_and_runs_go_on(tmp_path: Path) -> None:
    project = Project(tmp_path)
    marker = tmp_path / "finished"
    project.script(
        "chatty",
        f"""
        import sys
        for i in range(2000):
            print("x" * 2000, flush=(i % 100 == 0))
        open({str(marker)!r}, "w").write("done")
    """,
    )
    project.cli("runs", check=True)  # the store exists
    store = tmp_path / ".local" / "share" / "osirix-tasks" / "runs.sqlite"
    used = sum(p.stat().st_size for p in store.parent.glob("runs.sqlite*"))

    def disk_nearly_full() -> None:  # as if the disk had 600 kB left: writes beyond fail (EFBIG)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (used + 600_000, used + 600_000))

    done = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "run", "chatty"],
        capture_output=True,
        text=True,
        env=project.env,
        cwd=tmp_path,
        timeout=120,
        preexec_fn=disk_nearly_full,
    )
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "done"  # the task ran to its end
    assert done.stdout.count("x" * 2000) == 2000  # and all its output reached the terminal
    assert "cannot write the run store" in done.stderr and "free some disk space" in done.stderr
    [record] = project.runs()
    sizes = {p.name: p.stat().st_size for p in store.parent.glob("runs.sqlite*")}
    assert record["status"] == "succeeded", (done.stderr, used, sizes)  # the task did succeed ...
    stored = len(text_of(project.output(record["id"]), "stdout").encode())
    assert stored < 2000 * 2001 <= stored + record["output_lost"]  # ... and its record says what output is lost
    assert f"{record['output_lost']} bytes of output could not be stored" in record["message"]
    assert "could not be stored and are lost" in done.stderr
    assert "output lost" in project.cli("runs", check=True).stdout
    project.script("after", "print('still works')\n")
    assert "still works" in project.cli("run", "after", check=True).stdout
    assert [r["task_name"] for r in project.runs()][0] == "after"


def test_a_corrupt_registry_names_file_and_line_and_the_backup_restores_it(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.script("one", "print(1)\n")
    script = tmp_path / "scripts" / "one.py"
    project.cli("tasks", "add", str(script), "--type", "ROI", "--name", "Second", check=True)  # writes a .bak
    good = project.registry.read_text()
    project.registry.write_text(good + '\n[[task]]\nname = "broken\n')
    broken = project.cli("tasks", "validate")
    assert broken.returncode == 1
    assert f"tasks.toml:{len(good.splitlines()) + 3}:" in broken.stderr and "TOML syntax error" in broken.stderr
    assert "osirix-tasks tasks restore" in broken.stderr
    listing = project.cli("tasks", "list")  # builtins still list; the problem is shown
    assert listing.returncode == 0 and "TOML syntax error" in listing.stderr and "Selection report" in listing.stdout
    restored = project.cli("tasks", "restore")
    assert restored.returncode == 0, restored.stderr
    assert project.cli("tasks", "validate").returncode == 0
    names = [t["name"] for t in json.loads(project.cli("tasks", "list", "--json", check=True).stdout)]
    assert "one" in names and "Second" not in names  # the version before the last change
    assert (tmp_path / "tasks.toml.broken").read_text().endswith('name = "broken\n')


def test_a_corrupt_server_configs_names_file_and_line_and_the_backup_restores_it(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "osirix_tasks", *args], capture_output=True, text=True, env=env, timeout=60
        )

    assert cli("servers", "add", "50061").returncode == 0
    assert cli("servers", "add", "50062").returncode == 0
    path = tmp_path / "Library" / "Application Support" / "OsirixGRPC" / "server_configs.json"
    path.write_text(path.read_text().replace('"port": "50062"', '"port" "50062"'))
    broken = cli("servers", "list")
    assert broken.returncode == 1 and "server_configs.json:9:" in broken.stderr
    assert "osirix-tasks servers restore" in broken.stderr
    assert cli("servers", "restore").returncode == 0
    listing = json.loads(cli("servers", "list", "--json").stdout)
    assert [s["port"] for s in listing["servers"]] == [50061]


def test_the_host_listens_on_localhost_only(tmp_path: Path) -> None:
    with running_host(tmp_path, "--empty") as host:
        time.sleep(0.5)
        sockets = [
            c for c in psutil.Process(host.process.pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN
        ]
        assert {c.laddr.port for c in sockets} >= set(host.ports)
        assert len(sockets) == len(host.ports) + 1  # the gRPC servers and the web UI (control: a Unix socket)
        for ip in {c.laddr.ip for c in sockets}:  # 127.0.0.1, or gRPC's IPv4-mapped ::ffff:127.0.0.1
            address = ipaddress.ip_address(ip)
            mapped = getattr(address, "ipv4_mapped", None)
            assert (mapped or address) == ipaddress.ip_address("127.0.0.1"), ip


def test_only_registered_tasks_ever_run(tmp_path: Path) -> None:
    project = Project(tmp_path)
    stray = tmp_path / "stray.py"
    stray.write_text("open('ran', 'w').write('x')\n")
    refused = project.cli("run", str(stray))
    assert refused.returncode == 1 and "no task named" in refused.stderr
    launched = subprocess.run(
        [
            sys.executable,
            "-m",
            "osirix_tasks.run.launch",
            "--location",
            "os:system",
            "--type",
            "Database",
            "--name",
            "x",
            "--",
            "touch ran",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=project.env,
        timeout=60,
    )
    assert launched.returncode == 2 and "no @osirix_task function 'system' in module 'os'" in launched.stderr
    assert not (tmp_path / "ran").exists()


def test_an_unclean_shutdown_is_recovered_by_the_next_process(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from osirix_tasks.emulator.database.index import Database
        db = Database(Path(sys.argv[1]))
        (db.files_folder / "0").mkdir(parents=True, exist_ok=True)
        db.journal_copies([db.files_folder / "0" / "77.dcm", db.files_folder / "0" / "78.dcm"])
        (db.files_folder / "0" / "77.part").write_bytes(b"half")
        (db.files_folder / "0" / "78.dcm").write_bytes(b"orphan")
        os._exit(0)  # no close(): the marker and its journal of copies stay, as after a crash
    """)
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "db")], check=True)
    from osirix_tasks.emulator.database.index import Database

    db = Database(tmp_path / "db")
    assert not any(p.is_file() for p in db.files_folder.rglob("*"))
    assert [m.name for m in (tmp_path / "db").glob(".in-use-*")] == [f".in-use-{os.getpid()}"]
    db.close()
