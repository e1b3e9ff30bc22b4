"""Hostile input never reaches a 500, on SQLite as on PostgreSQL.

Every operation of the served OpenAPI document, every place of it a client can write - path
segments, query values, headers (``Idempotency-Key``, the gateway's signature, the CSRF token),
the session cookie, every field of the JSON body and the body as a whole - gets values no
careful client sends: control characters and NUL (which PostgreSQL cannot store), lone
surrogates, text that is not NFC, very long text, numbers of thousands of digits, ``NaN``,
``-0``, deep nesting, other encodings, lying lengths, chunked bodies past the limit. The answer
is never a 5xx; a 4xx is problem JSON with a stable ``code``; and a refused request changes no
stock, order, refund, idempotency key or account.

The operations come from the document, so a new route is attacked the day it is documented.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from tests.security.conftest import SecurityShop
from tests.security.hostile import (
    OVER_ANY_LIMIT,
    PROBLEM_JSON,
    RawBody,
    assert_answered_with_a_problem_or_success,
    hostile_bodies,
    hostile_value_for,
)
from tests.security.openapi_operations import Operation, Target, operations
from webapp.api.responses import REPLAY_HEADER

# A few tens of seconds for both databases together; HYPOTHESIS_PROFILE=thorough for more.
_THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
EXAMPLES = {"sqlite": 300, "postgres": 100}
# Business outcomes that are 4xx and still change an order (a decline gives its stock back).
_OUTCOMES_WITH_EFFECTS = {"payment_declined", "payment_canceled", "payment_not_completed"}


def _refused(response: TestResponse) -> bool:
    if not 400 <= response.status_code < 500 or response.headers.get(REPLAY_HEADER):
        return False
    return response.get_json().get("code") not in _OUTCOMES_WITH_EFFECTS


def _attack(
    attack_shop: SecurityShop, operation: Operation, target: Target, value: Any
) -> TestResponse:
    request = attack_shop.baseline(operation)
    request.put(target, value)
    attack_shop.sign(operation, target, request)
    before = attack_shop.snapshot()
    response = request.send(attack_shop.app)
    assert_answered_with_a_problem_or_success(operation, response)
    if _refused(response):
        assert attack_shop.snapshot() == before, (
            f"{operation} refused {target} but changed the shop"
        )
    return response


def test_every_operation_and_place_is_attacked(attack_shop: SecurityShop) -> None:
    """The walk over the document finds what it must, or the attack below proves little."""
    found = {str(op): {str(t) for t in op.targets} for op in operations(attack_shop.document())}
    assert "path:slug" in found["GET /api/products/{slug}"]
    assert {"query:page", "query:per_page", "query:q"} <= found["GET /api/products"]
    assert {
        "header:Idempotency-Key",
        "header:X-CSRF-Token",
        "cookie:session",
        "body.intent_id",
        "body.payment_method",
        "whole_body:body",
    } <= found["POST /api/checkout/confirm"]
    assert "body.items.0.product_id" in found["POST /api/checkout/intent"]
    assert "body.amount" in found["POST /api/payments/refund"]
    assert "header:Stripe-Signature" in found["POST /api/payments/webhook"]


def test_hostile_values_anywhere_get_a_problem_and_change_nothing(
    attack_shop: SecurityShop, database: str
) -> None:
    places = [(op, t) for op in operations(attack_shop.document()) for t in op.targets]
    examples = EXAMPLES[database] * (10 if _THOROUGH else 1)

    # The shop is built once for all examples (a database per example would take minutes):
    # each example compares the shop before and after itself, so none depends on another.
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(st.data())
    def attack(data: st.DataObject) -> None:
        operation, target = data.draw(st.sampled_from(places), label="place")
        valid = attack_shop.baseline(operation)
        value = data.draw(hostile_value_for(target, valid.body_bytes), label=str(target))
        response = _attack(attack_shop, operation, target, value)
        if target.location == "path":
            # A hostile segment names nothing: not found, never a view's crash.
            assert response.status_code in {400, 404}, (operation, response.status_code)

    attack()


def test_every_whole_body_attack_on_every_operation_with_a_body(attack_shop: SecurityShop) -> None:
    for operation in operations(attack_shop.document()):
        if operation.body_schema is None:
            continue
        for body in hostile_bodies(attack_shop.baseline(operation).body_bytes()):
            response = _attack(attack_shop, operation, Target("whole_body", "body"), body)
            if "past the limit" in body.label or body.label == "too long":
                assert response.status_code == 413, (operation, body.label, response.status_code)
                assert response.get_json()["code"] == "payload_too_large"


def _api_body_route(attack_shop: SecurityShop) -> Operation:
    (register,) = [
        o for o in operations(attack_shop.document()) if str(o) == "POST /api/auth/register"
    ]
    return register


def _padded(valid: bytes, size: int) -> bytes:
    """``valid`` JSON grown with insignificant whitespace to exactly ``size`` bytes."""
    return valid[:-1] + b" " * (size - len(valid)) + b"}"


def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_413(
    attack_shop: SecurityShop,
) -> None:
    """The limit is exact, also for a chunked body that werkzeug would silently cut short."""
    limit = attack_shop.app.config["MAX_CONTENT_LENGTH"]
    operation = _api_body_route(attack_shop)
    chunked = {"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}
    for streamed in (True, False):
        for size, expected in ((limit, 201), (limit + 1, 413), (OVER_ANY_LIMIT, 413)):
            request = attack_shop.baseline(operation)
            padded = _padded(request.body_bytes(), size)
            environ = chunked if streamed else {}
            body = RawBody(f"{size} bytes", padded, environ=environ, streamed=streamed)
            request.put(Target("whole_body", "body"), body)
            response = request.send(attack_shop.app)
            assert response.status_code == expected, (streamed, size, response.get_data()[:200])


# What a JSON route answers to each whole-body attack: the problem names what is wrong.
BODY_PROBLEMS = {
    "nested arrays": (400, "malformed_json"),
    "nested objects": (400, "malformed_json"),
    "utf-16 with BOM": (400, "malformed_json"),
    "utf-32": (400, "malformed_json"),
    "utf-8 BOM": (400, "malformed_json"),
    "latin-1 bytes": (400, "malformed_json"),
    "surrogate as utf-8 bytes": (400, "malformed_json"),
    "charset utf-16": (415, "unsupported_media_type"),
    "charset latin-1": (415, "unsupported_media_type"),
    "text/plain": (415, "unsupported_media_type"),
    "NaN": (400, "malformed_json"),
    "huge number": (400, "malformed_json"),
    "chunked past the limit": (413, "payload_too_large"),
    "Content-Length too short": (400, "malformed_json"),
    "Content-Length too long": (400, "bad_request"),
}


def test_a_json_route_names_what_is_wrong_with_a_body(attack_shop: SecurityShop) -> None:
    operation = _api_body_route(attack_shop)
    bodies = {b.label: b for b in hostile_bodies(attack_shop.baseline(operation).body_bytes())}
    answers = {}
    for label in BODY_PROBLEMS:
        request = attack_shop.baseline(operation)
        request.put(Target("whole_body", "body"), bodies[label])
        response = request.send(attack_shop.app)
        assert response.mimetype == PROBLEM_JSON, label
        answers[label] = (response.status_code, response.get_json()["code"])
    assert answers == BODY_PROBLEMS


def test_a_body_in_utf8_with_a_charset_parameter_is_read(attack_shop: SecurityShop) -> None:
    operation = _api_body_route(attack_shop)
    request = attack_shop.baseline(operation)
    (body,) = [b for b in hostile_bodies(request.body_bytes()) if b.label == "charset UTF-8"]
    request.put(Target("whole_body", "body"), body)
    assert request.send(attack_shop.app).status_code == 201


HOSTILE_SEGMENTS = [
    "a\x00b",
    "\x00",
    "a\x1fb",
    "a\x7fb",
    "a\x85b",
    "\ud800",
    "x" * 256,
    "é" * 300,
    "a/b",
]


def test_a_hostile_path_segment_answers_404_on_every_route(attack_shop: SecurityShop) -> None:
    attacked = 0
    for operation in operations(attack_shop.document()):
        for parameter in operation.parameters:
            if parameter.location != "path":
                continue
            for segment in HOSTILE_SEGMENTS:
                response = _attack(attack_shop, operation, Target("path", parameter.name), segment)
                assert response.status_code == 404, (operation, segment)
                assert response.get_json()["code"] == "not_found"
                attacked += 1
    assert attacked >= 3 * len(HOSTILE_SEGMENTS)


ABSURD_TIMESTAMPS = ["9" * 5_000, "1" * 13, "-1", "1e9", "\x00", "١٢٣", ""]


def test_an_absurd_signature_timestamp_is_an_invalid_webhook(attack_shop: SecurityShop) -> None:
    webhooks = [op for op in operations(attack_shop.document()) if attack_shop.signature_header(op)]
    assert webhooks
    for operation in webhooks:
        header = attack_shop.signature_header(operation)
        assert header is not None
        for timestamp in ABSURD_TIMESTAMPS:
            request = attack_shop.baseline(operation)
            request.put(Target("header", header), f"t={timestamp},v1=" + "0" * 64)
            response = request.send(attack_shop.app)
            assert response.status_code == 400, (operation, response.get_data()[:200])
            assert response.get_json()["code"] == "invalid_webhook"
