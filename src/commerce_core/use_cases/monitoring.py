"""``MonitoringEventSink``: the suspicious activity monitor, as an ``EventSink`` wrapped around
the real one.

Every event passes through to the inner sink unchanged, first. The events a rule watches
(``commerce_core.domain.monitoring``) are then counted in the ``AttemptStore`` - shared by every
instance of the shop, so an attack spread over many workers is counted whole - and when a count
reaches its threshold, the alert is stored in a unit of work of its own (listed to staff with
every other stored alert, republished by the reconciliation job should the process die before
publishing it) and published to the inner sink: logs, and Sentry when configured.

Watched events, and the fields each rule reads:

- ``auth.login_failed`` (``ip``, ``email_digest``): credential stuffing;
- ``payment.declined`` (``user_id``, ``ip``): card testing, per account and per address;
- ``refund.requested`` (``actor_id``): refund velocity per staff member (the shop's own
  automatic refunds, by ``SYSTEM_ACTOR``, are not a person's).

Monitoring never breaks the request that emitted the event: a counter store or database that
fails is reported as ``monitoring.failed`` (or ``monitoring.alert_not_stored``, after which the
alert is still published) and the request carries on.

    >>> from commerce_core.testing import InMemoryShop
    >>> shop = InMemoryShop()
    >>> sink = MonitoringEventSink(shop.events, attempts=shop.attempts,
    ...                            new_uow=lambda: shop.uow, clock=shop.clock)
    >>> for _ in range(5):
    ...     sink.emit("payment.declined", order_id="ord_1", user_id="usr_1", ip=None)
    >>> len(shop.events.of("alert.card_testing"))
    1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from commerce_core.domain.events import DomainEvent
from commerce_core.domain.monitoring import (
    ALERT_CARD_TESTING,
    ALERT_CREDENTIAL_STUFFING,
    ALERT_REFUND_VELOCITY,
    MonitoringPolicy,
    Threshold,
    card_testing_account_key,
    card_testing_address_key,
    credential_stuffing_key,
    credential_stuffing_pair_key,
    refund_velocity_key,
)
from commerce_core.ports import AttemptStore, Clock, EventSink, UnitOfWork
from commerce_core.use_cases._publishing import publish_committed
from commerce_core.use_cases.refunds import SYSTEM_ACTOR

__all__ = ["DEFAULT_MONITORING_POLICY", "MonitoringEventSink"]

DEFAULT_MONITORING_POLICY = MonitoringPolicy()

Fields = Mapping[str, object]
Rule = Callable[[Fields, datetime], list[DomainEvent]]


def _text(value: object) -> str | None:
    """A field the rules can key on: non-empty text (an event may carry ``None``, or anything)."""
    return value if isinstance(value, str) and value else None


class MonitoringEventSink:
    """An ``EventSink`` that passes every event to ``inner`` and raises stored alerts when the
    events it watches cross the ``policy``'s thresholds. Thread-safe: it keeps no state of its
    own; ``new_uow`` is called for each alert stored."""

    def __init__(
        self,
        inner: EventSink,
        *,
        attempts: AttemptStore,
        new_uow: Callable[[], UnitOfWork],
        clock: Clock,
        policy: MonitoringPolicy = DEFAULT_MONITORING_POLICY,
    ) -> None:
        self._inner = inner
        self._attempts = attempts
        self._new_uow = new_uow
        self._clock = clock
        self._policy = policy
        self._rules: dict[str, Rule] = {
            "auth.login_failed": self._credential_stuffing,
            "payment.declined": self._card_testing,
            "refund.requested": self._refund_velocity,
        }

    @property
    def inner(self) -> EventSink:
        return self._inner

    def emit(self, event: str, /, **fields: object) -> None:
        self._inner.emit(event, **fields)
        rule = self._rules.get(event)
        if rule is None:
            return
        try:
            alerts = rule(fields, self._clock.now())
        except Exception as error:
            # The counters are out of reach: this event goes uncounted, the request goes on.
            self._inner.emit("monitoring.failed", on_event=event, error=type(error).__name__)
            return
        for alert in alerts:
            self._raise(alert)

    # -- rules ---------------------------------------------------------------------------------

    def _credential_stuffing(self, fields: Fields, now: datetime) -> list[DomainEvent]:
        address, digest = _text(fields.get("ip")), _text(fields.get("email_digest"))
        if address is None or digest is None:
            return []
        threshold = self._policy.credential_stuffing
        seen = self._attempts.add_failure(
            credential_stuffing_pair_key(address, digest), now, threshold.window
        )
        if seen.failures != 1:
            return []  # this email already failed from here in this window: not a new one
        distinct = self._count(credential_stuffing_key(address), threshold, now)
        if distinct is None:
            return []
        return [
            DomainEvent.alert(
                ALERT_CREDENTIAL_STUFFING,
                now,
                ip=address,
                distinct_emails=distinct,
                window_seconds=threshold.window_seconds,
            )
        ]

    def _card_testing(self, fields: Fields, now: datetime) -> list[DomainEvent]:
        alerts = []
        user_id, address = _text(fields.get("user_id")), _text(fields.get("ip"))
        if user_id is not None:
            per_account = self._policy.card_testing_per_account
            declines = self._count(card_testing_account_key(user_id), per_account, now)
            if declines is not None:
                alerts.append(
                    DomainEvent.alert(
                        ALERT_CARD_TESTING,
                        now,
                        by="account",
                        user_id=user_id,
                        ip=address,
                        declines=declines,
                        window_seconds=per_account.window_seconds,
                    )
                )
        if address is not None:
            per_address = self._policy.card_testing_per_address
            declines = self._count(card_testing_address_key(address), per_address, now)
            if declines is not None:
                alerts.append(
                    DomainEvent.alert(
                        ALERT_CARD_TESTING,
                        now,
                        by="address",
                        user_id=user_id,
                        ip=address,
                        declines=declines,
                        window_seconds=per_address.window_seconds,
                    )
                )
        return alerts

    def _refund_velocity(self, fields: Fields, now: datetime) -> list[DomainEvent]:
        actor_id = _text(fields.get("actor_id"))
        if actor_id is None or actor_id == SYSTEM_ACTOR:
            return []
        threshold = self._policy.refund_velocity
        refunds = self._count(refund_velocity_key(actor_id), threshold, now)
        if refunds is None:
            return []
        return [
            DomainEvent.alert(
                ALERT_REFUND_VELOCITY,
                now,
                actor_id=actor_id,
                refunds=refunds,
                window_seconds=threshold.window_seconds,
            )
        ]

    def _count(self, key: str, threshold: Threshold, now: datetime) -> int | None:
        """Count one event under ``key``; the count if it just reached the threshold."""
        counted = self._attempts.add_failure(key, now, threshold.window).failures
        return counted if threshold.crossed_by(counted) else None

    # -- alerts --------------------------------------------------------------------------------

    def _raise(self, alert: DomainEvent) -> None:
        uow = self._new_uow()
        try:
            with uow:
                uow.announce(alert)
                uow.commit()
        except Exception as error:
            # Not stored, so staff will not find it listed; the logs (and Sentry) still must.
            self._inner.emit(
                "monitoring.alert_not_stored", alert=alert.name, error=type(error).__name__
            )
            self._inner.emit(alert.name, **alert.fields)
            return
        publish_committed(uow, self._inner, self._clock)
