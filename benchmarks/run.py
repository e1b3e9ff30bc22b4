"""One command for the shop's performance figures and their ratios against the targets.

    .venv/bin/python benchmarks/run.py        (or: make bench)

In one run, on 127.0.0.1 only:

1. a bare Flask JSON endpoint under the shop's gunicorn settings (the framework ceiling);
2. the shop on a fresh SQLite file (``commerce db upgrade``, ``commerce seed --demo``, plus
   benchmark products with huge stock), served by ``commerce serve``: ``GET /api/products``
   (200) and the same with ``If-None-Match`` (304), then complete checkouts by concurrent
   pre-registered shoppers (intent + confirm);
3. ``pgbench`` on the same PostgreSQL, in a scratch database (the database ceiling);
4. the shop again on a scratch PostgreSQL database: the same listing and checkout runs;
5. gunicorn worker RSS sampled from /proc during and after the load.

It prints a table of figures and PASS/MISS against the targets and writes
``benchmarks/results/latest.json``. Every process it starts is stopped and every scratch
database dropped, also on Ctrl-C or failure. Knobs (environment variables):

``BENCH_SECONDS`` (15)            length of each wrk / pgbench run
``BENCH_CHECKOUT_SECONDS`` (20)   length of each checkout run
``BENCH_CONNECTIONS`` (16)        wrk connections, pgbench clients and concurrent shoppers
``BENCH_LOAD_PROCESSES`` (2)      processes of the Python load generator (threads split evenly)
``BENCH_WORKERS`` / ``BENCH_THREADS`` (2 / 1, ``commerce serve``'s defaults)
``BENCH_PGBENCH_SCALE`` (10)      ``pgbench -i -s``
``BENCH_PG_ADMIN_URL`` (postgresql://postgres@127.0.0.1:5432/test) where scratch DBs are made
``BENCH_LOADGEN`` (auto)          ``python`` forces the built-in generator even if wrk exists
``BENCH_SKIP_POSTGRES`` (0)       1 skips pgbench and the PostgreSQL shop
``BENCH_KEEP_TMP`` (0)            1 keeps the temporary directory (server logs, SQLite file)
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from loadgen import Client

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
BIN = Path(sys.executable).parent
COMMERCE = BIN / "commerce"
RESULTS = BENCH_DIR / "results" / "latest.json"

# The targets, as ratios and absolute limits.
LISTING_VS_BARE = 0.7
CHECKOUTS_VS_PGBENCH = 0.25
CONFIRM_P99_MS = 50.0
WORKER_RSS_MB = 150.0

BENCH_PRODUCTS = 5
BENCH_STOCK = 10_000_000
SHOPPER_PASSWORD = "bench-shopper-password-1"
CLI_TIMEOUT_S = 180
STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15
RSS_SAMPLE_INTERVAL_S = 0.25
# Above this share of the CPUs taken by other processes during a phase, the report warns.
BUSY_MACHINE_PCT = 10.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


def _env_int(name: str, default: int, low: int = 1, high: int = 10_000) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise SystemExit(f"{name} must be {low} to {high}")
    return value


@dataclass(frozen=True)
class Knobs:
    seconds: int
    checkout_seconds: int
    connections: int
    load_processes: int
    workers: int
    threads: int
    pgbench_scale: int
    pg_admin_url: str
    force_python_loadgen: bool
    skip_postgres: bool
    keep_tmp: bool

    @classmethod
    def from_env(cls) -> Knobs:
        return cls(
            seconds=_env_int("BENCH_SECONDS", 15, high=600),
            checkout_seconds=_env_int("BENCH_CHECKOUT_SECONDS", 20, high=600),
            connections=_env_int("BENCH_CONNECTIONS", 16, high=256),
            load_processes=_env_int("BENCH_LOAD_PROCESSES", 2, high=16),
            workers=_env_int("BENCH_WORKERS", 2, high=64),
            threads=_env_int("BENCH_THREADS", 1, high=64),
            pgbench_scale=_env_int("BENCH_PGBENCH_SCALE", 10, high=1000),
            pg_admin_url=os.environ.get(
                "BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test"
            ),
            force_python_loadgen=os.environ.get("BENCH_LOADGEN", "").lower() == "python",
            skip_postgres=os.environ.get("BENCH_SKIP_POSTGRES", "") in ("1", "true", "yes"),
            keep_tmp=os.environ.get("BENCH_KEEP_TMP", "") in ("1", "true", "yes"),
        )


# --------------------------------------------------------------------------------------------
# Processes: everything started is registered and stopped in `finally`
# --------------------------------------------------------------------------------------------


try:
    _PRCTL: Any = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except OSError:  # not glibc Linux: servers are still stopped in `finally`, just not on SIGKILL
    _PRCTL = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGTERM if this script dies, even by SIGKILL."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


class Processes:
    """Child processes, each in a process group of its own, stopped by their ids."""

    def __init__(self) -> None:
        self._children: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        argv: list[str],
        *,
        env: dict[str, str],
        log: Path,
        cwd: Path = ROOT,
        die_with_parent: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` in a process group of its own, output to ``log``.

        ``die_with_parent`` (for servers, started while no other thread of ours runs) makes
        the kernel stop it if this script is killed outright."""
        with log.open("ab") as out:
            child = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own group: Ctrl-C reaches us, we stop it in order
                preexec_fn=_die_with_parent if die_with_parent else None,  # noqa: PLW1509
            )
        self._children.append(child)
        return child

    def stop(self, child: subprocess.Popen[bytes]) -> None:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=STOP_TIMEOUT_S)
        # Workers left behind by a master that died abruptly share its group: end them too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        if child in self._children:
            self._children.remove(child)

    def stop_all(self) -> None:
        for child in reversed(list(self._children)):
            with contextlib.suppress(Exception):
                self.stop(child)


