"""Rendering use-case results as HTTP responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify

from commerce_core import Result

__all__ = ["REPLAY_HEADER", "json_response", "with_replay_header"]

REPLAY_HEADER = "Idempotent-Replayed"


def json_response(body: Mapping[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def with_replay_header(response: Response, result: Result[Any]) -> Response:
    """A stored first answer replayed: same status and body, and this header says so."""
    if result.replayed:
        response.headers[REPLAY_HEADER] = "true"
    return response
