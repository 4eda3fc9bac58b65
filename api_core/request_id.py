"""Request ids: one per HTTP request, in the response header, in every log record and in masked errors.

``RequestIdMiddleware`` (first in ``MIDDLEWARE``) takes the caller's ``X-Request-ID`` when it is a
plain token (a load balancer's id, so one id follows the request through both logs), else makes a
random one; it keeps it in a context variable for the request's life and returns it in the
``X-Request-ID`` response header. ``RequestIdLogFilter`` (attached to the console handler in
``LOGGING``) writes it into every log record as ``%(request_id)s`` (``-`` outside a request), and
the error-masking extension (``api_core.extensions``) puts it into an ``INTERNAL_ERROR``'s
``extensions.requestId``, so a client's report finds the traceback in the log.

Written here rather than taken from django-guid or django-log-request-id: the whole behaviour is
these few lines, the masking extension needs the id from the same context variable, and neither
package would save a line of it while adding a dependency to the lock files.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

#: The header the id is read from and answered in.
REQUEST_ID_HEADER = "X-Request-ID"
_INCOMING = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("patron_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served in this context, or ``None`` (a worker, a WebSocket)."""
    return _request_id.get()


def new_request_id() -> str:
    """A fresh random id (32 hex digits)."""
    return uuid.uuid4().hex


def request_id_or_new() -> str:
    """The current request's id, or a fresh one for errors raised outside an HTTP request."""
    return current_request_id() or new_request_id()


class RequestIdMiddleware:
    """Set the request id for the request's life and answer it in the ``X-Request-ID`` header.

    Sync and async capable, so that under the ASGI server it adds no thread hop of its own.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        """Wrap ``get_response`` (Django's middleware protocol)."""
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    @staticmethod
    def _id_for(request: HttpRequest) -> str:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        return incoming if _INCOMING.match(incoming) else new_request_id()

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        """Run the request with its id set (the async path when the chain is async)."""
        if self.is_async:
            return self._acall(request)
        request_id = self._id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        request_id = self._id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        try:
            response = await self.get_response(request)
        finally:
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Add ``request_id`` (or ``-``) to every record, for the ``%(request_id)s`` of the log format."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record; only annotates it (a record that has one keeps it)."""
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or "-"
        return True
