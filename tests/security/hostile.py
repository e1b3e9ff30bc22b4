"""Hostile values, and requests that carry them exactly as a hand-made client would.

A value goes where a real attacker can put it: JSON bodies may hold anything JSON's grammar
allows and some things it does not (``NaN``, a number of thousands of digits, a lone surrogate
escape), query strings and paths carry percent-encoded UTF-8 bytes (also of a surrogate), and a
header or cookie arrives as bytes a WSGI server hands over decoded as Latin-1.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import attrs
from flask import Flask
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from tests.security.openapi_operations import BodyPath, Operation, Target

PROBLEM_JSON = "application/problem+json"
# Past the largest body any route takes (the webhook's 1 MiB), so every route must say 413.
OVER_ANY_LIMIT = 1024 * 1024 + 1


@attrs.frozen
class RawJson:
    """JSON text spliced into a body as it is: what ``json.dumps`` would never write."""

    text: str


@attrs.frozen
class RawBody:
    """A whole request body as bytes, with the headers and WSGI environ it comes with."""

    label: str
    data: bytes
    content_type: str | None = "application/json"
    environ: Mapping[str, Any] = attrs.field(factory=dict)
    # Sent as a stream (chunked, or with a lying Content-Length) rather than as ``data``.
    streamed: bool = False


@attrs.define
class HostileRequest:
    method: str
    path: str
    path_values: dict[str, str] = attrs.field(factory=dict)
    query: dict[str, str] = attrs.field(factory=dict)
    headers: dict[str, str] = attrs.field(factory=dict)
    cookies: dict[str, str] = attrs.field(factory=dict)
    body: Any = None
    has_body: bool = False
    raw: RawBody | None = None

    def put(self, target: Target, value: Any) -> None:
        """Put ``value`` where ``target`` says, replacing what the request had there."""
        match target.location:
            case "path":
                self.path_values[target.name] = _as_text(value)
            case "query":
                self.query[target.name] = _as_text(value)
            case "header":
                self.headers[target.name] = _as_header(_as_text(value))
            case "cookie":
                self.cookies[target.name] = _as_header(_as_text(value))
            case "body":
                self.body = _replaced(self.body, target.body_path, value)
            case "whole_body":
                self.raw = value if isinstance(value, RawBody) else None
                if self.raw is None:
                    self.body = value

    def body_bytes(self) -> bytes:
        return encode_json(self.body).encode("ascii")

    def send(self, app: Flask) -> TestResponse:
        path = self.path
        for name, value in self.path_values.items():
            path = path.replace("{" + name + "}", _percent(value))
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        query = "&".join(f"{_percent(k)}={_percent(v)}" for k, v in self.query.items())
        client = app.test_client(use_cookies=False)
        arguments: dict[str, Any] = {"method": self.method, "query_string": query}
        if self.raw is not None:
            if self.raw.content_type is not None:
                headers["Content-Type"] = self.raw.content_type
            if self.raw.streamed:
                arguments["input_stream"] = io.BytesIO(self.raw.data)
            else:
                arguments["data"] = self.raw.data
            arguments["environ_overrides"] = dict(self.raw.environ)
        elif self.has_body:
            headers["Content-Type"] = "application/json"
            arguments["data"] = self.body_bytes()
        return client.open(path, headers=headers, **arguments)


def encode_json(value: Any) -> str:
    """JSON text of ``value``, with ``RawJson`` spliced in verbatim. Lone surrogates come out
    as ``\\udXXX`` escapes (``ensure_ascii``), as a hostile client would write them."""
    if isinstance(value, RawJson):
        return value.text
    if isinstance(value, dict):
        fields = (json.dumps(str(k)) + ":" + encode_json(v) for k, v in value.items())
        return "{" + ",".join(fields) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode_json(item) for item in value) + "]"
    return json.dumps(value)


def _replaced(body: Any, path: BodyPath, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(body) if isinstance(body, list) else []
        if not items:
            items.append({})
        items[0] = _replaced(items[0], rest, value)
        return items
    fields = dict(body) if isinstance(body, dict) else {}
    fields[head] = _replaced(fields.get(head), rest, value)
    return fields


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, RawJson):
        return value.text
    return encode_json(value)


def _percent(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _as_header(text: str) -> str:
    """What a WSGI server makes of ``text`` sent as UTF-8 bytes: Latin-1 characters. Line
    breaks cannot be sent inside a header at all (they would end it)."""
    latin1 = text.encode("utf-8", "surrogatepass").decode("latin-1")
    return latin1.replace("\r", "").replace("\n", "")


# -- values -------------------------------------------------------------------------------------

CONTROL_CHARACTERS = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
# Each differs from its NFC form (decomposed accents, singletons, composition exclusions).
NOT_NFC = ["e\u0301", "A\u030a", "\u212b", "\u2126", "\u1e9b\u0323", "\u0958", "n\u0303o"]
ODD_TEXT = [
    "",
    " ",
    "\u00a0",
    "\ufeff",
    "\u200b",
    "\u202e",
    "\ufffe",
    "\uffff",
    "\U0010ffff",
    "\U0001f600",
    "../../etc/passwd",
    "%00",
    "%ED%A0%80",
    "' OR '1'='1' --",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
    "{}",
    "[]",
    "null",
    "NaN",
    "Infinity",
    "-0",
    "1e999",
    "0x10",
    "9" * 5000,
    "-" + "9" * 5000,
]
LONG_LENGTHS = [256, 1_025, 10_001, 70_000]
# Numbers and literals no serializer writes; Python's json reads some, refuses others.
ODD_NUMBERS = [
    RawJson("9" * 5000),
    RawJson("-" + "9" * 5000),
    RawJson("1" + "0" * 4000),
    RawJson("1e999"),
    RawJson("-1e999"),
    RawJson("1e-999"),
    RawJson("-0"),
    RawJson("-0.0"),
    RawJson("NaN"),
    RawJson("Infinity"),
    RawJson("-Infinity"),
    RawJson("0x10"),
    RawJson("01"),
    1.7976931348623157e308,
    5e-324,
    2**31,
    2**53 + 1,
    2**63,
    -(2**63) - 1,
    2**64,
    10**16,
    0,
    -1,
    1.0,
    1.5,
    True,
    False,
    None,
]
ODD_STRUCTURES = [[], {}, [None], [[]], {"$ne": None}, RawJson("[" * 800 + "]" * 800)]


def _spliced(base: st.SearchStrategy[str], inserts: list[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda a, c, b: a + c + b, base, st.sampled_from(inserts), base)


def hostile_text() -> st.SearchStrategy[str]:
    """Strings a careful client never sends."""
    short = st.text(max_size=12)
    return st.one_of(
        _spliced(short, CONTROL_CHARACTERS),
        _spliced(short, LONE_SURROGATES),
        _spliced(short, NOT_NFC),
        st.sampled_from(ODD_TEXT),
        st.builds(
            lambda unit, n: unit * n,
            st.sampled_from(["x", "\u00e9", "\x00", "\U0001f600", "e\u0301"]),
            st.sampled_from(LONG_LENGTHS),
        ),
        # Anything at all, surrogates included (Hypothesis leaves category Cs out by default).
        st.text(st.characters(exclude_categories=()), max_size=24),
    )


def hostile_json_value() -> st.SearchStrategy[Any]:
    """Any hostile value a JSON field can be given."""
    return st.one_of(
        hostile_text(),
        st.sampled_from(ODD_NUMBERS),
        st.sampled_from(ODD_STRUCTURES),
        st.integers(),
        st.floats(allow_nan=False),
    )


def _nested(opening: str, closing: str, depth: int) -> bytes:
    return (opening * depth + "1" + closing * depth).encode()


def hostile_bodies(valid: bytes) -> list[RawBody]:
    """Whole bodies: the ``valid`` JSON body in the wrong encodings, under the wrong media
    types, with a lying length, chunked past the limit - and bodies that are no JSON at all."""
    text = valid.decode("ascii")
    chunked = {"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}
    padded = valid[:-1] + b" " * (OVER_ANY_LIMIT - len(valid)) + b"}"
    return [
        RawBody("nested arrays", _nested("[", "]", 5_000)),
        RawBody("nested objects", _nested('{"a":', "}", 5_000)),
        RawBody("nested, 80 kB", _nested("[", "]", 40_000)),
        RawBody("utf-16 with BOM", text.encode("utf-16")),
        RawBody("utf-16-le", text.encode("utf-16-le")),
        RawBody("utf-32", text.encode("utf-32")),
        RawBody("utf-8 BOM", b"\xef\xbb\xbf" + valid),
        RawBody("latin-1 bytes", valid[:-1] + b',"x":"caf\xe9"}'),
        RawBody("surrogate as utf-8 bytes", valid[:-1] + b',"x":"\xed\xa0\x80"}'),
        RawBody("charset utf-16", text.encode("utf-16"), "application/json; charset=utf-16"),
        RawBody("charset latin-1", valid, "application/json; charset=iso-8859-1"),
        RawBody("charset UTF-8", valid, "application/json; charset=UTF-8"),
        RawBody("text/plain", valid, "text/plain"),
        RawBody("form", b"a=1&b=2", "application/x-www-form-urlencoded"),
        RawBody("multipart", b"--x\r\n\r\n--x--\r\n", "multipart/form-data; boundary=x"),
        RawBody("no media type", valid, None),
        RawBody("empty", b""),
        RawBody("NUL byte", b"\x00"),
        RawBody("NaN", b"NaN"),
        RawBody("huge number", b"9" * 5_000),
        RawBody("top-level string", b'"x"'),
        RawBody("top-level array", b"[]"),
        RawBody("null", b"null"),
        RawBody("duplicate keys", valid[:-1] + b"," + valid[1:]),
        RawBody("too long", padded),
        RawBody("chunked", valid, environ={**chunked}, streamed=True),
        RawBody("chunked past the limit", padded, environ={**chunked}, streamed=True),
        RawBody("Content-Length too short", valid, environ={"CONTENT_LENGTH": "3"}, streamed=True),
        RawBody(
            "Content-Length too long",
            valid,
            environ={"CONTENT_LENGTH": str(len(valid) + 100)},
            streamed=True,
        ),
        RawBody("Content-Length negative", valid, environ={"CONTENT_LENGTH": "-1"}, streamed=True),
        RawBody("Content-Length junk", valid, environ={"CONTENT_LENGTH": "1e3"}, streamed=True),
        RawBody(
            "Content-Length of 5000 digits",
            valid,
            environ={"CONTENT_LENGTH": "9" * 5_000},
            streamed=True,
        ),
    ]


def hostile_value_for(target: Target, valid_body: Callable[[], bytes]) -> st.SearchStrategy[Any]:
    if target.location == "whole_body":
        return st.sampled_from(hostile_bodies(valid_body()))
    if target.location == "body":
        return hostile_json_value()
    return hostile_text()


def assert_answered_with_a_problem_or_success(operation: Operation, response: TestResponse) -> None:
    """No 5xx; a 4xx is problem JSON with its status and a stable ``code``."""
    where = f"{operation} -> {response.status_code}: {response.get_data()[:300]!r}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        assert response.mimetype == PROBLEM_JSON, where
        problem = response.get_json()
        assert isinstance(problem, dict), where
        assert isinstance(problem.get("code"), str), where
        assert problem["code"], where
        assert problem.get("status") == response.status_code, where