def _raise_on_signal(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _run(argv: list[str], *, env: dict[str, str], timeout: float, what: str) -> str:
    """Run a short command to completion; its output is returned, or shown when it fails."""
    done = subprocess.run(
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {done.returncode}): {' '.join(argv)}\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout + done.stderr


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(
    port: int, path: str, child: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"server exited with {child.returncode}:\n{_tail(log)}")
        client = Client(port)
        try:
            status, _h, _b, _t = client.request("GET", path)
            if status == 200:
                return
        except OSError:
            pass
        finally:
            client.close()
        time.sleep(0.2)
    raise RuntimeError(f"server not answering {path} after {timeout}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------------------------
# Worker memory, from /proc
# --------------------------------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Field 4 (ppid) follows the parenthesised command name, which may contain spaces.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def worker_pids(root_pid: int) -> list[int]:
    """The leaves of the process tree under ``root_pid``: gunicorn's workers, whether
    ``root_pid`` is the master itself or a launcher of it."""
    tree = _children_map()
    leaves: list[int] = []
    stack = list(tree.get(root_pid, []))
    while stack:
        pid = stack.pop()
        kids = tree.get(pid, [])
        if kids:
            stack.extend(kids)
        else:
            leaves.append(pid)
    return sorted(leaves)


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _proc_times() -> dict[int, tuple[str, int, int]]:
    """pid -> (command name, parent pid, CPU jiffies incl. reaped children) for every process."""
    table: dict[int, tuple[str, int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        head, _, tail = stat.rpartition(")")
        fields = tail.split()
        # After the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
        jiffies = sum(int(v) for v in fields[11:15])
        table[int(entry)] = (head.partition("(")[2], int(fields[1]), jiffies)
    return table


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


def _descendants(table: dict[int, tuple[str, int, int]], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (_name, ppid, _j) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = {root}, [root]
    while stack:
        for kid in children.get(stack.pop(), []):
            if kid not in found:
                found.add(kid)
                stack.append(kid)
    return found


class CpuMeter:
    """Who used the CPUs during a phase: this benchmark (this script, its servers and load
    generators), PostgreSQL, and everything else on the machine - other people's work, which
    makes the figures low and noisy. Percentages of the whole machine (all CPUs = 100 %).

    With ``server_pid`` it also reports the CPU seconds the server (master and workers) used:
    divided by the requests served, that is a cost per request that other people's load on
    the machine barely changes, unlike requests per second."""

    def __init__(self, server_pid: int | None = None) -> None:
        self._server_pid = server_pid
        self._start = self._sample()

    @staticmethod
    def _sample() -> tuple[tuple[int, int], dict[int, tuple[str, int, int]]]:
        return _machine_jiffies(), _proc_times()

    def stop(self) -> dict[str, float]:
        (busy0, total0), before = self._start
        (busy1, total1), after = self._sample()
        span = max(1, total1 - total0)
        ours = _descendants(after, os.getpid()) | _descendants(before, os.getpid())

        def used(pids: set[int]) -> int:
            return sum(
                after[p][2] - (before[p][2] if p in before else 0) for p in pids if p in after
            )

        postgres = {pid for pid, (name, _pp, _j) in after.items() if name.startswith("postgres")}
        ours_j, postgres_j = used(ours), used(postgres - ours)
        busy = busy1 - busy0
        result = {
            "machine_busy_pct": round(100 * busy / span, 1),
            "benchmark_pct": round(100 * ours_j / span, 1),
            "postgres_pct": round(100 * postgres_j / span, 1),
            "others_pct": round(100 * max(0, busy - ours_j - postgres_j) / span, 1),
            "postgres_cpu_s": round(postgres_j / CLOCK_TICKS, 3),
            "benchmark_cpu_s": round(ours_j / CLOCK_TICKS, 3),
        }
        if self._server_pid is not None:
            server = _descendants(after, self._server_pid) | _descendants(before, self._server_pid)
            result["server_cpu_s"] = round(used(server) / CLOCK_TICKS, 3)
        return result


def _cpu_note(cpu: dict[str, float]) -> str:
    return (
        f"CPU: machine {cpu['machine_busy_pct']:.0f}% busy, benchmark {cpu['benchmark_pct']:.0f}%, "
        f"postgres {cpu['postgres_pct']:.0f}%, others {cpu['others_pct']:.0f}%"
    )


class RssSampler:
    """Samples every worker's VmRSS in a background thread; keeps the maximum per pid."""

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.max_kib: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def snapshot(self) -> dict[int, int]:
        values = {pid: rss_kib(pid) for pid in worker_pids(self.root_pid)}
        return {pid: kib for pid, kib in values.items() if kib is not None}

    def _loop(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_INTERVAL_S):
            for pid, kib in self.snapshot().items():
                self.max_kib[pid] = max(kib, self.max_kib.get(pid, 0))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# --------------------------------------------------------------------------------------------
# Load: wrk or the built-in generator
# --------------------------------------------------------------------------------------------


@dataclass
class HttpRun:
    tool: str
    url: str
    expect: int
    seconds: float
    requests: int = 0
    rps: float = 0.0
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    bad_statuses: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    server_cpu_ms: float | None = None  # server CPU time per request


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _WRK_UNITS[match[2]]


def parse_wrk(output: str, run: HttpRun) -> HttpRun:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rps is None or total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    run.rps = float(rps[1])
    run.requests = int(total[1])
    for label, attr in (("50%", "p50_ms"), ("90%", "p90_ms"), ("99%", "p99_ms")):
        found = re.search(rf"^\s+{re.escape(label)}\s+(\S+)", output, re.MULTILINE)
        if found:
            setattr(run, attr, _wrk_ms(found[1]))
    latency = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output)
    if latency:
        run.max_ms = _wrk_ms(latency[1])
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    run.bad_statuses = int(bad[1]) if bad else 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if errors:
        run.socket_errors = {
            k: int(v)
            for k, v in zip(("connect", "read", "write", "timeout"), errors.groups(), strict=True)
            if int(v)
        }
    return run


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


class LoadTool:
    def __init__(self, knobs: Knobs, processes: Processes, tmp: Path) -> None:
        self.knobs = knobs
        self.processes = processes
        self.tmp = tmp
        self.wrk = None if knobs.force_python_loadgen else shutil.which("wrk")
        self.name = (
            f"wrk -t{self.wrk_threads} -c{knobs.connections}"
            if self.wrk
            else f"python loadgen ({knobs.load_processes} processes x "
            f"{self.per_process} threads, keep-alive http.client)"
        )

    @property
    def wrk_threads(self) -> int:
        return min(2, self.knobs.connections)

    @property
    def per_process(self) -> int:
        return max(1, self.knobs.connections // self.knobs.load_processes)

    def get(
        self, server: int, port: int, path: str, expect: int, headers: dict[str, str]
    ) -> HttpRun:
        """Hammer ``GET path`` for ``BENCH_SECONDS`` with ``BENCH_CONNECTIONS`` connections;
        ``server`` is the server's pid, for its CPU time per request."""
        meter = CpuMeter(server)
        run = self._get(port, path, expect, headers)
        run.cpu = meter.stop()
        if run.requests:
            run.server_cpu_ms = 1000 * run.cpu["server_cpu_s"] / run.requests
        return run

    def _get(self, port: int, path: str, expect: int, headers: dict[str, str]) -> HttpRun:
        seconds = self.knobs.seconds
        url = f"http://127.0.0.1:{port}{path}"
        if self.wrk:
            argv = [
                self.wrk,
                f"-t{self.wrk_threads}",
                f"-c{self.knobs.connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "--latency",
            ]
            for name, value in headers.items():
                argv += ["-H", f"{name}: {value}"]
            done = subprocess.run(
                [*argv, url],
                capture_output=True,
                text=True,
                timeout=seconds + 60,
                check=False,
                stdin=subprocess.DEVNULL,
            )
            if done.returncode != 0:
                raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
            return parse_wrk(done.stdout, HttpRun("wrk", url, expect, seconds))
        reports = self.run_python(
            "get",
            port,
            seconds,
            ["--path", path, "--expect", str(expect)]
            + [arg for k, v in headers.items() for arg in ("--header", f"{k}: {v}")],
        )
        run = HttpRun("python", url, expect, seconds)
        ops = merge_ops(reports, "get")
        elapsed = max(r["elapsed_s"] for r in reports) or seconds
        run.requests = sum(ops.statuses.values())
        run.rps = ops.statuses.get(str(expect), 0) / elapsed
        run.statuses = dict(ops.statuses)
        run.bad_statuses = run.requests - ops.statuses.get(str(expect), 0)
        run.socket_errors = dict(ops.exceptions)
        run.p50_ms, run.p90_ms, run.p99_ms = (percentile(ops.latencies, p) for p in (50, 90, 99))
        run.max_ms = max(ops.latencies, default=None)
        return run

    def run_python(
        self, mode: str, port: int, seconds: float, extra: list[str]
    ) -> list[dict[str, Any]]:
        """Run the generator in ``BENCH_LOAD_PROCESSES`` processes started together."""
        start_at = time.time() + 1.5  # time for every process to import and spawn its threads
        children: list[tuple[subprocess.Popen[bytes], Path]] = []
        for index in range(self.knobs.load_processes):
            out = self.tmp / f"loadgen-{mode}-{port}-{index}-{uuid.uuid4().hex[:6]}.json"
            argv = [
                sys.executable,
                str(BENCH_DIR / "loadgen.py"),
                "--mode",
                mode,
                "--port",
                str(port),
                "--threads",
                str(self.per_process),
                "--seconds",
                str(seconds),
                "--start-at",
                f"{start_at:.3f}",
                "--process-index",
                str(index),
                "--out",
                str(out),
                *extra,
            ]
            child = self.processes.start(argv, env=dict(os.environ), log=self.tmp / "loadgen.log")
            children.append((child, out))
        reports: list[dict[str, Any]] = []
        for child, out in children:
            try:
                child.wait(timeout=seconds + 60)
            finally:
                self.processes.stop(child)
            if child.returncode != 0 or not out.exists():
                raise RuntimeError(f"load generator failed:\n{_tail(self.tmp / 'loadgen.log')}")
            reports.append(json.loads(out.read_text()))
        return reports


@dataclass
class MergedOp:
    latencies: list[float]
    statuses: Counter[str]
    exceptions: Counter[str]
    error_samples: list[str]


def merge_ops(reports: list[dict[str, Any]], op: str) -> MergedOp:
    merged = MergedOp([], Counter(), Counter(), [])
    for report in reports:
        data = report["ops"][op]
        merged.latencies.extend(data["latencies_ms"])
        merged.statuses.update(data["statuses"])
        merged.exceptions.update(data["exceptions"])
        merged.error_samples.extend(data["error_samples"])
    return merged


def op_summary(op: MergedOp, elapsed: float) -> dict[str, Any]:
    return {
        "ok": len(op.latencies),
        "per_s": len(op.latencies) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(op.latencies, 50),
        "p90_ms": percentile(op.latencies, 90),
        "p99_ms": percentile(op.latencies, 99),
        "max_ms": max(op.latencies, default=None),
        "statuses": dict(op.statuses),
        "exceptions": dict(op.exceptions),
        "error_samples": op.error_samples[:5],
    }


# --------------------------------------------------------------------------------------------
# The shop
# --------------------------------------------------------------------------------------------


def add_benchmark_products(database_url: str) -> list[str]:
    """Add products with huge stock through the app's own use case; returns their ids."""
    from adapters.sql import SqlUnitOfWork, make_engine
    from commerce_core.clock import SystemClock
    from commerce_core.money import Money
    from commerce_core.queries import NewProduct, stock_catalog

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
    """Stock taken from the benchmark products vs the orders that hold or paid for it."""
    from sqlalchemy import func, select

    from adapters.sql import make_engine
    from adapters.sql.tables import order_lines, orders, products

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            stock = conn.execute(
                select(func.sum(products.c.stock)).where(products.c.id.in_(product_ids))
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
    env = {**os.environ, "DATABASE_URL": database_url, "APP_ENV": "development"}
    env.pop("WEB_CONCURRENCY", None)
    result: dict[str, Any] = {"backend": backend, "database_url": database_url}

    print(f"  [{backend}] commerce db upgrade; commerce seed --demo; benchmark products")
    _run([str(COMMERCE), "db", "upgrade"], env=env, timeout=CLI_TIMEOUT_S, what="db upgrade")
    _run([str(COMMERCE), "seed", "--demo"], env=env, timeout=CLI_TIMEOUT_S, what="seed --demo")
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
    print(f"    200: {_run_line(ok)}")
    cached = ctx.load.get(server, port, path, 304, {"If-None-Match": etag})
    print(f"    304: {_run_line(cached)}")
    extra: dict[str, Any] = {}
    if healthz:
        # Diagnostic: the shop's fixed per-request cost (hooks, request log line), no database.
        hooks = ctx.load.get(server, port, "/healthz", 200, {})
        print(f"    /healthz: {_run_line(hooks)}")
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
        f"    {result['checkouts_per_s']:.1f} checkouts/s; intent p50 {_ms(intent['p50_ms'])} "
        f"p99 {_ms(intent['p99_ms'])}; confirm p50 {_ms(confirm['p50_ms'])} "
        f"p99 {_ms(confirm['p99_ms'])}; statuses intent {intent['statuses']} "
        f"confirm {confirm['statuses']}\n    CPU per checkout: server "
        f"{_num(result['server_cpu_ms_per_checkout'], 2)} ms, load generator "
        f"{_num(result['client_cpu_ms_per_checkout'], 2)} ms; {_cpu_note(cpu)}"
    )
    return result


# --------------------------------------------------------------------------------------------
# PostgreSQL: scratch databases and pgbench
# --------------------------------------------------------------------------------------------


class ScratchDatabases:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def create(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)

    def drop(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(self.created):
            try:
                self.drop(name)
            except Exception as exc:
                print(f"  could not drop scratch database {name}: {exc}", file=sys.stderr)

    def url(self, name: str, driver: str = "postgresql+psycopg") -> str:
        parts = urlsplit(self.admin_url)
        return f"{driver}://{parts.netloc}/{name}"


def run_pgbench(knobs: Knobs, dbs: ScratchDatabases) -> dict[str, Any]:
    pgbench = shutil.which("pgbench") or "/usr/bin/pgbench"
    parts = urlsplit(knobs.pg_admin_url)
    name = f"bench_pgbench_{os.getpid()}"
    dbs.create(name)
    conn = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    try:
        print(f"  pgbench -i -s {knobs.pgbench_scale} (scratch database {name})")
        _run(
            [pgbench, *conn, "-i", "-q", "-s", str(knobs.pgbench_scale), name],
            env=env,
            timeout=300,
            what="pgbench -i",
        )
        argv = [
            pgbench,
            *conn,
            "-c",
            str(knobs.connections),
            "-j",
            "2",
            "-T",
            str(knobs.seconds),
            name,
        ]
        print(f"  {' '.join(['pgbench', *argv[7:]])}")
        meter = CpuMeter()
        output = _run(argv, env=env, timeout=knobs.seconds + 120, what="pgbench")
        cpu = meter.stop()
    finally:
        dbs.drop(name)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if tps is None:
        raise RuntimeError(f"cannot read pgbench's TPS:\n{output}")
    result: dict[str, Any] = {
        "command": " ".join(["pgbench", *argv[7:-1]]),
        "scale": knobs.pgbench_scale,
        "tps": float(tps[1]),
        "latency_avg_ms": float(latency[1]) if latency else None,
        "failed": int(failed[1]) if failed else 0,
        "cpu": cpu,
    }
    transactions = result["tps"] * knobs.seconds
    result["postgres_cpu_ms_per_tx"] = (
        1000 * cpu["postgres_cpu_s"] / transactions if transactions else None
    )
    print(
        f"    {result['tps']:.1f} TPS, latency avg {result['latency_avg_ms']} ms; {_cpu_note(cpu)}"
    )
    return result


def postgres_reachable(admin_url: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


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
    print(f"    {_run_line(run)}")
    return asdict(run)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _run_line(run: HttpRun) -> str:
    return (
        f"{run.rps:9.1f} req/s  p50 {_ms(run.p50_ms)}  p99 {_ms(run.p99_ms)}; server CPU "
        f"{_num(run.server_cpu_ms, 2)} ms/request; {_cpu_note(run.cpu)}"
    )


def _ms(value: float | None) -> str:
    return "   n/a  " if value is None else f"{value:7.2f}ms"


def _num(value: float | None, digits: int = 1) -> str:
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
                    f"{_num(rps)} / {_num(bare)} = {_num(ratio, 2)} (CPU: {_num(by_cpu, 2)})",
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
                f"{_num(cps)} / {_num(pg_tps)} = {_num(ratio, 3)}",
                f">= {CHECKOUTS_VS_PGBENCH}",
                None if ratio is None else ratio >= CHECKOUTS_VS_PGBENCH,
            )
        )
        p99 = checkout.get("confirm", {}).get("p99_ms")
        checks.append(
            Check(
                f"confirm p99 ({backend})",
                f"{_num(p99, 2)} ms",
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
            f"{_num(worst)} MB",
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
        notes += f", postgres CPU {_num(pgb.get('postgres_cpu_ms_per_tx'), 2)} ms/tx"
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
        _ms(run["p50_ms"]),
        _ms(run["p99_ms"]),
        _http_notes(run),
    )


def _shop_rows(backend: str, shop: dict[str, Any]) -> list[Row]:
    tag = f"[{backend}]"
    rows = [_http_row(f"{tag} GET /api/products {k}", shop["listing"][k]) for k in ("200", "304")]
    if "healthz" in shop["listing"]:
        rows.append(_http_row(f"{tag} GET /healthz (diagnostic)", shop["listing"]["healthz"]))
    co = shop["checkout"]
    done = f"{co['completed']} in {co['seconds']:.1f}s by {co['shoppers']} shoppers"
    done += f", CPU/checkout: server {_num(co['server_cpu_ms_per_checkout'], 1)} ms"
    done += f", load generator {_num(co['client_cpu_ms_per_checkout'], 1)} ms"
    if co.get("postgres_cpu_ms_per_checkout") is not None:
        done += f", postgres {_num(co['postgres_cpu_ms_per_checkout'], 1)} ms"
    done += f", others' CPU {co['cpu']['others_pct']:.0f}%"
    rows.append((f"{tag} checkouts", f"{co['checkouts_per_s']:,.1f} /s", "", "", done))
    for op in ("intent", "confirm"):
        data = co[op]
        rate = f"{data['per_s']:,.1f} /s"
        notes = f"max {_num(data['max_ms'])} ms, statuses {data['statuses']}"
        rows.append((f"{tag}   POST {op}", rate, _ms(data["p50_ms"]), _ms(data["p99_ms"]), notes))
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
        f"server CPU {_num(run.get('server_cpu_ms'), 2)} ms/req",
    ]
    if run.get("cpu"):
        notes.append(f"others' CPU {run['cpu']['others_pct']:.0f}%")
    if run.get("bad_statuses"):
        notes.append(f"{run['bad_statuses']} unexpected statuses")
    if run.get("socket_errors"):
        notes.append(f"socket errors {run['socket_errors']}")
    return ", ".join(notes)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def _environment(knobs: Knobs, load: LoadTool) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
    )
    from webapp.server import server_options

    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": f"{commit}{'+dirty' if dirty else ''}",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "platform": platform.platform(),
        "knobs": asdict(knobs),
        "load_tool": load.name,
        "gunicorn_options": server_options(
            host="127.0.0.1", port=0, workers=knobs.workers, threads=knobs.threads
        ),
    }


@contextlib.contextmanager
def _tmpdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="commerce-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def main() -> int:
    knobs = Knobs.from_env()
    if not COMMERCE.exists():
        print(f"{COMMERCE} not found: run `make install` first", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_on_signal)
    signal.signal(signal.SIGHUP, _raise_on_signal)
    processes = Processes()
    dbs = ScratchDatabases(knobs.pg_admin_url)
    results: dict[str, Any] = {}
    failed: str | None = None
    with _tmpdir(knobs.keep_tmp) as tmp:
        load = LoadTool(knobs, processes, tmp)
        ctx = ShopContext(knobs, processes, load, tmp)
        env_info = _environment(knobs, load)
        results["environment"] = env_info
        results["load_tool"] = load.name
        print(f"commerce benchmarks - {env_info['cpus']} CPUs, git {env_info['git']}")
        print(f"gunicorn (commerce serve): {json.dumps(env_info['gunicorn_options'])}")
        print(
            f"load: {load.name}; checkout load: python loadgen, {knobs.load_processes} x {load.per_process} threads"
        )
        if not load.wrk:
            print(
                "  wrk not found (or BENCH_LOADGEN=python): using the built-in generator, which "
                "costs more CPU than wrk. Install wrk with: apt-get update && apt-get install -y wrk"
            )
        try:
            print("\n[1/4] bare Flask endpoint (framework ceiling)")
            results["bare"] = bench_bare(ctx)
            print("\n[2/4] shop on SQLite")
            sqlite_url = f"sqlite:///{tmp / 'shop.db'}"
            results["sqlite"] = bench_shop(ctx, "sqlite", sqlite_url)
            unreachable = None if not knobs.skip_postgres else "BENCH_SKIP_POSTGRES"
            unreachable = unreachable or postgres_reachable(knobs.pg_admin_url)
            if unreachable:
                print(f"\n[3/4, 4/4] PostgreSQL skipped: {unreachable}")
                results["postgres"] = results["pgbench"] = f"skipped: {unreachable}"
            else:
                print("\n[3/4] pgbench (database ceiling)")
                results["pgbench"] = run_pgbench(knobs, dbs)
                print("\n[4/4] shop on PostgreSQL")
                name = f"bench_shop_{os.getpid()}"
                dbs.create(name)
                results["postgres"] = bench_shop(ctx, "postgres", dbs.url(name))
        except KeyboardInterrupt:
            failed = "interrupted"
            print("\ninterrupted: stopping everything", file=sys.stderr)
        except Exception as exc:
            failed = f"{type(exc).__name__}: {exc}"
            print(f"\nFAILED: {failed}", file=sys.stderr)
        finally:
            # A second Ctrl-C must not cut the clean-up short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            processes.stop_all()
            dbs.drop_all()
            signal.signal(signal.SIGINT, signal.default_int_handler)
        checks = evaluate(results)
        results["checks"] = [asdict(c) | {"verdict": c.verdict} for c in checks]
        results["failed"] = failed
        if not failed:
            print_report(results, checks)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
