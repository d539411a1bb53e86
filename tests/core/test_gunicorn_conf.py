"""guichet/gunicorn_conf.py read in a fresh interpreter (it disables the garbage collector of
the process that loads it, as gunicorn's master, so never in the test process itself)."""

import json
import subprocess
import sys
import threading

import pytest

from guichet.core import pdf

READ_CONF = """
import gc, json
from guichet import gunicorn_conf as conf
disabled_while_loading = not gc.isenabled()
conf.pre_fork(None, None)
frozen = gc.get_freeze_count()
conf.post_fork(None, None)
print(json.dumps({"disabled_while_loading": disabled_while_loading, "frozen": frozen,
                  "enabled": gc.isenabled(), "threshold": gc.get_threshold(),
                  "workers": conf.workers, "threads": conf.threads, "timeout": conf.timeout,
                  "graceful_timeout": conf.graceful_timeout, "max_requests": conf.max_requests,
                  "jitter": conf.max_requests_jitter, "bind": conf.bind,
                  "preload": conf.preload_app, "logger": conf.logger_class.__name__}))
conf.on_exit(None)
"""


def _conf(env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", READ_CONF], capture_output=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", **env}, check=True)
    return json.loads(done.stdout)


@pytest.mark.integration  # a fresh interpreter reads the configuration
def test_gunicorn_conf_freezes_the_preloaded_application_before_fork():
    conf = _conf({})
    assert conf["disabled_while_loading"] is True
    assert conf["frozen"] > 1000  # the modules loaded so far, out of the collector's reach
    assert conf["enabled"] is True
    assert conf["threshold"] == [50_000, 20, 100]
    assert conf["preload"] is True
    assert conf["logger"] == "JsonAccessLogger"


@pytest.mark.integration  # a fresh interpreter reads the configuration
def test_gunicorn_conf_reads_workers_threads_and_timeouts_from_the_environment():
    conf = _conf({"WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "4", "GUNICORN_TIMEOUT": "45",
                  "GUNICORN_GRACEFUL_TIMEOUT": "20", "GUNICORN_MAX_REQUESTS": "500",
                  "GUNICORN_MAX_REQUESTS_JITTER": "50", "GUNICORN_BIND": "0.0.0.0:9000"})
    assert (conf["workers"], conf["threads"], conf["timeout"], conf["graceful_timeout"],
            conf["max_requests"], conf["jitter"], conf["bind"]) == (
        3, 4, 45, 20, 500, 50, "0.0.0.0:9000")


def test_pdf_font_configuration_kept_per_thread():
    first = pdf._font_config()
    assert pdf._font_config() is first
    other = []
    thread = threading.Thread(target=lambda: other.append(pdf._font_config()))
    thread.start()
    thread.join()
    assert other[0] is not first
