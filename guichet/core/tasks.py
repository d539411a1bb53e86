"""Background work through one interface: in-process after the transaction commits by default.

A task never runs inside the transaction that triggered it, so that a failing mail server
cannot undo a receipt; failures are logged, never shown to the user who caused the task.
"""

import logging

from django.db import transaction

logger = logging.getLogger("guichet.tasks")


def run_after_commit(task, *args, **kwargs) -> None:
    def run():
        try:
            task(*args, **kwargs)
        except Exception:
            logger.exception("task %s failed", getattr(task, "__name__", task))

    transaction.on_commit(run)
