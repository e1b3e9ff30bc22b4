"""Measurement from /proc: who used the CPUs during a phase, and gunicorn workers' RSS."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

RSS_SAMPLE_INTERVAL_S = 0.25
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stats() -> Iterator[tuple[int, str]]:
    """(pid, text of /proc/<pid>/stat) for every process that still exists when read."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        yield int(entry), stat


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for pid, stat in _proc_stats():
        # Field 4 (ppid) follows the parenthesised command name, which may contain spaces.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(pid)
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
    for pid, stat in _proc_stats():
        head, _, tail = stat.rpartition(")")
        fields = tail.split()
        # After the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
        jiffies = sum(int(v) for v in fields[11:15])
        table[pid] = (head.partition("(")[2], int(fields[1]), jiffies)
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


def cpu_note(cpu: dict[str, float]) -> str:
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
