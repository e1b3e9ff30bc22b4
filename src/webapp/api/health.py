"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import structlog
from flask import Blueprint, Response

from webapp.api.responses import json_response
from webapp.problems import problem_response
from webapp.request_ports import container

__all__ = ["bp"]

bp = Blueprint("health", __name__)

log = structlog.get_logger("webapp.health")


@bp.get("/healthz")
def liveness() -> Response:
    """The process answers. Touches nothing else, so a database outage never restarts workers."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readiness() -> Response:
    """Ready to serve: the database answers."""
    try:
        container().ping()
    except Exception as exc:  # any failure at all means "not ready"
        log.warning("readiness_failed", check="database", error=type(exc).__name__)
        return problem_response(
            503,
            "not_ready",
            "Service not ready",
            "the database is unreachable",
            extra={"checks": {"database": "down"}},
            headers={"Retry-After": "5"},
        )
    return json_response({"status": "ready", "checks": {"database": "ok"}})
