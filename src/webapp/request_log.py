"""Request ids and one structured log line per request.

An incoming ``X-Request-ID`` is kept when it is well formed (a proxy's id then joins its logs to
ours), otherwise a new one is made; it is bound into structlog's context so every line logged
while handling the request carries it, and echoed on the response. The access line holds no
body, query string, cookie, token or email - only what is safe to keep for months.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from flask import Flask, Response, g, request

__all__ = ["REQUEST_ID_HEADER", "install_request_logging"]

REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

log = structlog.get_logger("webapp.http")


def _begin() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _WELL_FORMED.match(incoming) else uuid.uuid4().hex
    g.started = time.perf_counter()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    user = g.get("user")
    log.info(
        "request",
        method=request.method,
        # The path only: query strings can carry search terms and, from careless clients, tokens.
        path=request.path,
        status=response.status_code,
        duration_ms=round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
        user_id=None if user is None else user.id,
    )
    return response


def _forget(_error: BaseException | None) -> None:
    structlog.contextvars.clear_contextvars()


def install_request_logging(app: Flask) -> None:
    # Registered before any other hook, so that even a request refused by a later hook (CSRF)
    # gets its id and its log line.
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_forget)
