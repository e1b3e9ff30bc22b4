"""``GatewayEventParserContract``: what every ``GatewayEventParser`` (webhook verifier) does.

A signed event is the gateway's word, so the parser is the shop's last line of defence: it must
refuse every body whose signature does not hold, and translate every event the core acts on
faithfully - kind, intent, amount in minor units, the refund it is about - whatever the
provider's wire format. An adapter's test provides the fixture ``parser`` and three hooks::

    class TestMyParser(GatewayEventParserContract):
        gateway_name = "mygateway"

        @pytest.fixture
        def parser(self) -> MyGateway: ...

        def event_body(self, spec: EventSpec) -> bytes:
            ...  # the provider's JSON for the event ``spec`` describes

        def ignored_event_body(self) -> bytes:
            ...  # a well-formed event of a type the shop does not act on

        def signed(self, body: bytes) -> dict[str, str]:
            ...  # the headers the provider would send with ``body``
"""

from __future__ import annotations

import attrs

from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.payments import EventKind, GatewayEvent
from commerce_core.errors import InvalidWebhook
from commerce_core.ports import GatewayEventParser
from commerce_core.testing.contracts._support import raises

__all__ = ["EventSpec", "GatewayEventParserContract"]


@attrs.frozen
class EventSpec:
    """An event in the shop's terms, for ``event_body`` to write in the provider's format."""

    kind: EventKind
    intent_id: str
    amount: Money
    event_id: str = attrs.field(factory=lambda: new_id("evt"))
    refund_id: str | None = None
    # The Idempotency-Key of our refund request, where the provider echoes it back.
    refund_key: str | None = None
    decline_code: str | None = None


ACTED_ON = (
    EventKind.PAYMENT_SUCCEEDED,
    EventKind.PAYMENT_FAILED,
    EventKind.PAYMENT_CANCELED,
    EventKind.REFUND_SUCCEEDED,
    EventKind.REFUND_FAILED,
)
_REFUNDS = (EventKind.REFUND_SUCCEEDED, EventKind.REFUND_FAILED)


class GatewayEventParserContract:
    """Every ``GatewayEventParser`` behaves like this."""

    gateway_name = ""
    # Amounts of currencies with 2, 0 and 3 minor digits (a provider may not take them all:
    # an adapter's test narrows the list to what its provider supports).
    amounts: tuple[Money, ...] = (Money(4200, "EUR"), Money(4200, "JPY"), Money(4250, "KWD"))

    # -- what an adapter's test provides ---------------------------------------------------

    def event_body(self, spec: EventSpec) -> bytes:
        raise NotImplementedError("write the provider's event body for spec")

    def ignored_event_body(self) -> bytes:
        raise NotImplementedError("write an event of a type the shop does not act on")

    def signed(self, body: bytes) -> dict[str, str]:
        raise NotImplementedError("sign body as the provider would")

    # -- helpers ---------------------------------------------------------------------------

    def _spec(self, kind: EventKind, amount: Money | None = None) -> EventSpec:
        refund = kind in _REFUNDS
        return EventSpec(
            kind=kind,
            intent_id=f"pi_{new_id('x')[-16:]}",
            amount=amount or self.amounts[0],
            refund_id=f"re_{new_id('x')[-16:]}" if refund else None,
            refund_key=f"refund-{new_id('re')}" if refund else None,
            decline_code="card_declined" if kind is EventKind.PAYMENT_FAILED else None,
        )

    def _parse(self, parser: GatewayEventParser, spec: EventSpec) -> GatewayEvent:
        body = self.event_body(spec)
        return parser.parse_event(body, self.signed(body))

    # -- what the core acts on reads back as sent --------------------------------------------

    def test_every_event_the_shop_acts_on_reads_back_as_sent(
        self, parser: GatewayEventParser
    ) -> None:
        for kind in ACTED_ON:
            spec = self._spec(kind)
            event = self._parse(parser, spec)
            assert event.kind is kind, (kind, event)
            assert event.id
            assert event.gateway == self.gateway_name
            assert event.intent_id == spec.intent_id
            assert event.amount == spec.amount
            if kind in _REFUNDS:
                # The core finds the refund by the gateway's id or by our request's key.
                assert event.refund_id == spec.refund_id
                assert event.refund_key in (None, spec.refund_key)
            if kind is EventKind.PAYMENT_FAILED:
                assert event.decline_code in (None, spec.decline_code)

    def test_amounts_read_back_in_minor_units_of_their_currency(
        self, parser: GatewayEventParser
    ) -> None:
        for amount in self.amounts:
            spec = self._spec(EventKind.PAYMENT_SUCCEEDED, amount)
            assert self._parse(parser, spec).amount == amount

    def test_one_delivery_keeps_its_event_id_and_two_events_differ(
        self, parser: GatewayEventParser
    ) -> None:
        spec = self._spec(EventKind.PAYMENT_SUCCEEDED)
        body = self.event_body(spec)
        first = parser.parse_event(body, self.signed(body))
        redelivered = parser.parse_event(body, self.signed(body))
        other = self._parse(parser, self._spec(EventKind.PAYMENT_SUCCEEDED))
        assert first.id == redelivered.id
        assert first.id != other.id

    def test_an_event_the_shop_does_not_act_on_is_acknowledged_not_refused(
        self, parser: GatewayEventParser
    ) -> None:
        body = self.ignored_event_body()
        assert parser.parse_event(body, self.signed(body)).kind is EventKind.IGNORED

    def test_header_names_are_read_in_any_case(self, parser: GatewayEventParser) -> None:
        spec = self._spec(EventKind.PAYMENT_SUCCEEDED)
        body = self.event_body(spec)
        for spell in (str.lower, str.upper, str.title):
            headers = {spell(name): value for name, value in self.signed(body).items()}
            assert parser.parse_event(body, headers).intent_id == spec.intent_id

    # -- everything else is refused ----------------------------------------------------------

    def test_a_body_without_its_signature_is_refused(self, parser: GatewayEventParser) -> None:
        body = self.event_body(self._spec(EventKind.PAYMENT_SUCCEEDED))
        raises(InvalidWebhook, lambda: parser.parse_event(body, {}))

    def test_a_tampered_body_is_refused(self, parser: GatewayEventParser) -> None:
        spec = self._spec(EventKind.PAYMENT_SUCCEEDED)
        body = self.event_body(spec)
        headers = self.signed(body)
        cheaper = self.event_body(attrs.evolve(spec, amount=Money(1, spec.amount.currency)))
        raises(InvalidWebhook, lambda: parser.parse_event(cheaper, headers))
        raises(InvalidWebhook, lambda: parser.parse_event(body + b" ", headers))

    def test_a_signature_of_another_body_is_refused(self, parser: GatewayEventParser) -> None:
        body = self.event_body(self._spec(EventKind.PAYMENT_SUCCEEDED))
        other = self.event_body(self._spec(EventKind.PAYMENT_FAILED))
        raises(InvalidWebhook, lambda: parser.parse_event(body, self.signed(other)))

    def test_a_signed_body_that_is_no_event_is_refused_not_a_crash(
        self, parser: GatewayEventParser
    ) -> None:
        for body in (b"", b"not json", b"[]", b"{}", b'{"id": 1}', b"\xff\xfe{"):
            headers = self.signed(body)

            def parse(body: bytes = body, headers: dict[str, str] = headers) -> GatewayEvent:
                return parser.parse_event(body, headers)

            raises(InvalidWebhook, parse)
