"""Load tools: wrk (or the built-in generator, loadgen.py) against a server, and pgbench."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench_config import BENCH_DIR, Knobs
from bench_measure import CpuMeter, cpu_note
from bench_procs import Processes, ScratchDatabases, run_command, tail

# --------------------------------------------------------------------------------------------
# HTTP load: wrk or the built-in generator
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
                raise RuntimeError(f"load generator failed:\n{tail(self.tmp / 'loadgen.log')}")
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
# pgbench (the database ceiling)
# --------------------------------------------------------------------------------------------


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
        run_command(
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
        output = run_command(argv, env=env, timeout=knobs.seconds + 120, what="pgbench")
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
        f"    {result['tps']:.1f} TPS, latency avg {result['latency_avg_ms']} ms; {cpu_note(cpu)}"
    )
    return result
