"""`guichet worker` runs below the web processes' CPU priority (WORKER_NICENESS)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

GUICHET = Path(sys.executable).with_name("guichet")
ROOT = Path(__file__).resolve().parent.parent.parent
# A broker must be named for the command to start; the worker is stopped before it connects.
NO_BROKER_NEEDED = "redis://127.0.0.1:1/0"


def _niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _niceness_once_celery_runs(process: subprocess.Popen, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        if b"celery" in Path(f"/proc/{process.pid}/cmdline").read_bytes():
            return _niceness(process.pid)
        time.sleep(0.1)
    raise AssertionError("the worker did not start Celery")


@pytest.mark.integration
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize(("setting", "lowered_by"), [(None, 10), ("3", 3), ("0", 0)])
def test_worker_command_lowers_its_cpu_priority(tmp_path, setting, lowered_by):
    env = {**os.environ, "REDIS_URL": NO_BROKER_NEEDED, "GUICHET_DATA_DIR": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    env.pop("WORKER_NICENESS", None)
    if setting is not None:
        env["WORKER_NICENESS"] = setting
    process = subprocess.Popen([str(GUICHET), "worker", "--concurrency=1"], env=env,
                               cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        assert _niceness_once_celery_runs(process) == min(19, os.nice(0) + lowered_by)
    finally:
        process.kill()
        process.wait()
