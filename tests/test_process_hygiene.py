"""The suite leaves no process behind however it is launched: a pytest session started with
SIGINT ignored (a background job) gives its children a working SIGINT, and whatever its tests
leave running (a child, an orphaned grandchild in a session of its own) is killed when it ends.

Each case runs a pytest session of its own on a small test file written here, with only the
reaper plugin, and looks at the processes afterwards through /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT
from tests.support.reaper import running

INNER = """
import os, signal, subprocess, sys, time
from pathlib import Path

SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]


def ignored(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGINT - 1) & 1)
    raise AssertionError("no SigIgn line")


def test_leaves_processes_running():
    child = subprocess.Popen(SLEEP)
    while b"sleep" not in Path(f"/proc/{child.pid}/cmdline").read_bytes():
        time.sleep(0.05)  # until it runs Python, past the exec
    assert not ignored(child.pid)
    spawn = "import subprocess, sys; print(subprocess.Popen(sys.argv[1:], start_new_session=True, stdout=-3, stderr=-3).pid)"
    orphan = subprocess.run([sys.executable, "-c", spawn, *SLEEP], capture_output=True, text=True)
    Path(os.environ["PIDS_FILE"]).write_text(f"{child.pid} {orphan.stdout.strip()}")
"""


def test_a_session_with_sigint_ignored_leaves_no_process_behind(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER)
    pids_file = tmp_path / "pids"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PIDS_FILE": str(pids_file)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "tests.support.reaper", "-p"]
    done = subprocess.run(
        [*command, "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # a background job
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pids = [int(p) for p in pids_file.read_text().split()]
    assert len(pids) == 2 and all(p > 1 for p in pids)
    deadline = time.monotonic() + 10
    while any(running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(running(p) for p in pids), [p for p in pids if running(p)]
    assert done.stderr.count("reaper: killed a process the tests left behind") == 2, done.stderr
