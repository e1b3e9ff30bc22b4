"""The ports a request's use cases receive: the app's container plus this request's unit of work.

A unit of work is created lazily, once per request, and kept on ``flask.g``; it is never shared
between requests or threads. Views call use cases as ``use_case(command, **payment_ports())``.
When the request ends - answered, refused or failed - ``release_request_uow`` closes it, so its
pooled connection goes back to the pool (a unit of work keeps one across its transactions).
"""

from __future__ import annotations

from typing import cast

from flask import current_app, g

from commerce_core import AccountPorts, PaymentPorts, UnitOfWork
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
    return container().payment_ports(request_uow())


def account_ports() -> AccountPorts:
    return container().account_ports(request_uow())
