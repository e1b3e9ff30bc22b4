"""The fake gateway's 3-D Secure page: what Stripe's test authentication page is to Stripe.

It exists only when the shop's gateway is ``fake`` (``install_three_d_secure`` registers nothing
otherwise): ``GET /fake-gateway/3ds/<intent_id>?return_to=/orders/<id>`` shows the amount and
two buttons, "Complete" and "Fail". Either goes through the fake gateway's adapter
(``FakeStripeGateway.authenticate``), which settles the intent and queues the Stripe-shaped,
signed webhook a real gateway would send; the page then hands that very event to the shop's
webhook handler at once (``handle_gateway_event``, after ``parse_event`` verified it), so the
order's page shows the outcome when the shopper lands on it - also where no delivery thread runs
(tests, a single process). The outbox still delivers it later, and the handler ignores it then
as the duplicate it is. ``return_to`` is followed only to a path of this site.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Flask, Response, render_template, request

from adapters.payments.fake_gateway import FakeStripeGateway
from commerce_core import (
    GatewayError,
    IntentStatus,
    NotFound,
    Order,
    PaymentIntent,
    handle_gateway_event,
)
from webapp.pages.auth import _see_other
from webapp.pages.redirects import safe_next
from webapp.request_ports import CONTAINER_KEY, container, payment_ports

__all__ = ["PREFIX", "bp", "challenge_path", "install_three_d_secure"]

bp = Blueprint("fake_gateway_3ds", __name__)

PREFIX = "/fake-gateway/3ds"
CACHE_CONTROL = "private, no-store"
OUTCOMES = {"complete": True, "fail": False}
# The event a challenge's outcome makes, by outcome (Stripe's event types).
_EVENT_TYPES = {True: "payment_intent.succeeded", False: "payment_intent.payment_failed"}
# How far back to look for the event just queued (others' may have been queued since).
_RECENT_EVENTS = 50


def challenge_path(order: Order) -> str:
    """Where the shopper authenticates ``order``'s payment, and comes back from."""
    intent_id = quote(order.intent_id or "", safe="")
    return f"{PREFIX}/{intent_id}?return_to={quote(f'/orders/{order.id}', safe='/')}"


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _gateway() -> FakeStripeGateway:
    gateway = container().gateways.default
    if not isinstance(gateway, FakeStripeGateway):  # pragma: no cover - not installed then
        raise NotFound("no such page")
    return gateway


def _intent(gateway: FakeStripeGateway, intent_id: str) -> PaymentIntent:
    try:
        return gateway.get_intent(intent_id)
    except GatewayError:
        raise NotFound("no such payment to authenticate") from None


def _page(intent: PaymentIntent, return_to: str, *, status: int = 200) -> Response:
    body = render_template(
        "checkout/three_d_secure.html",
        intent=intent,
        return_to=return_to,
        waiting=intent.status is IntentStatus.REQUIRES_ACTION,
    )
    return Response(body, status=status, mimetype="text/html")


def _return_to(source: str | None) -> str:
    return safe_next(source, default="/")


def _tell_the_shop(gateway: FakeStripeGateway, intent_id: str, success: bool) -> None:
    """The webhook the outcome queued, handed to the shop now (see the module docstring)."""
    for event_id in reversed(gateway.event_ids(_EVENT_TYPES[success])[-_RECENT_EVENTS:]):
        payload, headers = gateway.signed_event(event_id)
        event = gateway.parse_event(payload, headers)
        if event.intent_id == intent_id:
            handle_gateway_event(event, **payment_ports())
            return


@bp.get(f"{PREFIX}/<intent_id>")
def challenge(intent_id: str) -> Response:
    gateway = _gateway()
    return _page(_intent(gateway, intent_id), _return_to(request.args.get("return_to")))


@bp.post(f"{PREFIX}/<intent_id>")
def answer(intent_id: str) -> Response:
    gateway = _gateway()
    intent = _intent(gateway, intent_id)
    return_to = _return_to(request.form.get("return_to"))
    success = OUTCOMES.get(request.form.get("outcome") or "")
    if success is None:
        return _page(intent, return_to, status=422)
    if intent.status is not IntentStatus.REQUIRES_ACTION:
        return _page(intent, return_to, status=409)
    try:
        gateway.authenticate(intent_id, success)
    except GatewayError:
        # Answered meanwhile (a second tab, a double click): nothing more to do here.
        return _page(_intent(gateway, intent_id), return_to, status=409)
    _tell_the_shop(gateway, intent_id, success)
    return _see_other(return_to)


def install_three_d_secure(app: Flask) -> None:
    """Register the page, only if the shop's gateway is the fake one."""
    if isinstance(app.extensions[CONTAINER_KEY].gateways.default, FakeStripeGateway):
        app.register_blueprint(bp)
