"""The gateway's webhook and staff refunds."""

from __future__ import annotations

from typing import assert_never

from flask import Blueprint, Response, current_app, request

from commerce_core import (
    MAX_REASON,
    LimitedOperation,
    Permission,
    RefundOrder,
    RefundOutcome,
    Result,
    handle_gateway_event,
    refund_order,
)
from webapp.api.responses import json_response, with_replay_header
from webapp.config import Settings
from webapp.csrf import csrf_exempt
from webapp.payloads import BodyReader, idempotency_key, json_body, request_body
from webapp.problems import ApiProblem, problem_response
from webapp.rate_limiting import rate_limited
from webapp.request_ports import container, payment_ports
from webapp.sessions import permission_required, require_user

__all__ = ["bp"]

bp = Blueprint("payments", __name__, url_prefix="/api/payments")

# Gateway events can outgrow the API's 64 KiB body limit (long line-item metadata).
WEBHOOK_MAX_BYTES = 1024 * 1024


@bp.post("/webhook")
@csrf_exempt  # no cookies, no session: the gateway authenticates by signing the raw body
def receive_stripe_webhook() -> Response:
    """Stripe's endpoint (what `stripe listen --forward-to` and the dashboard are given); in
    development without Stripe keys, the fake gateway's, which speaks Stripe's format."""
    parsers = container().event_parsers
    return _receive("stripe" if "stripe" in parsers else "fake")


@bp.post("/webhook/<gateway>")
@csrf_exempt
def receive_webhook(gateway: str) -> Response:
    return _receive(gateway)


def _receive(gateway: str) -> Response:
    parser = container().event_parsers.get(gateway)
    if parser is None:
        raise ApiProblem(404, "not_found", "Not found", f"no payment gateway {gateway[:40]!r}")
    # The raw bytes, untouched: the signature is over exactly these.
    payload = request_body(WEBHOOK_MAX_BYTES)
    event = parser.parse_event(payload, dict(request.headers))
    outcome = handle_gateway_event(event, **payment_ports())
    # 200 even for duplicates and ignored events: anything else makes the gateway retry.
    return json_response({"status": outcome.value})


@bp.get("/config")
def client_config() -> Response:
    """What a browser needs to pay with the shop's gateway; nothing secret."""
    settings: Settings = current_app.config["COMMERCE_SETTINGS"]
    gateway = container().gateways.default.name
    public = {
        "stripe": {"publishable_key": settings.stripe_publishable_key},
        "paypal": {
            "client_id": settings.paypal_client_id,
            "environment": settings.paypal_environment,
        },
        "razorpay": {"key_id": settings.razorpay_key_id},
    }.get(gateway, {})
    response = json_response({"gateway": gateway, **public})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.post("/refund")
@permission_required(Permission.ORDERS_REFUND)
@rate_limited(LimitedOperation.REFUND)
def refund() -> Response:
    actor = require_user()
    key = idempotency_key(required=True)
    body = BodyReader(json_body())
    order_id = body.text("order_id", min_length=1, max_length=255)
    amount = body.optional_amount("amount")
    reason = body.optional_text("reason", max_length=MAX_REASON, multiline=True) or ""
    body.finish()
    result = refund_order(
        RefundOrder(
            actor_id=actor.id,
            order_id=order_id,
            amount=amount,
            idempotency_key=key,
            reason=reason,
            ip=request.remote_addr,
        ),
        **payment_ports(),
    )
    return with_replay_header(render_refund(result), result)


def render_refund(result: Result[RefundOutcome]) -> Response:
    match result.outcome:
        case RefundOutcome.SUCCEEDED:
            return json_response(result.body, 201)
        case RefundOutcome.PENDING:
            return json_response(result.body, 202)
        case RefundOutcome.FAILED:
            return problem_response(
                502,
                "refund_failed",
                "Refund failed",
                "the payment gateway refused the refund; nothing was refunded",
                extra={
                    "refund_id": result.body["refund"]["id"],
                    "order_id": result.body["order"]["id"],
                },
            )
        case unknown:
            assert_never(unknown)
