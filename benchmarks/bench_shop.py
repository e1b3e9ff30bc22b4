"""The servers under test: the shop (set up, loaded, its books and log checked) and the bare
Flask app."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench_config import BENCH_DIR, COMMERCE, Knobs
from bench_load import LoadTool, merge_ops, op_summary
from bench_measure import CpuMeter, RssSampler, cpu_note, worker_pids
from bench_procs import Processes, free_port, run_command, wait_until_serving
from bench_report import fmt_ms, fmt_num, run_line
from loadgen import Client

BENCH_PRODUCTS = 5
BENCH_STOCK = 10_000_000
SHOPPER_PASSWORD = "bench-shopper-password-1"
CLI_TIMEOUT_S = 180
STARTUP_TIMEOUT_S = 60


# Rate limits and unpaid-hold caps times this: the load's shoppers share one address. Not
# more: the memory storage keeps one timestamp per counted request, so a huge limit would make
# the limiter itself the cost being measured.
LIMITS_SCALE = 1_000


def add_benchmark_products(database_url: str) -> list[str]:
    """Add products with huge stock through the app's own use case; returns their ids."""
    from adapters.sql import SqlUnitOfWork, make_engine
    from commerce_core import (
        Money,
        NewProduct,
        ShippingMethod,
        ShippingSetup,
        ShippingZone,
        SystemClock,
        TaxRate,
        configure_shipping,
        stock_catalog,
    )

    currency = _demo_currency()
    products = [
        NewProduct(
            slug=f"bench-product-{n}",
            name=f"Benchmark product {n}",
            description="Stocked by benchmarks/run.py.",
            price=Money(1000 + n, currency),
            image_url="",
            stock=BENCH_STOCK,
        )
        for n in range(1, BENCH_PRODUCTS + 1)
    ]
    engine = make_engine(database_url)
    try:
        stock_catalog(SqlUnitOfWork(engine), SystemClock(), products)
        # Checkouts ship to SHIP_TO with its tax, as a real shop's do (kept if the demo has them).
        configure_shipping(
            SqlUnitOfWork(engine),
            ShippingSetup(
                zones=(ShippingZone("domestic", "Domestic", frozenset({"US"})),),
                methods=(
                    ShippingMethod(
                        "standard",
                        "domestic",
                        "Standard",
                        Money(500, currency),
                        free_above=Money(5000, currency),
                    ),
                ),
                tax_rates=(TaxRate("US", "NY", 400, "New York", shipping_taxable=True),),
            ),
        )
        uow = SqlUnitOfWork(engine)
        ids: list[str] = []
        with uow:
            for new in products:
                product = uow.products.get_by_slug(new.slug)
                if product is None:
                    raise RuntimeError(f"benchmark product {new.slug} was not stored")
                ids.append(product.id)
        return ids
    finally:
        engine.dispose()


def _demo_currency() -> str:
    from importlib import resources

    try:
        data = json.loads(
            resources.files("webapp").joinpath("demo_catalog.json").read_text(encoding="utf-8")
        )
        return str(data["currency"])
    except (OSError, KeyError, ValueError):
        return "USD"


def stock_report(database_url: str, product_ids: list[str]) -> dict[str, Any]:
    """Stock taken from the benchmark products (their variants) vs the orders that hold or
    paid for it."""
    from sqlalchemy import func, select

    from adapters.sql import make_engine
    from adapters.sql.tables import order_lines, orders, product_variants

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            stock = conn.execute(
                select(func.sum(product_variants.c.stock)).where(
                    product_variants.c.product_id.in_(product_ids)
                )
            ).scalar_one()
            by_status = dict(
                conn.execute(
                    select(orders.c.status, func.sum(order_lines.c.quantity))
                    .join(order_lines, order_lines.c.order_id == orders.c.id)
                    .where(order_lines.c.product_id.in_(product_ids))
                    .group_by(orders.c.status)
                ).all()
            )
    finally:
        engine.dispose()
    return {
        "stock_taken": BENCH_STOCK * len(product_ids) - int(stock),
        "units_by_order_status": {str(k): int(v) for k, v in by_status.items()},
    }


def register_shoppers(
    port: int, count: int, tag: str, product_ids: list[str]
) -> list[dict[str, str]]:
    """``GET /api/auth/csrf`` then ``POST /api/auth/register`` for each shopper (untimed)."""
    shoppers: list[dict[str, str]] = []
    for n in range(count):
        client = Client(port)
        try:
            status, _h, body, _t = client.request("GET", "/api/auth/csrf")
            if status != 200:
                raise RuntimeError(f"GET /api/auth/csrf answered {status}: {body[:300]!r}")
            token = json.loads(body)["csrf_token"]
            status, _h, body, _t = client.request(
                "POST",
                "/api/auth/register",
                {
                    "email": f"shopper{n}-{tag}@bench.example.com",
                    "password": SHOPPER_PASSWORD,
                    "name": f"Bench shopper {n}",
                },
                {"X-CSRF-Token": token},
            )
            if status != 201:
                raise RuntimeError(f"POST /api/auth/register answered {status}: {body[:300]!r}")
            if "csrf_token" not in client.cookies:
                # A new session needs a new token; fetch it if registration did not set one.
                client.request("GET", "/api/auth/csrf")
            shoppers.append(
                {
                    "session": client.cookies["session"],
                    "csrf_token": client.cookies["csrf_token"],
                    "product_id": product_ids[n % len(product_ids)],
                }
            )
        finally:
            client.close()
    return shoppers


