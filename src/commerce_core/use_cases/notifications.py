"""Queueing the shop's emails with the change that causes them, and sending them after commit.

The ``queue_*`` functions run inside an open unit of work, in the transaction of the change
(an order paid, a refund succeeded, an order shipped, a sign-in from a new address): the message
is stored exactly when the change commits - a rollback drops both - and never twice, since each
message's id is derived from its cause (``MessageOutbox.add`` ignores a second one).

``send_due_messages`` (the scheduler's ``notifications`` job, ``commerce jobs
send-notifications``) sends what is due, outside any transaction:

1. it *claims* each message - one conditional update that counts an attempt and leases the
   message to this sender for ``RetryPolicy.lease`` - and commits the claim;
2. it hands the message to the ``Notifier``;
3. it marks the message sent, or on failure schedules the next attempt with exponential backoff
   (``RetryPolicy``), or gives up (permanent refusal, or attempts spent) with an alert.

A crash before (2) leaves the message claimed until its lease runs out; then any sender takes
it again, so nothing is lost. Two senders never hold one message at once, so nothing is sent
twice - with one window no outbox can close over SMTP, which has no idempotency key: a crash
after the mail server accepted the message and before (3) committed. The lease then runs out
and the message is sent a second time (with the same ``Message-ID``, which many mail clients
use to fold the copies into one). That window is one SMTP round-trip plus one commit wide.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime

import attrs

from commerce_core.domain.events import DomainEvent
from commerce_core.domain.ids import new_id
from commerce_core.domain.message_templates import (
    new_login_notice,
    order_confirmation,
    order_shipped,
    refund_issued,
)
from commerce_core.domain.notifications import OutgoingMessage, QueuedMessage, RetryPolicy
from commerce_core.domain.orders import Order
from commerce_core.domain.password_resets import sign_in_address_digest
from commerce_core.errors import NotificationFailed, NotificationRejected
from commerce_core.ports import Clock, EventSink, Notifier, UnitOfWork
from commerce_core.use_cases._publishing import publishing
from commerce_core.views import order_view, refund_view, timestamp

__all__ = [
    "DEFAULT_RETRY_POLICY",
    "DeliveryReport",
    "queue_message",
    "queue_order_confirmation",
    "queue_refund_message",
    "queue_shipped_message",
    "remember_sign_in_address",
    "send_due_messages",
]

DEFAULT_RETRY_POLICY = RetryPolicy()
# IPv6 clients change their address within their /64 every day or so (privacy extensions);
# a new-address notice for each would teach people to ignore them.
_IPV6_SUBSCRIBER_PREFIX = 64


@attrs.frozen
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    gave_up: int = 0


def queue_message(uow: UnitOfWork, message: OutgoingMessage, now: datetime) -> bool:
    """Inside an open ``uow``: store ``message`` for sending after commit; ``False`` if a
    message with its id was queued before (nothing changes)."""
    queued = uow.messages.add(message, now)
    if queued:
        uow.announce(
            DomainEvent.of("notification.queued", now, message_id=message.id, kind=message.kind)
        )
    return queued


def _email_of(uow: UnitOfWork, user_id: str) -> str | None:
    user = uow.users.get(user_id)
    return None if user is None else user.email


def queue_order_confirmation(uow: UnitOfWork, order: Order, now: datetime) -> bool:
    """Inside an open ``uow``, in the transaction that marked ``order`` paid: its receipt."""
    to = _email_of(uow, order.user_id)
    if to is None:
        return False
    return queue_message(uow, order_confirmation(order_view(order), to=to), now)


def queue_refund_message(uow: UnitOfWork, order: Order, refund_id: str, now: datetime) -> bool:
    """Inside an open ``uow``, in the transaction that recorded the refund's success."""
    refund = order.find_refund(refund_id)
    to = _email_of(uow, order.user_id)
    if refund is None or to is None:
        return False
    return queue_message(uow, refund_issued(order_view(order), refund_view(refund), to=to), now)


