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
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The modules next to this file (benchmarks/ is the script's directory, first on sys.path):
# settings, processes, /proc measurement, load tools, the servers under test, the report.
from bench_config import COMMERCE, ROOT, Knobs
from bench_load import LoadTool, run_pgbench
from bench_procs import Processes, ScratchDatabases, postgres_reachable, raise_on_signal
from bench_report import evaluate, print_report, write_results
from bench_shop import ShopContext, bench_bare, bench_shop


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
    signal.signal(signal.SIGTERM, raise_on_signal)
    signal.signal(signal.SIGHUP, raise_on_signal)
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
        write_results(results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
