"""An in-process SMTP server for the notification tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.smtp_server import Inbox, running_smtp_server


@pytest.fixture
def smtp_server() -> Iterator[Inbox]:
    with running_smtp_server() as inbox:
        yield inbox
