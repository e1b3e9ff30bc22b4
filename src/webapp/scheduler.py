"""The shop's periodic work, run inside the serving processes: no external cron needed.

Every serving process starts one ``JobScheduler`` thread. About once a minute (with jitter, so
processes started together do not ask together) it asks for the job's lease (``SqlJobLeases``)
and, if it got it, runs the job: ``reconcile_payments``, which gives back the stock of expired
holds, finishes what gateways owe and asks them what a lost webhook did not say. With several
processes (or hosts), one runs each round; if that one dies, the lease expires and another takes
over. The same round purges carts untouched for 30 days (``purge_stale_carts``): anonymous
visitors' carts must not pile up forever. ``commerce jobs reconcile`` from a cron keeps working beside it - every job is idempotent.

A second scheduler, ``notifications``, runs ``send_due_messages`` every few seconds
(``NOTIFY_INTERVAL_SECONDS``), so an email queued with an order or a password-reset request
leaves within seconds. Its lease only spares duplicate work: each message is claimed on its
own, so two processes sending at once still send it once.

A failing round is logged and the next one tried: a database hiccup must not kill the thread.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import attrs
import structlog

from adapters.sql.leases import SqlJobLeases
from commerce_core import Clock, purge_stale_carts, reconcile_payments, send_due_messages
from webapp.bootstrap import Container, release_uow
from webapp.config import Settings

__all__ = [
    "DEFAULT_INTERVAL",
    "JobScheduler",
    "notification_job",
    "reconcile_job",
    "start_job_scheduler",
    "start_job_schedulers",
]

log = structlog.get_logger("webapp.scheduler")

DEFAULT_INTERVAL = 60.0  # seconds between rounds
JITTER = 0.2  # each wait is the interval +/- 20%


def reconcile_job(container: Container) -> dict[str, Any]:
    """One round of ``reconcile_payments`` and of the carts' purge over a unit of work of its
    own; its report."""
    uow = container.new_uow()
    try:
        report = reconcile_payments(**container.payment_ports(uow))
        purged = purge_stale_carts(uow=uow, clock=container.clock)
    finally:
        release_uow(uow)
    return {**attrs.asdict(report), "carts_purged": purged}


def notification_job(container: Container) -> dict[str, Any]:
    """One round of ``send_due_messages`` over a unit of work of its own; its report."""
    uow = container.new_uow()
    try:
        report = send_due_messages(
            uow=uow, notifier=container.notifier, clock=container.clock, events=container.events
        )
    finally:
        release_uow(uow)
    return attrs.asdict(report)


@attrs.define
class JobScheduler:
    """Runs ``job`` about every ``interval`` seconds in a daemon thread, when this process holds
    the lease named ``name``."""

    leases: SqlJobLeases
    clock: Clock
    job: Callable[[], dict[str, Any]]
    name: str = "reconcile"
    interval: float = DEFAULT_INTERVAL
    holder: str = attrs.Factory(
        lambda: f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(4)}"
    )
    _stop: threading.Event = attrs.field(factory=threading.Event, init=False)
    _thread: threading.Thread | None = attrs.field(default=None, init=False)

    def tick(self) -> bool:
        """One round: take the lease if free and run the job. Whether this process ran it."""
        ttl = timedelta(seconds=self.interval)
        try:
            if not self.leases.acquire(self.name, self.holder, self.clock.now(), ttl):
                return False
            report = self.job()
        except Exception as exc:  # the next round tries again; the thread must live on
            log.error("scheduler.job_failed", job=self.name, error=type(exc).__name__)
            return False
        if any(value for value in report.values()):
            log.info("scheduler.job_ran", job=self.name, **report)
        return True

    def start(self) -> threading.Thread:
        if self._thread is not None and self._thread.is_alive():
            return self._thread
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"jobs-{self.name}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval * random.uniform(1 - JITTER, 1 + JITTER)):  # noqa: S311 - jitter, not a secret
            self.tick()


def start_job_scheduler(container: Container, settings: Settings) -> JobScheduler | None:
    """Start this serving process's scheduler (none if ``JOB_INTERVAL_SECONDS`` is 0, or
    without a database engine to hold leases in)."""
    if settings.job_interval_seconds == 0 or container.engine is None:
        return None
    scheduler = JobScheduler(
        leases=SqlJobLeases(container.engine),
        clock=container.clock,
        job=lambda: reconcile_job(container),
        interval=float(settings.job_interval_seconds),
    )
    scheduler.start()
    return scheduler


def start_job_schedulers(container: Container, settings: Settings) -> list[JobScheduler]:
    """Start this serving process's schedulers: ``reconcile`` and ``notifications`` (none if
    ``JOB_INTERVAL_SECONDS`` is 0, or without a database engine to hold leases in)."""
    reconcile = start_job_scheduler(container, settings)
    if reconcile is None or container.engine is None:
        return []
    notifications = JobScheduler(
        leases=SqlJobLeases(container.engine),
        clock=container.clock,
        job=lambda: notification_job(container),
        name="notifications",
        interval=float(settings.notify_interval_seconds),
    )
    notifications.start()
    return [reconcile, notifications]
