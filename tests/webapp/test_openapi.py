"""The OpenAPI document and the routes match, in both directions."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _routes(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule in ("/healthz", "/readyz")):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(path, method) for method in (rule.methods or set()) - IGNORED_METHODS}
    return routes


def _documented(client: FlaskClient) -> set[tuple[str, str]]:
    spec = client.get("/api/openapi.json").get_json()
    return {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
    }


def test_every_route_is_documented(app: Flask, app_client: FlaskClient) -> None:
    assert _routes(app) - _documented(app_client) == set()


def test_every_documented_operation_is_a_route(app: Flask, app_client: FlaskClient) -> None:
    assert _documented(app_client) - _routes(app) == set()


def test_the_document_is_openapi_3_1_with_resolvable_references(app_client: FlaskClient) -> None:
    response = app_client.get("/api/openapi.json")
    spec = response.get_json()
    text = response.get_data(as_text=True)

    assert spec["openapi"].startswith("3.1")
    for ref in set(re.findall(r'"\$ref": ?"#/components/(\w+)/(\w+)"', text)):
        section, name = ref
        assert name in spec["components"][section], ref
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            assert operation["responses"], path
            for name in re.findall(r"{(\w+)}", path):
                assert any(p.get("name") == name for p in operation.get("parameters", [])), path
