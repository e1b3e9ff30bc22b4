"""Queued emails leave on their own: the serving process's ``notifications`` scheduler sends
them within seconds, ``JOB_INTERVAL_SECONDS=0`` turns the in-process jobs off, and
``commerce jobs send-notifications`` does the same from a cron."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from commerce_core import OutgoingMessage, queue_message
from tests.support.smtp_server import Inbox
from webapp.bootstrap import build_container, migrate_database
from webapp.cli import cli
from webapp.config import Settings
from webapp.scheduler import start_job_schedulers


def _settings(tmp_path: Path, inbox: Inbox, **overrides: Any) -> Settings:
    return Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        smtp_url=inbox.url,
        mail_from="Shop <shop@shop.test>",
        **overrides,
    )


def _queue(settings: Settings, n: int = 1) -> None:
    container = build_container(settings)
    try:
        with container.new_uow() as uow:
            queue_message(
                uow,
                OutgoingMessage(
                    id=f"test:{n}",
                    kind="test",
                    to="ada@example.com",
                    subject=f"Hello {n}",
                    text="Hello.\n",
                    html="<p>Hello.</p>",
                ),
                container.clock.now(),
            )
            uow.commit()
    finally:
        container.close()


def test_the_serving_process_sends_a_queued_email_within_seconds(
    tmp_path: Path, smtp_server: Inbox
) -> None:
    settings = _settings(tmp_path, smtp_server, job_interval_seconds=60, notify_interval_seconds=1)
    migrate_database(settings)
    container = build_container(settings)
    schedulers = start_job_schedulers(container, settings)
    try:
        _queue(settings)
        deadline = time.monotonic() + 10
        while not smtp_server.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for scheduler in schedulers:
            scheduler.stop()
        container.close()

    assert [s.name for s in schedulers] == ["reconcile", "notifications"]
    assert smtp_server.subjects("ada@example.com") == ["Hello 1"]


def test_no_in_process_jobs_run_when_job_interval_is_zero(
    tmp_path: Path, smtp_server: Inbox
) -> None:
    settings = _settings(tmp_path, smtp_server, job_interval_seconds=0)
    container = build_container(settings)
    try:
        assert start_job_schedulers(container, settings) == []
    finally:
        container.close()


def test_the_cli_sends_what_is_due(
    tmp_path: Path, smtp_server: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path, smtp_server)
    migrate_database(settings)
    _queue(settings, 1)
    _queue(settings, 2)
    for name, value in {
        "APP_ENV": "test",
        "DATABASE_URL": settings.database_url,
        "SMTP_URL": smtp_server.url,
        "MAIL_FROM": settings.mail_from,
    }.items():
        monkeypatch.setenv(name, value)

    first = CliRunner().invoke(cli, ["jobs", "send-notifications"])
    second = CliRunner().invoke(cli, ["jobs", "send-notifications"])

    assert first.exit_code == 0, first.output
    assert "sent=2 retried=0 gave_up=0" in first.output
    assert "sent=0" in second.output
    assert sorted(smtp_server.subjects("ada@example.com")) == ["Hello 1", "Hello 2"]