def scan_server_log(log: Path, workers: int) -> dict[str, Any]:
    """Error-level lines, tracebacks, HTTP 5xx and worker (re)boots in a server's log."""
    errors: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    tracebacks = 0
    boots = 0
    samples: list[str] = []
    for line in log.read_text(errors="replace").splitlines():
        if "Booting worker" in line:
            boots += 1
        if line.startswith("Traceback"):
            tracebacks += 1
        if "WORKER TIMEOUT" in line or "[CRITICAL]" in line or "[ERROR]" in line:
            errors[line.split("] ", 3)[-1][:80]] += 1
            if len(samples) < 5:
                samples.append(line[:400])
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "exception" in record or "exc_info" in record:
            tracebacks += 1
        if isinstance(record.get("status"), int):
            statuses[str(record["status"])] += 1
        if record.get("level") in ("error", "critical") or record.get("log_level") in (
            "error",
            "critical",
        ):
            errors[str(record.get("event"))[:80]] += 1
            if len(samples) < 5:
                samples.append(line[:400])
    return {
        "worker_boots": boots,
        "worker_restarts": max(0, boots - workers),
        "tracebacks": tracebacks,
        "error_events": dict(errors),
        "logged_statuses": dict(statuses),
        "error_samples": samples,
    }


@dataclass
class ShopContext:
    knobs: Knobs
    processes: Processes
    load: LoadTool
    tmp: Path


def bench_shop(ctx: ShopContext, backend: str, database_url: str) -> dict[str, Any]:
    knobs = ctx.knobs
    # Every shopper of the load comes from 127.0.0.1: the limits are lifted (and still counted).
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "APP_ENV": "development",
        "LIMITS_SCALE": str(LIMITS_SCALE),
    }
    env.pop("WEB_CONCURRENCY", None)
    result: dict[str, Any] = {"backend": backend, "database_url": database_url}

    print(f"  [{backend}] commerce db upgrade; commerce seed --demo; benchmark products")
    run_command([str(COMMERCE), "db", "upgrade"], env=env, timeout=CLI_TIMEOUT_S, what="db upgrade")
    run_command(
        [str(COMMERCE), "seed", "--demo"], env=env, timeout=CLI_TIMEOUT_S, what="seed --demo"
    )
    product_ids = add_benchmark_products(database_url)

    port = free_port()
    log = ctx.tmp / f"shop-{backend}-{port}.log"
    argv = [
        str(COMMERCE),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(knobs.workers),
        "--threads",
        str(knobs.threads),
    ]
    result["command"] = " ".join(argv[1:])
    print(f"  [{backend}] {result['command']}  (log: {log})")
    server = ctx.processes.start(argv, env=env, log=log, die_with_parent=True)
    try:
        wait_until_serving(port, "/healthz", server, log, STARTUP_TIMEOUT_S)
        result["workers_pids"] = worker_pids(server.pid)
        with RssSampler(server.pid) as rss:
            result["rss_idle_kib"] = rss.snapshot()
            result["listing"] = _bench_listing(ctx, server.pid, port, healthz=backend == "sqlite")
            result["checkout"] = _bench_checkout(
                ctx, server.pid, port, backend, product_ids, database_url
            )
            time.sleep(1.0)
            result["rss_after_kib"] = rss.snapshot()
        result["rss_max_kib"] = rss.max_kib
    finally:
        ctx.processes.stop(server)
    result["server_log"] = scan_server_log(log, knobs.workers)
    result["server_log_path"] = str(log)
    return result


def _bench_listing(ctx: ShopContext, server: int, port: int, *, healthz: bool) -> dict[str, Any]:
    path = "/api/products"
    probe = Client(port)
    try:
        status, headers, body, _t = probe.request("GET", path)
        etag = headers.get("ETag")
        if status != 200 or not etag:
            raise RuntimeError(f"GET {path}: {status}, ETag {etag!r}: {body[:300]!r}")
        total = json.loads(body).get("total")
        status304, _h, _b, _t = probe.request("GET", path, headers={"If-None-Match": etag})
        if status304 != 304:
            raise RuntimeError(f"GET {path} with If-None-Match answered {status304}, not 304")
    finally:
        probe.close()
    print(f"  listing: {path} ({total} products, {len(body)} bytes, ETag {etag[:16]}...)")
    ok = ctx.load.get(server, port, path, 200, {})
    print(f"    200: {run_line(ok)}")
    cached = ctx.load.get(server, port, path, 304, {"If-None-Match": etag})
    print(f"    304: {run_line(cached)}")
    extra: dict[str, Any] = {}
    if healthz:
        # Diagnostic: the shop's fixed per-request cost (hooks, request log line), no database.
        hooks = ctx.load.get(server, port, "/healthz", 200, {})
        print(f"    /healthz: {run_line(hooks)}")
        extra["healthz"] = asdict(hooks)
    return {
        **extra,
        "bytes": len(body),
        "products": total,
        "etag": etag,
        "200": asdict(ok),
        "304": asdict(cached),
    }


