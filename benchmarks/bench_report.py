"""Reporting: the table of figures, the targets (PASS/MISS) and the JSON results file."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench_config import RESULTS, ROOT
from bench_load import HttpRun
from bench_measure import cpu_note

# The targets, as ratios and absolute limits.
LISTING_VS_BARE = 0.7
CHECKOUTS_VS_PGBENCH = 0.25
CONFIRM_P99_MS = 50.0
WORKER_RSS_MB = 150.0
# Above this share of the CPUs taken by other processes during a phase, the report warns.
BUSY_MACHINE_PCT = 10.0


def run_line(run: HttpRun) -> str:
    return (
        f"{run.rps:9.1f} req/s  p50 {fmt_ms(run.p50_ms)}  p99 {fmt_ms(run.p99_ms)}; server CPU "
        f"{fmt_num(run.server_cpu_ms, 2)} ms/request; {cpu_note(run.cpu)}"
    )


def fmt_ms(value: float | None) -> str:
    return "   n/a  " if value is None else f"{value:7.2f}ms"


def fmt_num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


@dataclass
class Check:
    name: str
    measured: str
    target: str
    passed: bool | None  # None: could not be measured

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "SKIP"}[self.passed]


def evaluate(results: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    bare = results.get("bare", {}).get("rps")
    bare_cpu = results.get("bare", {}).get("server_cpu_ms")
    pg_tps = (results.get("pgbench") or {}).get("tps")
    shops = [results[b] for b in ("sqlite", "postgres") if isinstance(results.get(b), dict)]
    for shop in shops:
        backend = shop["backend"]
        for kind in ("200", "304"):
            run = shop.get("listing", {}).get(kind, {})
            rps, cpu = run.get("rps"), run.get("server_cpu_ms")
            ratio = rps / bare if rps is not None and bare else None
            # The same ratio from server CPU per request: what it would be on a quiet machine
            # with the load generator elsewhere (shown, not judged).
            by_cpu = bare_cpu / cpu if bare_cpu and cpu else None
            checks.append(
                Check(
                    f"listing {kind} / bare ({backend})",
                    f"{fmt_num(rps)} / {fmt_num(bare)} = {fmt_num(ratio, 2)} (CPU: {fmt_num(by_cpu, 2)})",
                    f">= {LISTING_VS_BARE}",
                    None if ratio is None else ratio >= LISTING_VS_BARE,
                )
            )
    for shop in shops:
        backend = shop["backend"]
        checkout = shop.get("checkout", {})
        cps = checkout.get("checkouts_per_s")
        ratio = cps / pg_tps if cps is not None and pg_tps else None
        checks.append(
            Check(
                f"checkouts/s / pgbench TPS ({backend})",
                f"{fmt_num(cps)} / {fmt_num(pg_tps)} = {fmt_num(ratio, 3)}",
                f">= {CHECKOUTS_VS_PGBENCH}",
                None if ratio is None else ratio >= CHECKOUTS_VS_PGBENCH,
            )
        )
        p99 = checkout.get("confirm", {}).get("p99_ms")
        checks.append(
            Check(
                f"confirm p99 ({backend})",
                f"{fmt_num(p99, 2)} ms",
                f"<= {CONFIRM_P99_MS:g} ms",
                None if p99 is None else p99 <= CONFIRM_P99_MS,
            )
        )
        books = _books(checkout)
        if books is not None:
            checks.append(Check(f"stock matches orders ({backend})", books[0], "equal", books[1]))
        failures = _failures(checkout)
        checks.append(
            Check(
                f"checkout errors ({backend})",
                ", ".join(f"{k}: {v}" for k, v in failures.items()) or "none",
                "none",
                None if not checkout else not failures,
            )
        )
    rss = [kib for shop in shops for kib in shop.get("rss_max_kib", {}).values()]
    worst = max(rss) / 1024 if rss else None
    checks.append(
        Check(
            "max worker RSS (shop)",
            f"{fmt_num(worst)} MB",
            f"<= {WORKER_RSS_MB:g} MB",
            None if worst is None else worst <= WORKER_RSS_MB,
        )
    )
    return checks


def _books(checkout: dict[str, Any]) -> tuple[str, bool] | None:
    """Stock taken == units of orders that hold it (paid or awaiting payment), and every
    checkout the shoppers saw succeed is among the paid ones."""
    stock = checkout.get("stock")
    if not stock:
        return None
    units = stock["units_by_order_status"]
    holding = units.get("paid", 0) + units.get("awaiting_payment", 0)
    ok = stock["stock_taken"] == holding and units.get("paid", 0) >= checkout["completed"]
    text = f"taken {stock['stock_taken']}, held by orders {holding}, paid {units.get('paid', 0)}"
    return f"{text}, 201 pairs {checkout['completed']}", ok


def _failures(checkout: dict[str, Any]) -> dict[str, int]:
    failures: Counter[str] = Counter()
    for op, expected in (("intent", "201"), ("confirm", "201")):
        data = checkout.get(op, {})
        for status, count in data.get("statuses", {}).items():
            if status != expected:
                failures[f"{op} {status}"] += count
        for name, count in data.get("exceptions", {}).items():
            failures[f"{op} {name}"] += count
    return dict(failures)


Row = tuple[str, str, str, str, str]


def _others_cpu(results: dict[str, Any]) -> list[float]:
    """The share of the CPUs other processes took during each measured phase."""
    runs: list[dict[str, Any]] = [results.get("bare") or {}, results.get("pgbench") or {}]
    for backend in ("sqlite", "postgres"):
        shop = results.get(backend)
        if isinstance(shop, dict):
            runs += [shop["listing"]["200"], shop["listing"]["304"], shop["checkout"]]
    return [float(r["cpu"]["others_pct"]) for r in runs if isinstance(r, dict) and r.get("cpu")]


def print_report(results: dict[str, Any], checks: list[Check]) -> None:
    line = "=" * 100
    print(f"\n{line}\nRESULTS  ({results['load_tool']}; load generator shares the CPUs)\n{line}")
    rows: list[Row] = [("figure", "rate", "p50", "p99", "notes")]
    bare = results.get("bare")
    if bare:
        rows.append(_http_row("bare Flask GET /", bare))
    pgb = results.get("pgbench")
    if isinstance(pgb, dict):
        notes = f"avg {pgb['latency_avg_ms']} ms, failed {pgb['failed']}"
        notes += f", postgres CPU {fmt_num(pgb.get('postgres_cpu_ms_per_tx'), 2)} ms/tx"
        notes += f", others' CPU {pgb['cpu']['others_pct']:.0f}%"
        rows.append(("pgbench TPC-B-like", f"{pgb['tps']:,.0f} TPS", "", "", notes))
    for backend in ("sqlite", "postgres"):
        shop = results.get(backend)
        if isinstance(shop, dict):
            rows.extend(_shop_rows(backend, shop))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    wide = max([len(c.measured) for c in checks] + [8])
    print(f"\n{'TARGETS':<40}  {'measured':<{wide}}  {'target':<10}  verdict")
    for check in checks:
        print(f"{check.name:<40}  {check.measured:<{wide}}  {check.target:<10}  {check.verdict}")
    for backend in ("sqlite", "postgres"):
        shop = results.get(backend)
        if not isinstance(shop, dict):
            continue
        samples = [
            f"{op} answered {sample}"
            for op in ("intent", "confirm")
            for sample in shop["checkout"][op]["error_samples"][:3]
        ]
        samples += [f"server log: {s}" for s in shop["server_log"]["error_samples"][:3]]
        for sample in samples:
            print(f"  [{backend}] {sample}")
    busy = max(_others_cpu(results), default=0.0)
    if busy > BUSY_MACHINE_PCT:
        print(
            f"\nWARNING: other processes used up to {busy:.0f}% of the CPUs during a measurement: "
            "the figures are low and noisy; run again on a quiet machine."
        )


def _http_row(name: str, run: dict[str, Any]) -> Row:
    return (
        name,
        f"{run['rps']:,.0f} req/s",
        fmt_ms(run["p50_ms"]),
        fmt_ms(run["p99_ms"]),
        _http_notes(run),
    )


def _shop_rows(backend: str, shop: dict[str, Any]) -> list[Row]:
    tag = f"[{backend}]"
    rows = [_http_row(f"{tag} GET /api/products {k}", shop["listing"][k]) for k in ("200", "304")]
    if "healthz" in shop["listing"]:
        rows.append(_http_row(f"{tag} GET /healthz (diagnostic)", shop["listing"]["healthz"]))
    co = shop["checkout"]
    done = f"{co['completed']} in {co['seconds']:.1f}s by {co['shoppers']} shoppers"
    done += f", CPU/checkout: server {fmt_num(co['server_cpu_ms_per_checkout'], 1)} ms"
    done += f", load generator {fmt_num(co['client_cpu_ms_per_checkout'], 1)} ms"
    if co.get("postgres_cpu_ms_per_checkout") is not None:
        done += f", postgres {fmt_num(co['postgres_cpu_ms_per_checkout'], 1)} ms"
    done += f", others' CPU {co['cpu']['others_pct']:.0f}%"
    rows.append((f"{tag} checkouts", f"{co['checkouts_per_s']:,.1f} /s", "", "", done))
    for op in ("intent", "confirm"):
        data = co[op]
        rate = f"{data['per_s']:,.1f} /s"
        notes = f"max {fmt_num(data['max_ms'])} ms, statuses {data['statuses']}"
        rows.append(
            (f"{tag}   POST {op}", rate, fmt_ms(data["p50_ms"]), fmt_ms(data["p99_ms"]), notes)
        )
    per = co.get("pg_per_checkout")
    if per:
        notes = (
            f"{per.get('commits')} commits, {per.get('rollbacks')} rollbacks, "
            f"{per.get('inserted')} rows inserted, {per.get('updated')} updated"
        )
        rows.append((f"{tag}   per checkout (pg_stat)", "", "", "", notes))
    stock = co["stock"]
    notes = f"taken {stock['stock_taken']}, units by order status {stock['units_by_order_status']}"
    rows.append((f"{tag}   stock check", "", "", "", notes))
    rss_max = ", ".join(f"{kib / 1024:.1f}" for _pid, kib in sorted(shop["rss_max_kib"].items()))
    rss_after = ", ".join(f"{kib / 1024:.1f}" for kib in shop["rss_after_kib"].values())
    notes = f"max {rss_max} MB; after load {rss_after} MB"
    rows.append((f"{tag}   worker RSS", "", "", "", notes))
    slog = shop["server_log"]
    errors = sum(v for k, v in slog["logged_statuses"].items() if k.startswith("5"))
    notes = (
        f"5xx {errors}, tracebacks {slog['tracebacks']}, worker restarts "
        f"{slog['worker_restarts']}, error events {slog['error_events'] or 'none'}"
    )
    rows.append((f"{tag}   server log", "", "", "", notes))
    return rows


def _http_notes(run: dict[str, Any]) -> str:
    notes = [
        f"{run['requests']:,} requests",
        f"server CPU {fmt_num(run.get('server_cpu_ms'), 2)} ms/req",
    ]
    if run.get("cpu"):
        notes.append(f"others' CPU {run['cpu']['others_pct']:.0f}%")
    if run.get("bad_statuses"):
        notes.append(f"{run['bad_statuses']} unexpected statuses")
    if run.get("socket_errors"):
        notes.append(f"socket errors {run['socket_errors']}")
    return ", ".join(notes)


def write_results(results: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
