"""Rendering use-case results as HTTP responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify

from commerce_core import Result

__all__ = ["REPLAY_HEADER", "json_response", "unknown_outcome", "with_replay_header"]

REPLAY_HEADER = "Idempotent-Replayed"


def json_response(body: Mapping[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def with_replay_header(response: Response, result: Result) -> Response:
    """A stored first answer replayed: same status and body, and this header says so."""
    if result.replayed:
        response.headers[REPLAY_HEADER] = "true"
    return response


def unknown_outcome(result: Result) -> RuntimeError:
    # The core grew an outcome this driver does not know: a 500 (logged), not a guess.
    return RuntimeError(f"unrendered use-case outcome {result.outcome!r}")
