"""Where a checkout's time goes: SQL statements per request and a cProfile of intent + confirm.

    .venv/bin/python benchmarks/profile_checkout.py [--checkouts 300] [--database-url URL]

Runs the real app (``create_app`` with the real adapters) in this one process through Flask's
test client - no gunicorn, no sockets - on a fresh SQLite file (or ``--database-url``, e.g. a
scratch PostgreSQL database that has been migrated). It registers one shopper, warms up, then
profiles ``--checkouts`` intent + confirm pairs and prints:

* SQL statements and transactions per intent and per confirm, grouped by statement;
* in-process milliseconds per request (the floor under the HTTP latency, with no contention);
* time by layer (own time of the functions, grouped by where their code lives) and the top
  functions by cumulative and own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import bare_app  # noqa: E402
from bench_shop import LIMITS_SCALE, add_benchmark_products  # noqa: E402
from loadgen import SHIP_TO, SHIPPING_METHOD  # noqa: E402

# Own time of a function is charged to the first layer whose marker is in its file name.
LAYERS = (
    ("argon2 (password hashing)", ("argon2",)),
    ("sqlite3 driver (C)", ("sqlite3",)),
    ("psycopg driver", ("psycopg",)),
    ("sqlalchemy", ("sqlalchemy",)),
    ("structlog / logging", ("structlog", "/logging/")),
    ("json", ("/json/", "_json")),
    ("werkzeug", ("werkzeug",)),
    ("flask", ("/flask/",)),
    ("attrs / cattrs", ("/attr/", "/attrs/", "cattrs")),
    ("commerce_core", ("commerce_core",)),
    ("adapters (ours)", ("src/adapters",)),
    ("webapp (ours)", ("src/webapp",)),
    ("hashlib / hmac / secrets", ("hashlib", "hmac", "secrets", "<built-in method _hashlib")),
)


class StatementCounter:
    """SQL statements, transactions and pool checkouts (each one a pre-ping on PostgreSQL)."""

    def __init__(self) -> None:
        self.current: Counter[str] = Counter()

    def on_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.current[_shape(statement)] += 1

    def on_begin(self, _conn: Any) -> None:
        self.current["(transaction)"] += 1

    def on_checkout(self, *_args: Any) -> None:
        self.current["(pool checkout)"] += 1

    def take(self) -> Counter[str]:
        taken, self.current = self.current, Counter()
        return taken


def _shape(statement: str) -> str:
    text = " ".join(statement.split())
    verb = text.split(" ", 1)[0].upper()
    if verb == "BEGIN":
        return text
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", text, re.IGNORECASE)
    lock = " FOR UPDATE" if "FOR UPDATE" in text.upper() else ""
    return f"{verb} {table[1] if table else text[:40]}{lock}"


def _layer(filename: str) -> str:
    for name, markers in LAYERS:
        if any(marker in filename for marker in markers):
            return name
    return "other (stdlib, ...)"


def _register(client: FlaskClient) -> str:
    token = client.get("/api/auth/csrf").get_json()["csrf_token"]
    response = client.post(
        "/api/auth/register",
        json={
            "email": f"p-{uuid.uuid4().hex[:8]}@bench.example.com",
            "password": "bench-shopper-password-1",
            "name": "P",
        },
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    cookie = client.get_cookie("csrf_token")
    if cookie is None:
        return str(client.get("/api/auth/csrf").get_json()["csrf_token"])
    return cookie.value


def _checkout(client: FlaskClient, csrf: str, product_id: str) -> tuple[float, float]:
    started = time.perf_counter()
    intent = client.post(
        "/api/checkout/intent",
        json={
            "items": [{"product_id": product_id, "quantity": 1}],
            "shipping_address": SHIP_TO,
            "shipping_method": SHIPPING_METHOD,
        },
        headers={"X-CSRF-Token": csrf},
    )
    middle = time.perf_counter()
    assert intent.status_code == 201, intent.get_data(as_text=True)
    confirm = client.post(
        "/api/checkout/confirm",
        json={"intent_id": intent.get_json()["intent_id"], "payment_method": "pm_card_visa"},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert confirm.status_code == 201, confirm.get_data(as_text=True)
    return middle - started, time.perf_counter() - middle


def _report_profile(
    say: Callable[[str], None], profiler: cProfile.Profile, per: int, unit: str, top: int
) -> None:
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1.0
    layers: Counter[str] = Counter()
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        layers[_layer(filename if filename != "~" else function)] += tottime
    say("  own time by layer (profiled):")
    for name, seconds in layers.most_common():
        say(f"    {seconds / total * 100:5.1f}%  {seconds / per * 1000:6.2f} ms/{unit}  {name}")
    for sort in ("cumulative", "tottime"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(sort).print_stats(top)
        say(f"\n  top {top} by {sort}:")
        say("\n".join(buffer.getvalue().splitlines()[6:]).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkouts", type=int, default=300)
    parser.add_argument("--listings", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()

    # The app logs a JSON line per request to stdout: keep that cost, but not the noise.
    console = sys.stdout
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the whole run

    def say(text: str) -> None:
        print(text, file=console, flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="commerce-profile-"))
    try:
        _profile(args.database_url or f"sqlite:///{tmp / 'profile.db'}", args, say)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _profile(url: str, args: argparse.Namespace, say: Callable[[str], None]) -> None:
    from webapp.app import create_app
    from webapp.bootstrap import configure_process, migrate_database
    from webapp.config import Settings
    from webapp.request_ports import CONTAINER_KEY

    settings = Settings(database_url=url, limits_scale=LIMITS_SCALE)
    configure_process(settings)  # as the serving process does: logging costs its share
    migrate_database(settings)
    product_id = add_benchmark_products(url)[0]
    app = create_app(settings)
    try:
        _measure(app, url, product_id, args, say)
    finally:
        app.extensions[CONTAINER_KEY].close()


def _measure(
    app: Flask, url: str, product_id: str, args: argparse.Namespace, say: Callable[[str], None]
) -> None:
    from webapp.request_ports import CONTAINER_KEY

    engine = app.extensions[CONTAINER_KEY].engine
    client = app.test_client()
    csrf = _register(client)
    say(f"database: {url.rsplit('@', maxsplit=1)[-1]}")

    for _ in range(30):  # warm-up: imports, statement caches, the pool
        _checkout(client, csrf, product_id)
        client.get("/api/products")

    # One of each request with its statements counted.
    counter = StatementCounter()
    listeners = (
        (engine, "before_cursor_execute", counter.on_execute),
        (engine, "begin", counter.on_begin),
        (engine.pool, "checkout", counter.on_checkout),
    )
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    client.get("/api/products")
    listing_sql = counter.take()
    intent = client.post(
        "/api/checkout/intent",
        json={
            "items": [{"product_id": product_id, "quantity": 1}],
            "shipping_address": SHIP_TO,
            "shipping_method": SHIPPING_METHOD,
        },
        headers={"X-CSRF-Token": csrf},
    )
    intent_sql = counter.take()
    client.post(
        "/api/checkout/confirm",
        json={"intent_id": intent.get_json()["intent_id"], "payment_method": "pm_card_visa"},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": str(uuid.uuid4())},
    )
    confirm_sql = counter.take()
    for target, name, fn in listeners:
        event.remove(target, name, fn)
    for label, sql in (
        ("GET /api/products", listing_sql),
        ("POST /api/checkout/intent", intent_sql),
        ("POST /api/checkout/confirm", confirm_sql),
    ):
        statements = sum(v for k, v in sql.items() if not k.startswith("("))
        say(
            f"\n{label}: {statements} SQL statements, {sql['(transaction)']} transactions, "
            f"{sql['(pool checkout)']} pool checkouts"
        )
        for shape, count in sql.most_common():
            if not shape.startswith("("):
                say(f"  {count:3d} x {shape}")

    # Unprofiled timings: the floor under the HTTP latency, with no contention and no sockets.
    n = args.checkouts
    bare = bare_app.app.test_client()
    floors: dict[str, Callable[[], object]] = {
        "bare Flask app GET /": lambda: bare.get("/"),
        "shop GET /healthz (hooks, logging)": lambda: client.get("/healthz"),
        "shop GET /api/products": lambda: client.get("/api/products"),
    }
    say("\nin-process, unprofiled, through Flask's test client (no gunicorn, no sockets):")
    for label, call in floors.items():
        call()
        started = time.perf_counter()
        for _ in range(args.listings):
            call()
        say(f"  {(time.perf_counter() - started) / args.listings * 1000:6.2f} ms  {label}")
    intent_s = confirm_s = 0.0
    for _ in range(n):
        a, b = _checkout(client, csrf, product_id)
        intent_s += a
        confirm_s += b
    say(f"  {intent_s / n * 1000:6.2f} ms  shop POST /api/checkout/intent")
    say(f"  {confirm_s / n * 1000:6.2f} ms  shop POST /api/checkout/confirm")

    say(f"\n== profile of {args.listings} GET /api/products")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.listings):
        client.get("/api/products")
    profiler.disable()
    _report_profile(say, profiler, args.listings, "request", args.top)

    say(f"\n== profile of {n} checkouts (intent + confirm)")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        _checkout(client, csrf, product_id)
    profiler.disable()
    _report_profile(say, profiler, n, "checkout", args.top)


if __name__ == "__main__":
    main()
