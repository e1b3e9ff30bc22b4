"""The OpenAPI document of this API."""

from __future__ import annotations

from flask import Blueprint, Response

from webapp.api.responses import json_response
from webapp.openapi import openapi_spec

__all__ = ["bp"]

bp = Blueprint("docs", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return json_response(openapi_spec())
