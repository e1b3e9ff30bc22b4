"""Where things are and the knobs of a benchmark run (environment variables; see run.py)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
BIN = Path(sys.executable).parent
COMMERCE = BIN / "commerce"
RESULTS = BENCH_DIR / "results" / "latest.json"


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