def _pg_stats(database_url: str) -> dict[str, int] | None:
    if not database_url.startswith("postgresql"):
        return None
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, "
            "tup_updated, tup_deleted FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    names = ("commits", "rollbacks", "returned", "fetched", "inserted", "updated", "deleted")
    return dict(zip(names, (int(v) for v in row or ()), strict=False))


def _bench_checkout(
    ctx: ShopContext,
    server: int,
    port: int,
    backend: str,
    product_ids: list[str],
    database_url: str,
) -> dict[str, Any]:
    knobs = ctx.knobs
    shoppers_n = knobs.load_processes * ctx.load.per_process
    started = time.monotonic()
    shoppers = register_shoppers(port, shoppers_n, f"{backend}-{uuid.uuid4().hex[:8]}", product_ids)
    print(
        f"  checkout: {shoppers_n} shoppers registered in {time.monotonic() - started:.1f}s; "
        f"{knobs.load_processes} processes x {ctx.load.per_process} threads, "
        f"{knobs.checkout_seconds}s"
    )
    shoppers_file = ctx.tmp / f"shoppers-{backend}.json"
    shoppers_file.write_text(json.dumps(shoppers))
    before = _pg_stats(database_url)
    meter = CpuMeter(server)
    reports = ctx.load.run_python(
        "checkout", port, knobs.checkout_seconds, ["--shoppers", str(shoppers_file)]
    )
    cpu = meter.stop()
    elapsed = max(r["elapsed_s"] for r in reports) or float(knobs.checkout_seconds)
    completed = sum(int(r["completed"]) for r in reports)
    intent = op_summary(merge_ops(reports, "intent"), elapsed)
    confirm = op_summary(merge_ops(reports, "confirm"), elapsed)
    result: dict[str, Any] = {
        "shoppers": shoppers_n,
        "seconds": elapsed,
        "completed": completed,
        "checkouts_per_s": completed / elapsed if elapsed else 0.0,
        "intent": intent,
        "confirm": confirm,
        "stragglers": sum(int(r.get("stragglers", 0)) for r in reports),
        "cpu": cpu,
        # Per completed checkout (two requests): robust against other load on the machine.
        "server_cpu_ms_per_checkout": 1000 * cpu["server_cpu_s"] / completed if completed else None,
        # This script and its load generators (everything of ours but the server).
        "client_cpu_ms_per_checkout": (
            1000 * (cpu["benchmark_cpu_s"] - cpu["server_cpu_s"]) / completed if completed else None
        ),
        "postgres_cpu_ms_per_checkout": (
            1000 * cpu["postgres_cpu_s"] / completed if completed and before is not None else None
        ),
    }
    if before is not None:
        time.sleep(1.5)  # PostgreSQL flushes a backend's statistics at most once a second
        after = _pg_stats(database_url) or {}
        delta = {k: after.get(k, 0) - v for k, v in before.items()}
        result["pg_stats_delta"] = delta
        if completed:
            result["pg_per_checkout"] = {k: round(v / completed, 2) for k, v in delta.items()}
    result["stock"] = stock_report(database_url, product_ids)
    print(
        f"    {result['checkouts_per_s']:.1f} checkouts/s; intent p50 {fmt_ms(intent['p50_ms'])} "
        f"p99 {fmt_ms(intent['p99_ms'])}; confirm p50 {fmt_ms(confirm['p50_ms'])} "
        f"p99 {fmt_ms(confirm['p99_ms'])}; statuses intent {intent['statuses']} "
        f"confirm {confirm['statuses']}\n    CPU per checkout: server "
        f"{fmt_num(result['server_cpu_ms_per_checkout'], 2)} ms, load generator "
        f"{fmt_num(result['client_cpu_ms_per_checkout'], 2)} ms; {cpu_note(cpu)}"
    )
    return result


# --------------------------------------------------------------------------------------------
# The bare app
# --------------------------------------------------------------------------------------------


def bench_bare(ctx: ShopContext) -> dict[str, Any]:
    port = free_port()
    log = ctx.tmp / f"bare-{port}.log"
    argv = [
        sys.executable,
        str(BENCH_DIR / "bare_app.py"),
        "--port",
        str(port),
        "--workers",
        str(ctx.knobs.workers),
        "--threads",
        str(ctx.knobs.threads),
    ]
    server = ctx.processes.start(argv, env=dict(os.environ), log=log, die_with_parent=True)
    try:
        wait_until_serving(port, "/healthz", server, log, STARTUP_TIMEOUT_S)
        options = next(
            (line for line in log.read_text().splitlines() if "gunicorn options" in line), ""
        )
        print(f"  bare app: {options.partition(': ')[2]}")
        run = ctx.load.get(server.pid, port, "/", 200, {})
    finally:
        ctx.processes.stop(server)
    print(f"    {run_line(run)}")
    return asdict(run)
