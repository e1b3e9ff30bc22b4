"""The real app on a real, migrated database, for the header, origin, form and log tests.

Rate limits are off: these tests sign in and fail to sign in more often than the limits allow
one address, and what they check is not the limits (which have tests of their own).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import attrs
from flask import Flask

from adapters.passwords import Argon2PasswordHasher
from commerce_core import RateLimitPolicy
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings


@contextmanager
def running_app(settings: Settings) -> Iterator[tuple[Flask, Container]]:
    migrate_database(settings)
    # Real Argon2id, at the cheapest parameters: the production ones would slow every test.
    container = attrs.evolve(
        build_container(settings),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        rate_limits=RateLimitPolicy({}),
    )
    try:
        yield create_app(settings, container=container), container
    finally:
        container.close()
