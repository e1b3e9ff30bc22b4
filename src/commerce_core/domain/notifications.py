"""Messages the shop sends people (order confirmations, refund notices, password resets ...) and
the outbox that holds them until they are sent.

A message is queued in the same transaction as the change that causes it (``uow.messages.add``),
so it exists exactly when that change does. After commit, ``send_due_messages`` claims it (a
lease, taken by one conditional update: of two senders only one gets it), hands it to the
``Notifier``, and marks it sent - or, on a temporary failure, schedules the next attempt with
exponential backoff, until ``RetryPolicy.max_attempts`` is spent and it gives up (an alert).

Every message has a stable ``id`` derived from what caused it (``order-paid:ord_...``): queueing
it twice is a no-op, so a use case that runs twice (a replayed webhook) cannot send it twice.

    >>> policy = RetryPolicy(first_delay=timedelta(minutes=1), max_delay=timedelta(hours=1))
    >>> [policy.delay_after(n) for n in (1, 2, 3)]
    [datetime.timedelta(seconds=60), datetime.timedelta(seconds=120), datetime.timedelta(seconds=240)]
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import attrs

__all__ = [
    "MAX_MESSAGE_ID",
    "MessageStatus",
    "OutgoingMessage",
    "QueuedMessage",
    "RetryPolicy",
]

MAX_MESSAGE_ID = 200


def _check_id(_instance: object, _attribute: object, value: str) -> None:
    if not 1 <= len(value) <= MAX_MESSAGE_ID or not value.isprintable():
        raise ValueError(f"a message id is 1 to {MAX_MESSAGE_ID} printable characters")


def _single_line(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    # A header value: a line break would let content inject headers of its own.
    if "\r" in value or "\n" in value:
        raise ValueError(f"{attribute.name} must be a single line")


@attrs.frozen
class OutgoingMessage:
    """One email: who to, what about, the text and HTML bodies (rendered by
    ``commerce_core.domain.message_templates``) and a stable ``id`` that is also its
    idempotency key (an SMTP adapter derives the ``Message-ID`` header from it).

    ``sensitive``: the body carries something the recipient alone may see (a password-reset
    link); the outbox forgets its body once it is sent."""

    id: str = attrs.field(validator=_check_id)
    kind: str
    to: str = attrs.field(validator=_single_line)
    subject: str = attrs.field(validator=_single_line)
    text: str
    html: str
    sensitive: bool = False


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"  # the mail server accepted it
    FAILED = "failed"  # given up: every attempt failed, or the server refused it for good


@attrs.define
class QueuedMessage:
    """A message in the outbox, with its delivery state."""

    message: OutgoingMessage
    status: MessageStatus
    created_at: datetime
    next_attempt_at: datetime
    # Attempts started so far (counted when claimed, so a sender that dies mid-send counts).
    attempts: int = 0
    # The sender holding it, until when; another may claim it once the lease ran out.
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None

    @property
    def id(self) -> str:
        return self.message.id

    def is_due(self, now: datetime) -> bool:
        return (
            self.status is MessageStatus.PENDING
            and self.next_attempt_at <= now
            and (self.claimed_until is None or self.claimed_until <= now)
        )


@attrs.frozen
class RetryPolicy:
    """When to try again after a temporary failure: ``first_delay`` after the first attempt,
    doubling each time up to ``max_delay``; after ``max_attempts`` attempts, give up.

    The defaults ride out a mail server's restart or an hour-long outage (attempts after 1, 2,
    4, ... 60 minutes: about six hours in all) and give up while an order confirmation is
    still worth sending by hand. ``lease`` is how long a sender may hold a message: far longer
    than an SMTP conversation takes (its timeouts are seconds), so a slow send is never
    claimed by a second sender while the first still talks to the server."""

    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 10
    lease: timedelta = timedelta(minutes=5)

    def delay_after(self, attempts: int) -> timedelta:
        """The wait before the next attempt, ``attempts`` having failed."""
        doublings: int = max(0, min(attempts - 1, 30))
        delay: timedelta = self.first_delay * (1 << doublings)
        return min(delay, self.max_delay)

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
