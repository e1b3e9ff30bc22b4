"""RFC 9457 problem details: every failure of the API, whatever raised it.

Three sources of failure, one shape ``{type, title, status, detail, code, ...}``:

- ``commerce_core.errors.CommerceError`` - mapped to a status by its stable ``code``;
- ``ApiProblem`` - failures the web layer itself decides (CSRF, authentication, media type ...);
- werkzeug ``HTTPException`` (unknown route, wrong method, body too large) and anything
  unexpected, which becomes a 500 carrying only an ``error_id``; the traceback goes to the log.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from flask import Flask, Response, current_app, got_request_exception, json
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from commerce_core import (
    CommerceError,
    GatewayUnavailable,
    IdempotencyRequestInProgress,
    InvalidInput,
    LoginLocked,
    OutOfStock,
    RetryLater,
)

__all__ = ["PROBLEM_MIMETYPE", "ApiProblem", "install_error_handlers", "problem_response"]

PROBLEM_MIMETYPE = "application/problem+json"
_TYPE_PREFIX = "urn:commerce:problem:"
# A retry after this many seconds usually finds the first request finished.
IN_PROGRESS_RETRY_AFTER = 2
# A payment provider that did not answer is usually back within this many seconds.
GATEWAY_RETRY_AFTER = 5

log = structlog.get_logger("webapp.errors")

# The core's codes, and the HTTP status each one means. Codes that are not listed fall back to
# their nearest listed base class (``Conflict`` -> 409, ``InvalidInput`` -> 422).
STATUS_BY_CODE: dict[str, int] = {
    "validation_error": 422,
    "not_found": 404,
    "conflict": 409,
    "out_of_stock": 409,
    "hold_limit_reached": 409,
    "order_not_payable": 409,
    "order_not_refundable": 409,
    "illegal_transition": 409,
    "refund_exceeds_captured": 422,
    # draft-ietf-httpapi-idempotency-key-header: a reused key is 422, a concurrent one 409.
    "idempotency_key_reused": 422,
    "idempotency_in_progress": 409,
    "email_taken": 409,
    "invalid_credentials": 401,
    "refresh_rejected": 401,
    "reset_token_invalid": 400,
    "locked_out": 429,
    "forbidden": 403,
    "invalid_webhook": 400,
    "payment_gateway_error": 502,
    "payment_gateway_unavailable": 503,
    "retry_later": 503,
}

_HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class ApiProblem(Exception):
    """A failure decided by the web layer; raise it from a view or a hook."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail or title
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


def problem_body(
    status: int, code: str, title: str, detail: str, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "type": _TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **(extra or {}),
    }


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = problem_body(status, code, title, detail or title, extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def status_for(error: CommerceError) -> int:
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if isinstance(code, str) and code in STATUS_BY_CODE:
            return STATUS_BY_CODE[code]
    return 400


def commerce_problem(error: CommerceError) -> Response:
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(error, InvalidInput):
        extra["errors"] = [{"field": e.field, "message": e.message} for e in error.errors] or [
            {"field": "body", "message": error.detail}
        ]
    if isinstance(error, OutOfStock):
        extra["product_ids"] = list(error.product_ids)
        extra["variant_ids"] = list(error.variant_ids)
    if isinstance(error, IdempotencyRequestInProgress | RetryLater):
        headers["Retry-After"] = str(IN_PROGRESS_RETRY_AFTER)
    if isinstance(error, GatewayUnavailable):
        headers["Retry-After"] = str(GATEWAY_RETRY_AFTER)
    if isinstance(error, LoginLocked):
        headers["Retry-After"] = str(error.retry_after)
    return problem_response(
        status_for(error), error.code, error.title, error.detail, extra=extra, headers=headers
    )


def http_problem(error: HTTPException) -> Response:
    status = error.code or 500
    headers: dict[str, str] = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return problem_response(
        status,
        _HTTP_CODES.get(status, f"http_{status}"),
        error.name,
        error.description,
        headers=headers,
    )


def unexpected_problem(error: Exception) -> Response:
    # The id joins the answer to the log line; the traceback stays on our side.
    error_id = uuid.uuid4().hex
    log.exception("unhandled_exception", error_id=error_id, exc_type=type(error).__name__)
    # Flask only signals exceptions no handler took; this handler takes them all, so signal
    # here, or error monitors hooked on the signal (Sentry's Flask integration) see nothing.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=error)
    return problem_response(
        500,
        "internal_error",
        "Internal server error",
        f"Something went wrong on our side. Quote error id {error_id} if you contact us.",
        extra={"error_id": error_id},
    )


def install_error_handlers(app: Flask) -> None:
    """Route every failure to a problem response (Flask picks the most specific handler)."""
    app.register_error_handler(ApiProblem, _on_api_problem)
    app.register_error_handler(CommerceError, commerce_problem)
    app.register_error_handler(HTTPException, http_problem)
    app.register_error_handler(Exception, unexpected_problem)


def _on_api_problem(error: ApiProblem) -> Response:
    return problem_response(
        error.status,
        error.code,
        error.title,
        error.detail,
        extra=error.extra,
        headers=error.headers,
    )
