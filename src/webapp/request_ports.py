"""The ports a request's use cases receive: the app's container plus this request's unit of work.

A unit of work is created lazily, once per request, and kept on ``flask.g``; it is never shared
between requests or threads. Views call use cases as ``use_case(command, **payment_ports())``.
When the request ends - answered, refused or failed - ``release_request_uow`` closes it, so its
pooled connection goes back to the pool (a unit of work keeps one across its transactions).
"""

from __future__ import annotations

from typing import TypedDict, cast

from flask import current_app, g

from commerce_core import Clock, EventSink, PasswordHasher, PaymentGateway, UnitOfWork
from webapp.bootstrap import Container, release_uow

__all__ = [
    "CONTAINER_KEY",
    "AccountPorts",
    "PaymentPorts",
    "account_ports",
    "container",
    "payment_ports",
    "release_request_uow",
    "request_uow",
]

CONTAINER_KEY = "commerce.container"


class PaymentPorts(TypedDict):
    uow: UnitOfWork
    gateway: PaymentGateway
    clock: Clock
    events: EventSink


class AccountPorts(TypedDict):
    uow: UnitOfWork
    hasher: PasswordHasher
    clock: Clock
    events: EventSink


def container() -> Container:
    return cast(Container, current_app.extensions[CONTAINER_KEY])


def request_uow() -> UnitOfWork:
    """This request's own unit of work."""
    if "uow" not in g:
        g.uow = container().new_uow()
    return cast(UnitOfWork, g.uow)


def release_request_uow(_error: BaseException | None = None) -> None:
    """``teardown_request`` hook: close this request's unit of work, if it made one."""
    uow = g.pop("uow", None)
    if uow is not None:
        release_uow(uow)


def payment_ports() -> PaymentPorts:
    c = container()
    return PaymentPorts(uow=request_uow(), gateway=c.gateway, clock=c.clock, events=c.events)


def account_ports() -> AccountPorts:
    c = container()
    return AccountPorts(uow=request_uow(), hasher=c.hasher, clock=c.clock, events=c.events)