def queue_shipped_message(uow: UnitOfWork, order: Order, now: datetime) -> bool:
    """Inside an open ``uow``, in the transaction that fulfilled ``order``: the shipping notice
    with the carrier and tracking number of ``order_view(order)["fulfilment"]``."""
    to = _email_of(uow, order.user_id)
    if to is None:
        return False
    return queue_message(uow, order_shipped(order_view(order), to=to), now)


def _address_key(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, _IPV6_SUBSCRIBER_PREFIX), strict=False))
    return str(parsed)


def remember_sign_in_address(
    uow: UnitOfWork, user_id: str, email: str, address: str | None, now: datetime, *, notify: bool
) -> bool:
    """Inside an open ``uow``: note that the account signed in from ``address``. With
    ``notify``, an address new to an account that has signed in from elsewhere before gets a
    notice queued (an account's first address - where it registered - gets none). Whether the
    address was new."""
    if not address:
        return False
    digest = sign_in_address_digest(user_id, _address_key(address))
    known_before = uow.sign_in_addresses.knows_any(user_id)
    new = uow.sign_in_addresses.remember(user_id, digest, now)
    if new and notify and known_before:
        notice = new_login_notice(
            to=email, ip=address, at=timestamp(now) or "", login_id=new_id("lgn")
        )
        queue_message(uow, notice, now)
    return new


def send_due_messages(
    *,
    uow: UnitOfWork,
    notifier: Notifier,
    clock: Clock,
    events: EventSink,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    batch_size: int = 50,
    holder: str | None = None,
) -> DeliveryReport:
    """Send up to ``batch_size`` due messages, each at most once at a time (see the module's
    docstring for the guarantees); what was sent, rescheduled and given up."""
    holder = holder or new_id("snd")
    sent = retried = gave_up = 0
    with publishing(uow, events, clock):
        with uow:
            due = uow.messages.due(clock.now(), batch_size)
        for queued in due:
            match _send_one(queued, holder, uow=uow, notifier=notifier, clock=clock, policy=policy):
                case "sent":
                    sent += 1
                case "retry":
                    retried += 1
                case "gave_up":
                    gave_up += 1
                case _:
                    pass  # another sender took it first
    return DeliveryReport(sent=sent, retried=retried, gave_up=gave_up)


def _send_one(
    queued: QueuedMessage,
    holder: str,
    *,
    uow: UnitOfWork,
    notifier: Notifier,
    clock: Clock,
    policy: RetryPolicy,
) -> str:
    message = queued.message
    now = clock.now()
    with uow:
        claimed = uow.messages.claim(message.id, holder, now, now + policy.lease)
        uow.commit()
    if not claimed:
        return "taken"
    attempts = queued.attempts + 1  # the claim counted this one
    try:
        notifier.send(message)
    except Exception as error:  # any failure is this attempt's; the next run tries again
        code = error.code if isinstance(error, NotificationFailed) else type(error).__name__
        give_up = isinstance(error, NotificationRejected) or policy.gives_up_after(attempts)
        now = clock.now()
        retry_at = None if give_up else now + policy.delay_after(attempts)
        fields = {"message_id": message.id, "kind": message.kind, "attempts": attempts}
        with uow:
            uow.messages.mark_failed(
                message.id, holder, retry_at=retry_at, error=f"{code}: {str(error)[:500]}"
            )
            if give_up:
                # Staff must act (send it by hand, fix the address or the mail server).
                uow.announce(
                    DomainEvent.alert("alert.notification_gave_up", now, **fields, error=code)
                )
            else:
                uow.announce(
                    DomainEvent.of(
                        "notification.retry_scheduled",
                        now,
                        **fields,
                        error=code,
                        retry_at=timestamp(retry_at),
                    )
                )
            uow.commit()
        return "gave_up" if give_up else "retry"
    with uow:
        uow.messages.mark_sent(message.id, clock.now(), forget_body=message.sensitive)
        uow.announce(
            DomainEvent.of(
                "notification.sent",
                clock.now(),
                message_id=message.id,
                kind=message.kind,
                attempts=attempts,
            )
        )
        uow.commit()
    return "sent"
