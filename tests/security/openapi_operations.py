"""Every operation of the served OpenAPI document, with every place a client can put a value.

The hostile-input tests walk this rather than a list of routes kept by hand: a route added to
the API (and so, by the contract test, to the document) is attacked the day it appears.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import attrs

Location = Literal["path", "query", "header", "cookie", "body", "whole_body"]
# A place in a JSON body: keys of objects and indexes of arrays, outermost first.
BodyPath = tuple[str | int, ...]

METHODS = ("get", "put", "post", "delete", "patch")


@attrs.frozen
class Target:
    """One place to put a hostile value: a parameter, a header a security scheme reads, a
    field of the JSON body (``body_path``), or the body as a whole (``whole_body``)."""

    location: Location
    name: str
    body_path: BodyPath = ()

    def __str__(self) -> str:
        if self.location == "body":
            return "body." + ".".join(str(part) for part in self.body_path)
        return f"{self.location}:{self.name}"


@attrs.frozen
class Parameter:
    name: str
    location: Location
    required: bool
    schema: Mapping[str, Any]


@attrs.frozen
class Operation:
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    # Security schemes that all have to be satisfied (the first requirement of the document).
    security: tuple[Mapping[str, Any], ...]
    body_schema: Mapping[str, Any] | None
    targets: tuple[Target, ...]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def needs_session(self) -> bool:
        return any(scheme.get("in") == "cookie" for scheme in self.security)

    def security_headers(self) -> list[str]:
        return [
            scheme["name"]
            for scheme in self.security
            if scheme.get("type") == "apiKey" and scheme.get("in") == "header"
        ]


def operations(document: Mapping[str, Any]) -> list[Operation]:
    """The document's operations, each with its targets (none is left without one)."""
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                found.append(_operation(document, path, method, item[method]))
    return found


def resolve(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """``node`` with its local ``$ref`` followed (siblings of a reference override it)."""
    while "$ref" in node:
        pointer = node["$ref"]
        if not pointer.startswith("#/"):
            raise ValueError(f"only local references are followed, not {pointer}")
        target: Any = document
        for part in pointer[2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _operation(
    document: Mapping[str, Any], path: str, method: str, spec: Mapping[str, Any]
) -> Operation:
    parameters = tuple(
        Parameter(
            name=resolved["name"],
            location=resolved["in"],
            required=bool(resolved.get("required", resolved["in"] == "path")),
            schema=resolve(document, resolved.get("schema", {})),
        )
        for resolved in (resolve(document, raw) for raw in spec.get("parameters", ()))
    )
    schemes = document.get("components", {}).get("securitySchemes", {})
    requirements = spec.get("security") or [{}]
    security = tuple(schemes[name] for name in requirements[0])
    body_schema = None
    content = resolve(document, spec.get("requestBody", {})).get("content", {})
    if "application/json" in content:
        body_schema = resolve(document, content["application/json"].get("schema", {}))
    targets = [Target(p.location, p.name) for p in parameters]
    targets += [
        Target(scheme["in"], scheme["name"])
        for scheme in security
        if scheme.get("type") == "apiKey" and scheme.get("in") in {"header", "cookie"}
    ]
    if body_schema is not None:
        targets.append(Target("whole_body", "body"))
        targets += [
            Target("body", str(field), field) for field in body_fields(document, body_schema)
        ]
    return Operation(method, path, parameters, security, body_schema, tuple(targets))


def body_fields(
    document: Mapping[str, Any], schema: Mapping[str, Any], prefix: BodyPath = ()
) -> Iterator[BodyPath]:
    """Every field a JSON body of ``schema`` can carry, nested objects and arrays included."""
    schema = resolve(document, schema)
    for part in schema.get("allOf", ()):
        yield from body_fields(document, part, prefix)
    for name, property_schema in schema.get("properties", {}).items():
        field = (*prefix, name)
        yield field
        resolved = resolve(document, property_schema)
        if resolved.get("type") == "array" and "items" in resolved:
            yield (*field, 0)
            yield from body_fields(document, resolved["items"], (*field, 0))
        elif "properties" in resolved or "allOf" in resolved:
            yield from body_fields(document, resolved, field)
