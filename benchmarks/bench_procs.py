"""Processes: everything started is registered and stopped in `finally`; scratch databases,
likewise dropped; short commands run to completion; waiting for a server to answer."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench_config import ROOT
from loadgen import Client

STOP_TIMEOUT_S = 15

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


def raise_on_signal(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_command(argv: list[str], *, env: dict[str, str], timeout: float, what: str) -> str:
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
            raise RuntimeError(f"server exited with {child.returncode}:\n{tail(log)}")
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
    raise RuntimeError(f"server not answering {path} after {timeout}s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------------------------
# PostgreSQL scratch databases
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


def postgres_reachable(admin_url: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
