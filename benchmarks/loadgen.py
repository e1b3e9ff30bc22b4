"""A small closed-loop HTTP load generator: keep-alive ``http.client`` connections in threads.

One process runs ``--threads`` virtual clients against ``127.0.0.1:--port``; ``benchmarks/run.py``
starts several such processes (one Python process cannot drive many threads past the GIL) and
merges their JSON reports. Two modes:

``get``
    Every client repeats ``GET --path`` (with ``--header`` lines). The fallback when ``wrk`` is
    not installed.
``checkout``
    Every client is one pre-registered shopper (``--shoppers``: a JSON list of
    ``{session, csrf_token, product_id}``; client *i* of process *k* takes entry
    ``k * threads + i``) looping ``POST /api/checkout/intent`` then ``POST /api/checkout/confirm``
    with a fresh ``Idempotency-Key``; a checkout counts only when both answer 201.

Every loop ends at ``--start-at + --seconds`` (wall clock) and after at most ``--max-requests``
requests per client, whichever comes first; every request has a socket timeout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Client", "OpStats", "main"]

HOST = "127.0.0.1"
REQUEST_TIMEOUT_S = 30.0
# Statuses that end a checkout attempt: the payload of a non-201 answer is kept (a few) for the
# report, so a 409 or a 500 can be told apart without reading the server log.
MAX_ERROR_SAMPLES = 5

# Where every benchmark checkout ships: a taxed region, so tax is computed on every intent.
SHIP_TO = {
    "name": "Bench Shopper",
    "line1": "1 Broadway",
    "city": "New York",
    "postal_code": "10004",
    "region": "NY",
    "country": "US",
}
SHIPPING_METHOD = "standard"


@dataclass
class OpStats:
    """Latencies (ms, successful answers only) and outcome counts of one kind of request."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "latencies_ms": self.latencies_ms,
            "statuses": dict(self.statuses),
            "exceptions": dict(self.exceptions),
            "error_samples": self.error_samples,
        }

    def add_counts(self, other: OpStats) -> None:
        """Add ``other``'s latencies and outcome counts (not its error samples) to these."""
        self.latencies_ms.extend(other.latencies_ms)
        self.statuses.update(other.statuses)
        self.exceptions.update(other.exceptions)

    def record_error_body(self, status: int, body: bytes) -> None:
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(f"{status}: {body[:300].decode('utf-8', 'replace')}")


