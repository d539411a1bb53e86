"""The request id: one short token per request, in every log line and the response.

A proxy's `X-Request-ID` is kept when it is a plain token (letters, digits, `-`, `_`, `.`, at
most 64 characters), so that a request can be followed from the proxy to the application;
anything else is replaced by a fresh id, since the header is written by whoever sends the
request and ends up in logs. Background tasks carry the id of the request that queued them:
`current_request_id()` when queueing, `bound_request_id(value)` around the task's run.
"""

import contextvars
import logging
import re
import uuid
from contextlib import contextmanager

import sentry_sdk

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
_ACCEPTED = re.compile(r"[A-Za-z0-9._-]{1,64}")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "guichet_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request (or task) being served, None outside of one."""
    return _request_id.get()


def sanitised_request_id(offered: str | None) -> str:
    """The offered id when it is a plain token, else a new one."""
    if offered and _ACCEPTED.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


@contextmanager
def bound_request_id(value: str | None):
    """Run a block (a Celery task, a command) under a request id: the given one, sanitised, or
    a new one; log records emitted inside carry it."""
    token = _request_id.set(sanitised_request_id(value))
    try:
        yield _request_id.get()
    finally:
        _request_id.reset(token)


class RequestIdMiddleware:
    """First in the chain, so that every later log line of the request carries the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with bound_request_id(request.META.get(_META_KEY)) as request_id:
            request.request_id = request_id
            sentry_sdk.set_tag("request_id", request_id)  # no-op without SENTRY_DSN
            response = self.get_response(request)
            response[HEADER] = request_id
            return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (None outside a request), for the formatters."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True
