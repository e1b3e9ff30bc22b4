"""Holds expire without an external cron: the scheduler inside each serving process gives back
expired holds, and with several processes sharing a database exactly one runs each round (the
lease), another takes over when the holder stops - on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import attrs
import pytest
from sqlalchemy.engine import Engine

from adapters.passwords import Argon2PasswordHasher
from adapters.sql.leases import SqlJobLeases
from commerce_core import (
    CartItem,
    CreateCheckoutIntent,
    Money,
    OrderStatus,
    create_checkout_intent,
)
from commerce_core.testing import FakeClock, make_product
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings
from webapp.scheduler import JobScheduler, reconcile_job


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def container(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Container]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        request.getfixturevalue("pg_engine")  # emptied and migrated
        url = request.getfixturevalue("pg_url")
    settings = Settings(app_env="test", database_url=url, stripe_webhook_secret="whsec_" + "j" * 32)
    migrate_database(settings)
    built = attrs.evolve(
        build_container(settings), hasher=Argon2PasswordHasher.fast_for_tests(), clock=FakeClock()
    )
    yield built
    built.close()


def _engine(container: Container) -> Engine:
    assert container.engine is not None
    return container.engine


def _scheduler(container: Container, runs: list[str], name: str) -> JobScheduler:
    def job() -> dict[str, Any]:
        runs.append(name)
        return reconcile_job(container)

    return JobScheduler(
        leases=SqlJobLeases(_engine(container)), clock=container.clock, job=job, holder=name
    )


def test_a_round_gives_back_the_stock_of_an_expired_hold(container: Container) -> None:
    product = make_product(stock=3, price=Money(900, "USD"), now=container.clock.now())
    with container.new_uow() as uow:
        uow.products.add(product)
        uow.commit()
    body = create_checkout_intent(
        CreateCheckoutIntent("usr_1", (CartItem(product.id, 2),)), **container.payment_ports()
    ).body
    assert isinstance(container.clock, FakeClock)
    container.clock.advance(timedelta(minutes=16))

    assert _scheduler(container, [], "worker-1").tick() is True

    with container.new_uow() as uow:
        order = uow.orders.get(body["order_id"])
        restocked = uow.products.get(product.id)
    assert order is not None
    assert restocked is not None
    assert order.status is OrderStatus.CANCELLED
    assert restocked.stock == 3


def test_one_process_runs_each_round_and_another_takes_over_when_it_stops(
    container: Container,
) -> None:
    assert isinstance(container.clock, FakeClock)
    runs: list[str] = []
    workers = [_scheduler(container, runs, f"worker-{n}") for n in range(3)]

    assert [w.tick() for w in workers] == [True, False, False]
    container.clock.advance(timedelta(seconds=30))
    assert [w.tick() for w in workers] == [True, False, False]  # the holder renews its lease
    # worker-0 stops (it is never asked again); after its lease runs out, one other runs.
    container.clock.advance(timedelta(seconds=61))
    assert [w.tick() for w in workers[1:]] == [True, False]
    assert runs == ["worker-0", "worker-0", "worker-1"]


def test_concurrent_processes_asking_at_once_run_the_job_once(container: Container) -> None:
    runs: list[str] = []
    workers = [_scheduler(container, runs, f"worker-{n}") for n in range(6)]
    barrier = threading.Barrier(len(workers))
    ran: list[bool] = []
    lock = threading.Lock()

    def ask(worker: JobScheduler) -> None:
        barrier.wait()
        outcome = worker.tick()
        with lock:
            ran.append(outcome)

    threads = [threading.Thread(target=ask, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ran) == [False] * 5 + [True]
    assert len(runs) == 1


def test_a_failing_round_is_logged_and_the_thread_lives_on(container: Container) -> None:
    attempts: list[int] = []
    done = threading.Event()

    def flaky() -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("the database went away for a moment")
        done.set()
        return {}

    scheduler = JobScheduler(
        leases=SqlJobLeases(_engine(container)),
        clock=FakeClock(),  # a clock that does not move: the holder renews its own lease
        job=flaky,
        interval=0.01,
    )
    scheduler.start()
    try:
        assert done.wait(timeout=30), "the scheduler thread stopped after a failing round"
    finally:
        scheduler.stop()
    assert len(attempts) >= 2
