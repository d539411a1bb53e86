"""`guichet worker` runs below the web processes' CPU priority (WORKER_NICENESS)."""

import contextlib
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


@contextlib.contextmanager
def _running_worker(tmp_path, setting=None, own_session=False):
    """`guichet worker` started (in a session of its own or this one's), once it has become
    Celery: its pid and nice value; killed afterwards."""
    env = {**os.environ, "REDIS_URL": NO_BROKER_NEEDED, "GUICHET_DATA_DIR": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    env.pop("WORKER_NICENESS", None)
    if setting is not None:
        env["WORKER_NICENESS"] = setting
    process = subprocess.Popen([str(GUICHET), "worker", "--concurrency=1"], env=env,
                               cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=own_session)
    try:
        yield process.pid, _niceness_once_celery_runs(process)
    finally:
        process.kill()
        process.wait()


def _autogroup_nice(pid: int | str) -> int | None:
    """The nice value of the process's session group; None for the root group (a process
    started outside any session, as some CI runners do), which the kernel shows empty."""
    text = Path(f"/proc/{pid}/autogroup").read_text()
    return int(text.split("nice")[1]) if "nice" in text else None


NEEDS_AUTOGROUPS = pytest.mark.skipif(
    not Path("/proc/self/autogroup").exists(),
    reason="a kernel without autogroups has no session groups to lower")


@pytest.mark.integration
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize(("setting", "lowered_by"), [(None, 10), ("3", 3), ("0", 0)])
def test_worker_command_lowers_its_cpu_priority(tmp_path, setting, lowered_by):
    with _running_worker(tmp_path, setting) as (_pid, niceness):
        assert niceness == min(19, os.nice(0) + lowered_by)


@pytest.mark.integration
@NEEDS_AUTOGROUPS
def test_worker_command_in_its_own_session_lowers_its_session_group(tmp_path):
    """Each session is a scheduling group: a worker that leads its own (as a supervisor
    starts it) must lower the group, or its own nice value counts for nothing against the web
    server's group."""
    with _running_worker(tmp_path, "7", own_session=True) as (pid, _niceness):
        assert _autogroup_nice(pid) == 7


@pytest.mark.integration
@NEEDS_AUTOGROUPS
def test_worker_command_sharing_a_session_leaves_the_session_group_alone(tmp_path):
    """A worker started beside the web server in one session (a shell, a process manager)
    must not slow the whole session down."""
    before = _autogroup_nice("self")
    with _running_worker(tmp_path, "7") as (pid, niceness):
        assert niceness == min(19, os.nice(0) + 7)
        assert _autogroup_nice(pid) == _autogroup_nice("self") == before