class Client:
    """One keep-alive connection with a cookie jar of two cookies (enough for this API)."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.port = port
        self.cookies: dict[str, str] = dict(cookies or {})
        self._connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes, float]:
        """``(status, headers, body, seconds)``; reconnects on a dropped keep-alive connection."""
        all_headers = {"Accept": "application/json", **(headers or {})}
        payload: bytes | None = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                HOST, self.port, timeout=REQUEST_TIMEOUT_S
            )
        started = time.perf_counter()
        try:
            self._connection.request(method, path, body=payload, headers=all_headers)
            response = self._connection.getresponse()
            data = response.read()
        except BaseException:
            self.close()
            raise
        elapsed = time.perf_counter() - started
        self._remember_cookies(response.msg)
        if response.will_close:
            self.close()
        return response.status, response.msg, data, elapsed

    def _remember_cookies(self, message: http.client.HTTPMessage) -> None:
        for header in message.get_all("Set-Cookie") or []:
            pair, _, attributes = header.partition(";")
            name, _, value = pair.strip().partition("=")
            deleted = "max-age=0" in attributes.lower() or "expires=thu, 01 jan 1970" in (
                attributes.lower()
            )
            if deleted or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value.strip('"')


def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


def _run_get(
    port: int,
    path: str,
    headers: dict[str, str],
    expect: int,
    start_at: float,
    deadline: float,
    max_requests: int,
    stats: OpStats,
    lock: threading.Lock,
) -> None:
    client = Client(port)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    _sleep_until(start_at)
    try:
        for _ in range(max_requests):
            if time.time() >= deadline:
                break
            try:
                status, _headers, _body, elapsed = client.request("GET", path, headers=headers)
            except (OSError, http.client.HTTPException) as exc:
                exceptions[type(exc).__name__] += 1
                continue
            statuses[str(status)] += 1
            if status == expect:
                latencies.append(elapsed * 1000)
    finally:
        client.close()
    with lock:
        stats.latencies_ms.extend(latencies)
        stats.statuses.update(statuses)
        stats.exceptions.update(exceptions)


def _post(
    client: Client,
    path: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    tally: OpStats,
    shared: OpStats,
    lock: threading.Lock,
) -> tuple[int | None, bytes]:
    """One checkout request: its outcome counted in ``tally`` (this thread's, merged at the
    end), the body of a non-201 answer kept in ``shared``. ``(None, b"")`` when it raised."""
    try:
        status, _h, body, elapsed = client.request("POST", path, payload, headers)
    except (OSError, http.client.HTTPException) as exc:
        tally.exceptions[type(exc).__name__] += 1
        return None, b""
    tally.statuses[str(status)] += 1
    if status == 201:
        tally.latencies_ms.append(elapsed * 1000)
    else:
        with lock:
            shared.record_error_body(status, body)
    return status, body


def _run_shopper(
    port: int,
    shopper: dict[str, str],
    start_at: float,
    deadline: float,
    max_requests: int,
    intent_stats: OpStats,
    confirm_stats: OpStats,
    lock: threading.Lock,
    completed: list[int],
) -> None:
    client = Client(port, {"session": shopper["session"], "csrf_token": shopper["csrf_token"]})
    done = 0
    intent, confirm = OpStats(), OpStats()
    cart = {
        "items": [{"product_id": shopper["product_id"], "quantity": 1}],
        "shipping_address": SHIP_TO,
        "shipping_method": SHIPPING_METHOD,
    }
    _sleep_until(start_at)
    requests = 0
    try:
        while requests < max_requests and time.time() < deadline:
            csrf = {"X-CSRF-Token": client.cookies.get("csrf_token", "")}
            requests += 1
            status, body = _post(
                client, "/api/checkout/intent", cart, csrf, intent, intent_stats, lock
            )
            if status == 429:
                time.sleep(0.05)  # do not spin on a rate limit
            if status != 201:
                continue
            intent_id = json.loads(body)["intent_id"]
            requests += 1
            status, _body = _post(
                client,
                "/api/checkout/confirm",
                {"intent_id": intent_id, "payment_method": "pm_card_visa"},
                {**csrf, "Idempotency-Key": str(uuid.uuid4())},
                confirm,
                confirm_stats,
                lock,
            )
            if status == 201:
                done += 1
    finally:
        client.close()
    with lock:
        intent_stats.add_counts(intent)
        confirm_stats.add_counts(confirm)
        completed.append(done)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("get", "checkout"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--start-at", type=float, default=0.0, help="epoch seconds; 0 = now")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="per client")
    parser.add_argument("--path", default="/")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--expect", type=int, default=200)
    parser.add_argument("--shoppers", type=Path, help="checkout mode: JSON list of shoppers")
    parser.add_argument("--process-index", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    start_at = args.start_at or time.time()
    deadline = start_at + args.seconds
    lock = threading.Lock()
    threads: list[threading.Thread] = []
    report: dict[str, Any] = {"mode": args.mode, "threads": args.threads}
    if args.mode == "get":
        headers = dict(h.split(": ", 1) for h in args.header)
        stats = OpStats()
        for _ in range(args.threads):
            threads.append(
                threading.Thread(
                    target=_run_get,
                    args=(
                        args.port,
                        args.path,
                        headers,
                        args.expect,
                        start_at,
                        deadline,
                        args.max_requests,
                        stats,
                        lock,
                    ),
                    daemon=True,
                )
            )
        report["ops"] = {"get": stats}
    else:
        shoppers = json.loads(args.shoppers.read_text())
        first = args.process_index * args.threads
        mine = shoppers[first : first + args.threads]
        intent_stats, confirm_stats = OpStats(), OpStats()
        completed: list[int] = []
        for shopper in mine:
            threads.append(
                threading.Thread(
                    target=_run_shopper,
                    args=(
                        args.port,
                        shopper,
                        start_at,
                        deadline,
                        args.max_requests,
                        intent_stats,
                        confirm_stats,
                        lock,
                        completed,
                    ),
                    daemon=True,
                )
            )
        report["ops"] = {"intent": intent_stats, "confirm": confirm_stats}
        report["completed"] = completed
    for thread in threads:
        thread.start()
    # Bounded: a request in flight at the deadline ends within its socket timeout.
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.time()) + REQUEST_TIMEOUT_S + 5)
    report["elapsed_s"] = max(0.0, min(time.time(), deadline) - start_at)
    report["stragglers"] = sum(thread.is_alive() for thread in threads)
    with lock:
        report["ops"] = {name: op.to_json() for name, op in report["ops"].items()}
        if "completed" in report:
            report["completed"] = sum(report["completed"])
    args.out.write_text(json.dumps(report))


if __name__ == "__main__":
    main()
