"""The ports: everything the core needs from the outside world, as small ``typing.Protocol``s.

Adapters implement them (``adapters.sql``, ``adapters.payments`` ...); ``commerce_core.testing``
has an in-memory fake of each and contract suites that prove an implementation conforms.

A ``UnitOfWork`` is one database transaction per ``with`` block, re-enterable: use cases open
several short transactions so that no transaction is open while the payment gateway is called.
Leaving the block without ``commit()`` rolls back, and drops the events announced in it. Rows
are locked in one fixed order everywhere: the order row first, then product rows by ascending id.

``PaymentPorts`` and ``AccountPorts`` are the bundles use cases take as keyword arguments:
``confirm_order(command, **ports)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Protocol, Self, TypedDict

import attrs

from commerce_core.domain.accounts import Session, User
from commerce_core.domain.attributes import AttributeDefinition, AttributeValue
from commerce_core.domain.audit import AuditEntry
from commerce_core.domain.carts import Cart
from commerce_core.domain.catalog import Product
from commerce_core.domain.catalog_search import CatalogFacets, CatalogQuery
from commerce_core.domain.categories import Category
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.filters import OrderFilter, UserFilter
from commerce_core.domain.hold_limits import HeldStock
from commerce_core.domain.idempotency import IdempotencyRecord
from commerce_core.domain.images import CleanImage, ImageFormat
from commerce_core.domain.limits import RateDecision, RateLimit
from commerce_core.domain.lockout import AttemptState
from commerce_core.domain.money import Money
from commerce_core.domain.notifications import OutgoingMessage, QueuedMessage
from commerce_core.domain.orders import Order
from commerce_core.domain.password_resets import PasswordResetToken
from commerce_core.domain.payments import GatewayEvent, GatewayRefund, PaymentIntent
from commerce_core.domain.refresh_tokens import RefreshToken
from commerce_core.domain.saved_addresses import SavedAddress
from commerce_core.domain.shipping import ShippingMethod, ShippingZone
from commerce_core.domain.tax import TaxRate
from commerce_core.errors import GatewayNotConfigured

__all__ = [
    "AccountPorts",
    "AddressBook",
    "AttemptStore",
    "AttributeRepository",
    "AuditLog",
    "CartRepository",
    "CategoryRepository",
    "Clock",
    "DailySales",
    "EventBuffer",
    "EventOutbox",
    "EventSink",
    "GatewayEventParser",
    "GatewayRegistry",
    "IdempotencyRepository",
    "ImageDecoder",
    "ImageStore",
    "MessageOutbox",
    "Notifier",
    "OrderRepository",
    "PasswordHasher",
    "PasswordResetRepository",
    "PaymentGateway",
    "PaymentPorts",
    "ProcessedEventRepository",
    "ProductRepository",
    "RateLimiter",
    "RefreshTokenRepository",
    "SessionRepository",
    "ShippingRepository",
    "SignInAddressRepository",
    "TaxRateRepository",
    "UnitOfWork",
    "UserRepository",
]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class PaymentGateway(Protocol):
    """A payment provider, seen through the shop's eyes (Stripe's PaymentIntent model).

    Every call carries an idempotency key derived from our own operation ids: the same key with
    the same arguments must answer the first answer and act at most once, so a retried call
    never charges or refunds twice. A decline is not an error but an intent with
    ``decline_code`` set.

    Errors, and what the core does about each:

    - ``InvalidInput`` (field ``payment_method``): a missing or unknown payment method. The
      caller's mistake; nothing was attempted, and the shopper may try another method.
    - ``GatewayError``: the provider definitively refused and did nothing - unknown intent,
      canceled intent, a refund over what remains.
    - ``GatewayUnavailable``: the outcome is unknown or the provider cannot act for now
      (unreachable, timed out, 5xx, rate limited, "a request with this idempotency key is in
      flight"). Never report one of these as a refusal: the core treats them differently.
      ``create_intent``: the order is cancelled and its hold released; an intent the provider
      may have made is attached to nothing, so nobody can pay it. ``confirm_intent``: nothing is
      recorded and the shopper's idempotency key is freed; a retry with it repeats the call with
      the same gateway key, which cannot charge twice. ``cancel_intent``: the order keeps
      waiting and the job tries again. ``refund``: the refund stays pending with its amount
      reserved, and a retry or the reconciliation job repeats the call with the same key.
    """

    @property
    def name(self) -> str:
        """The gateway's stable name (``"stripe"``); each order stores it, and refunds,
        cancellations and webhooks for that order go to the gateway registered under it."""
        ...

    def create_intent(
        self, *, amount: Money, order_id: str, idempotency_key: str
    ) -> PaymentIntent: ...

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        """Confirm (and capture); for an intent that already succeeded, return it as it is.

        ``payment_method`` is what the provider's client step produced for how the buyer pays
        (a Stripe PaymentMethod id, a Razorpay payment id; ``None`` where the buyer approves at
        the provider, as with PayPal). ``proof`` is what that step returned to vouch for it
        (Razorpay's checkout signature): a gateway that has none ignores it, one that needs it
        refuses a missing or wrong proof as ``InvalidInput`` on ``payment_method``. An intent
        needing the buyer's action comes back ``requires_action`` with ``action``."""
        ...

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        """Cancel; for an intent that already succeeded or was canceled, return it as it is."""
        ...

    def refund(self, intent_id: str, *, amount: Money, idempotency_key: str) -> GatewayRefund: ...

    def get_intent(self, intent_id: str) -> PaymentIntent:
        """The intent as the provider sees it now (reconciliation asks when a webhook may have
        been lost). ``GatewayError`` if unknown, ``GatewayUnavailable`` if out of reach."""
        ...

    def get_refund(self, intent_id: str, refund_id: str) -> GatewayRefund:
        """The refund ``refund_id`` of ``intent_id`` as the provider sees it now (a pending
        refund's outcome). ``GatewayError`` if unknown, ``GatewayUnavailable`` if out of reach."""
        ...


class GatewayRegistry:
    """The payment gateways a shop talks to, by name. New checkouts go to ``default``; anything
    about an existing order goes to ``get(order.gateway)``, so switching the default (or running
    two gateways side by side) never sends a refund to the wrong provider.

    >>> from commerce_core.testing import FakeGateway
    >>> registry = GatewayRegistry(FakeGateway())
    >>> registry.get("fake") is registry.default
    True
    """

    def __init__(self, default: PaymentGateway, *others: PaymentGateway) -> None:
        gateways = (default, *others)
        names = [gateway.name for gateway in gateways]
        if len(set(names)) != len(names):
            raise ValueError(f"two gateways share a name: {names}")
        self._default = default
        self._by_name = dict(zip(names, gateways, strict=True))

    @property
    def default(self) -> PaymentGateway:
        return self._default

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def get(self, name: str) -> PaymentGateway:
        """The gateway called ``name``; ``GatewayNotConfigured`` if there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise GatewayNotConfigured(f"no payment gateway {name!r} is configured") from None


class GatewayEventParser(Protocol):
    def parse_event(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Verify the signature over the raw body and translate; ``InvalidWebhook`` if either fails."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class EventSink(Protocol):
    """Where business and security events go (logs, metrics, monitoring, alert rules).

    Use cases hand it the events their committed transactions announced (``UnitOfWork``), and
    emit directly only what is true whatever the database says (a failed login attempt, a
    gateway call that failed). It must never raise on odd field values, and must never record a
    field that names a secret (password, token, secret, card number) in clear."""

    def emit(self, event: str, /, **fields: object) -> None: ...


class ProductRepository(Protocol):
    """Products with their variants: every read answers whole aggregates.

    SKUs are unique across the catalogue: ``add`` or ``save`` of a variant whose SKU another
    product's variant has raises ``Conflict`` (as a taken slug does)."""

    def add(self, product: Product) -> None: ...

    def get(self, product_id: str) -> Product | None: ...

    def get_by_slug(self, slug: str) -> Product | None: ...

    def get_by_sku(self, sku: str) -> Product | None:
        """The product one of whose variants has ``sku``."""
        ...

    def owners(self, variant_ids: Iterable[str]) -> dict[str, str]:
        """Variant id -> its product's id, for those that exist (a variant never moves)."""
        ...

    def lock(self, product_ids: Iterable[str]) -> dict[str, Product]:
        """Load and lock these products, their variants with them (ascending id). Unknown ids
        are simply absent. Whatever changes a variant locks its product first."""
        ...

    def save(self, product: Product) -> None:
        """Write back what changed: the product's fields, its changed variants, new ones."""
        ...

    def list_for_staff(self, offset: int, limit: int) -> tuple[list[Product], int]:
        """Every product, archived ones too, by name then id; and how many there are."""
        ...

    def search(self, where: CatalogQuery, offset: int, limit: int) -> tuple[list[Product], int]:
        """The products matching ``where`` (``CatalogQuery.matches``), in its order
        (``CatalogQuery.sort_key``); and how many match."""
        ...

    def facets(self, where: CatalogQuery) -> CatalogFacets:
        """How many products matching ``where`` fall in each price range, category and value
        of a filterable attribute."""
        ...


class ImageDecoder(Protocol):
    """Reads an uploaded image in full and writes it again, keeping only the pixels.

    ``clean`` decodes every byte of ``data`` (a truncated or corrupt image fails here, not in
    a shopper's browser) and encodes the pixels anew in the same format, so no metadata (EXIF,
    GPS position, comments, embedded profiles or thumbnails) survives. It raises
    ``UnsupportedImageFormat`` for an image in a format the shop does not take, or not the
    one ``expected``; ``ImageTooLarge`` for more than ``MAX_IMAGE_PIXELS`` (checked from the
    header, before decoding: a decompression bomb is never inflated); ``InvalidImage`` for
    anything else that is not one whole image."""

    def clean(self, data: bytes, expected: ImageFormat) -> CleanImage: ...


class ImageStore(Protocol):
    """Where product images are kept (a directory, an object store), by content hash.

    ``put`` stores ``data`` under ``image_key(data, image_format)`` and returns that key;
    storing the same bytes again stores nothing new. A stored key never changes content, so
    its URL may be cached forever. ``get`` answers ``None`` for any name that is not a stored
    key (a path, another pattern) - never a file outside the store."""

    def put(self, data: bytes, image_format: ImageFormat) -> str: ...

    def get(self, key: str) -> bytes | None: ...

    def url(self, key: str) -> str:
        """Where browsers fetch the image stored under ``key`` (``/media/<key>``, a CDN URL)."""
        ...


@attrs.frozen
class DailySales:
    """What ``OrderRepository.paid_by_day`` answers for one UTC day and one currency: how many
    orders were paid that day and the money captured for them (minor units)."""

    day: date
    currency: str
    orders: int
    amount: int


class OrderRepository(Protocol):
    def add(self, order: Order) -> None: ...

    def get(self, order_id: str, *, for_update: bool = False) -> Order | None: ...

    def get_by_intent(self, intent_id: str, *, for_update: bool = False) -> Order | None: ...

    def save(self, order: Order) -> None:
        """Write back status, stock state, intent, capture and refunds. The intent id is unique:
        attaching one intent to two orders raises ``Conflict``."""
        ...

    def list_for_user(self, user_id: str, offset: int, limit: int) -> tuple[list[Order], int]: ...

    def list_all(self, offset: int, limit: int) -> tuple[list[Order], int]: ...

    def search(self, where: OrderFilter, offset: int, limit: int) -> tuple[list[Order], int]:
        """Orders ``where`` matches (``OrderFilter.matches``), newest first; and how many."""
        ...

    def held_unpaid(self, *, user_id: str | None = None, client_ip: str | None = None) -> HeldStock:
        """Unpaid orders still holding stock - of one user, or from one client address - and
        the units they hold (the caps on hoarding)."""
        ...

    def expired_holds(self, now: datetime, limit: int) -> list[str]:
        """Ids of orders awaiting payment whose hold expired before ``now``, oldest first."""
        ...

    def owing_gateway_work(self, limit: int) -> list[str]:
        """Ids of orders that still owe their gateway a call (``Order.owes_gateway_work``): an
        intent to cancel, or a pending refund without the gateway's refund id."""
        ...

    def paid_by_day(self, paid_from: datetime, paid_to: datetime) -> list[DailySales]:
        """Orders sold (``OrderStatus.is_paid``) with ``paid_from <= paid_at < paid_to``,
        grouped by the UTC day of ``paid_at`` and currency, each with its count and the sum of
        its captures; by day, then currency. Days without a sale are absent."""
        ...

    def awaiting_gateway_word(self, placed_before: datetime, limit: int) -> list[str]:
        """Ids of orders the gateway has yet to tell about, oldest first: awaiting payment with
        an intent, placed before ``placed_before``; or with a refund the gateway said was
        pending (it has the gateway's id, its outcome comes later)."""
        ...


class IdempotencyRepository(Protocol):
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Insert ``record`` unless (user_id, scope, key) exists; return the existing one if so."""
        ...

    def get(
        self, user_id: str, scope: str, key: str, *, for_update: bool = False
    ) -> IdempotencyRecord | None: ...

    def save(self, record: IdempotencyRecord) -> None: ...

    def delete(self, record: IdempotencyRecord) -> None: ...

    def purge_older_than(self, cutoff: datetime) -> int: ...


class ProcessedEventRepository(Protocol):
    def record(self, event: GatewayEvent, received_at: datetime) -> bool:
        """Remember the event id; ``False`` if it was seen before (a duplicate delivery)."""
        ...


class EventOutbox(Protocol):
    """Durable domain events (alerts, refunds owed, security events), stored in the transaction
    that announced them and marked once they reached the ``EventSink``."""

    def add(self, event: DomainEvent) -> None:
        """Store ``event`` in the current transaction, unpublished."""
        ...

    def unpublished(self, before: datetime, limit: int) -> list[DomainEvent]:
        """Stored events not yet marked published that occurred before ``before``, oldest first."""
        ...

    def mark_published(self, event_ids: Sequence[str], at: datetime) -> None: ...

    def alerts(self, offset: int, limit: int) -> tuple[list[DomainEvent], int]:
        """Stored alerts (``alert.*``), newest first, and how many there are."""
        ...


class Notifier(Protocol):
    """Sends one message to one person (an SMTP server, a console, an email API).

    ``send`` returns once the message was handed over; it raises ``NotificationFailed`` when it
    could not be for now (unreachable, timed out, a temporary refusal: the outbox tries again
    later) and ``NotificationRejected`` when it never will be (the server refused the
    recipient for good). ``message.id`` is stable across retries; an adapter whose transport
    can deduplicate should pass it on (an SMTP adapter makes it the ``Message-ID``)."""

    def send(self, message: OutgoingMessage) -> None: ...


class MessageOutbox(Protocol):
    """Messages waiting to be sent, stored in the transaction of the change that causes them
    (``commerce_core.domain.notifications``). Claiming is one conditional update, so of two
    senders (processes, hosts) only one holds a message at a time."""

    def add(self, message: OutgoingMessage, now: datetime) -> bool:
        """Queue ``message`` in the current transaction, due at once; ``False`` (and nothing
        changed) if a message with its id was queued before."""
        ...

    def get(self, message_id: str) -> QueuedMessage | None: ...

    def due(self, now: datetime, limit: int) -> list[QueuedMessage]:
        """Pending messages due at ``now`` and not held by a sender, oldest first."""
        ...

    def claim(self, message_id: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take the message for ``holder`` until ``until`` (counting an attempt) if it is
        still pending, due and unclaimed (or its claim ran out) at ``now``."""
        ...

    def mark_sent(self, message_id: str, at: datetime, *, forget_body: bool) -> None:
        """Sent: never offered again. ``forget_body`` blanks its bodies (a reset link)."""
        ...

    def mark_failed(
        self, message_id: str, holder: str, *, retry_at: datetime | None, error: str
    ) -> None:
        """``holder``'s attempt failed: due again at ``retry_at``, or given up if ``None``.
        A no-op if ``holder`` no longer holds the message."""
        ...


class PasswordResetRepository(Protocol):
    def add(self, token: PasswordResetToken) -> None: ...

    def get(self, token_hash: str) -> PasswordResetToken | None: ...

    def use(self, token_hash: str, now: datetime) -> bool:
        """Mark the token used at ``now`` if it is unused and unexpired: one conditional update,
        so of two concurrent uses exactly one returns ``True``."""
        ...

    def supersede_for_user(self, user_id: str, now: datetime) -> int:
        """Mark every unused token of the user used (a newer one replaces them); how many."""
        ...


class SignInAddressRepository(Protocol):
    """The addresses (as ``sign_in_address_digest``) each account signed in from."""

    def remember(self, user_id: str, digest: str, now: datetime) -> bool:
        """Note the address; ``True`` if the account had not used it before."""
        ...

    def knows_any(self, user_id: str) -> bool: ...


class UserRepository(Protocol):
    def add(self, user: User) -> None:
        """Raises ``EmailAlreadyRegistered`` if the email is taken."""
        ...

    def get(self, user_id: str) -> User | None: ...

    def get_by_email(self, email: str) -> User | None: ...

    def save(self, user: User) -> None: ...

    def lock(self, user_id: str) -> None:
        """Lock the user's row until the transaction ends: serialises one user's checkouts, so
        two at once cannot both pass the cap on unpaid holds."""
        ...

    def count_active_admins(self) -> int:
        """How many active accounts have the admin role (the last one is never demoted)."""
        ...

    def search(self, where: UserFilter, offset: int, limit: int) -> tuple[list[User], int]:
        """Accounts ``where`` matches (``UserFilter.matches``), newest first; and how many."""
        ...


class SessionRepository(Protocol):
    def add(self, session: Session) -> None: ...

    def get(self, token_hash: str) -> Session | None: ...

    def get_with_user(self, token_hash: str) -> tuple[Session, User] | None:
        """The session and its user in one read (every signed-in request makes it); ``None``
        if either is missing - a session whose user is gone is as good as none."""
        ...

    def save(self, session: Session) -> None: ...

    def delete(self, token_hash: str) -> None: ...

    def delete_for_user(self, user_id: str) -> int: ...

    def delete_family(self, family_id: str) -> int:
        """End every session a refresh-token family started (the family was revoked)."""
        ...


class RefreshTokenRepository(Protocol):
    def add(self, token: RefreshToken) -> None: ...

    def get(self, token_hash: str) -> RefreshToken | None: ...

    def rotate(self, token_hash: str, now: datetime) -> bool:
        """Mark the token rotated at ``now`` unless it already is or was revoked: one
        conditional update, so of two concurrent rotations exactly one returns ``True``."""
        ...

    def revoke_family(self, family_id: str, now: datetime) -> int: ...

    def revoke_for_user(self, user_id: str, now: datetime) -> int: ...

    def delete_expired(self, now: datetime) -> int:
        """Forget families past their absolute expiry (nothing can use them)."""
        ...


class AttemptStore(Protocol):
    """Login-failure counters shared by every instance of the shop (SQL or Redis): not part of
    a unit of work, each call atomic on its own, so concurrent failures are all counted."""

    def get(self, key: str) -> AttemptState: ...

    def add_failure(self, key: str, now: datetime, window: timedelta) -> AttemptState:
        """Count one failure. If the key's window ended (or there is none), a new one starts at
        ``now`` with this failure as its first. The state after counting."""
        ...

    def lock(self, key: str, until: datetime, now: datetime, *, extend: bool) -> AttemptState:
        """Lock ``key`` until ``until``, count the lock, and start the failures afresh. Unless
        ``extend``, a lock still in force at ``now`` is left as it is (and not counted again)."""
        ...

    def clear(self, key: str) -> None: ...

    def clear_prefix(self, prefix: str) -> int:
        """Clear every key starting with ``prefix``; how many there were."""
        ...


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> AuditEntry:
        """Seal ``entry`` onto the chain (under a lock, so it never forks) and store it."""
        ...

    def list(self, offset: int, limit: int) -> tuple[list[AuditEntry], int]: ...

    def all(self) -> Sequence[AuditEntry]: ...

    def for_target(self, target: str) -> Sequence[AuditEntry]:
        """The entries about ``target`` (``order:<id>``, ``user:<id>`` ...), oldest first."""
        ...


class AddressBook(Protocol):
    """The addresses shoppers keep on their accounts (a handful each)."""

    def list_for_user(self, user_id: str) -> list[SavedAddress]:
        """The user's addresses, oldest first (by ``created_at``, then id)."""
        ...

    def add(self, address: SavedAddress) -> None: ...

    def delete(self, user_id: str, address_id: str) -> bool:
        """Remove the address if it is this user's; whether it was."""
        ...

    def count_for_user(self, user_id: str) -> int: ...


class CartRepository(Protocol):
    """Shoppers' carts with their lines: every read answers the whole cart. An account has at
    most one cart: ``add`` of a second one for the same user raises ``Conflict``."""

    def get(self, cart_id: str, *, for_update: bool = False) -> Cart | None: ...

    def get_for_user(self, user_id: str, *, for_update: bool = False) -> Cart | None: ...

    def add(self, cart: Cart) -> None: ...

    def save(self, cart: Cart) -> None:
        """Write back its owner, lines (in their order), order link and ``updated_at``."""
        ...

    def delete(self, cart_id: str) -> bool: ...

    def purge_untouched(self, before: datetime) -> int:
        """Delete every cart not changed since ``before`` (``updated_at``); how many."""
        ...


class ShippingRepository(Protocol):
    """The shop's shipping zones and methods: a handful of rows, read whole."""

    def zones(self) -> list[ShippingZone]:
        """Every zone, by id."""
        ...

    def methods(self) -> list[ShippingMethod]:
        """Every method, active or not, by id."""
        ...

    def save_zone(self, zone: ShippingZone) -> None:
        """Add the zone, or replace the one with its id."""
        ...

    def delete_zone(self, zone_id: str) -> bool:
        """Remove the zone (its methods first); whether it existed."""
        ...

    def save_method(self, method: ShippingMethod) -> None:
        """Add the method, or replace the one with its id."""
        ...

    def delete_method(self, method_id: str) -> bool: ...


class TaxRateRepository(Protocol):
    def list(self) -> list[TaxRate]:
        """Every rate, by country then region."""
        ...

    def save(self, rate: TaxRate) -> None:
        """Add the rate, or replace the one for its (country, region)."""
        ...

    def delete(self, country: str, region: str) -> bool: ...


class CategoryRepository(Protocol):
    """The category tree (a few hundred rows at most, read whole) and which products are in
    which categories."""

    def all(self) -> list[Category]:
        """Every category, ordered by position, name and id (``Category.sort_key``)."""
        ...

    def get_by_slug(self, slug: str) -> Category | None: ...

    def save(self, category: Category) -> None:
        """Add the category, or replace the one with its id. A slug another category has, or a
        parent that does not exist, is a ``Conflict``."""
        ...

    def delete(self, category_id: str) -> bool:
        """Remove the category and its products' memberships of it; whether it existed.
        ``Conflict`` while it has sub-categories."""
        ...

    def set_product_categories(self, product_id: str, category_ids: Iterable[str]) -> None:
        """Make these the product's categories (replacing its others). An unknown category or
        product is a ``Conflict``."""
        ...

    def categories_of(self, product_ids: Iterable[str]) -> dict[str, list[str]]:
        """Product id -> the ids of its categories (sorted); products in none are absent."""
        ...

    def product_ids_in(self, category_ids: Iterable[str]) -> set[str]:
        """The products in any of these categories (exactly these: expand a filter with
        ``descendant_ids`` first)."""
        ...


class AttributeRepository(Protocol):
    """The attributes staff define and the values products have."""

    def definitions(self) -> list[AttributeDefinition]:
        """Every definition, by code."""
        ...

    def save_definition(self, definition: AttributeDefinition) -> None:
        """Add the definition, or replace the one with its code."""
        ...

    def delete_definition(self, code: str) -> bool:
        """Remove the definition and every product's value of it; whether it existed."""
        ...

    def values_of(self, product_ids: Iterable[str]) -> dict[str, dict[str, AttributeValue]]:
        """Product id -> its values by attribute code; products without values are absent."""
        ...

    def set_values(self, product_id: str, values: Mapping[str, AttributeValue]) -> None:
        """Make these the product's values (by code, replacing its others). A value of an
        unknown attribute, or for an unknown product, is a ``Conflict``."""
        ...

    def value_counts(self, code: str) -> dict[str, int]:
        """How many products have each value (``AttributeValue.text``) of attribute ``code``."""
        ...


class UnitOfWork(Protocol):
    # Read-only properties, so an implementation may hand out its own repository types.
    @property
    def products(self) -> ProductRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def processed_events(self) -> ProcessedEventRepository: ...
    @property
    def outbox(self) -> EventOutbox: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def messages(self) -> MessageOutbox: ...
    @property
    def password_resets(self) -> PasswordResetRepository: ...
    @property
    def sign_in_addresses(self) -> SignInAddressRepository: ...
    @property
    def shipping(self) -> ShippingRepository: ...
    @property
    def tax_rates(self) -> TaxRateRepository: ...
    @property
    def addresses(self) -> AddressBook: ...
    @property
    def categories(self) -> CategoryRepository: ...
    @property
    def attributes(self) -> AttributeRepository: ...
    @property
    def carts(self) -> CartRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def announce(self, event: DomainEvent) -> None:
        """Publish ``event`` if and when this transaction commits.

        It is held until ``commit()`` and then handed out by ``collect_new_events``; a rollback
        (or leaving the block without commit) drops it. A durable event is also added to
        ``outbox`` in this transaction, so it is stored exactly when the change it reports is."""
        ...

    def collect_new_events(self) -> list[DomainEvent]:
        """The events of committed transactions not collected before, in announcement order."""
        ...


class RateLimiter(Protocol):
    """Counters of requests per moving window, shared by every process of the shop (Redis) or
    kept by one (memory). Keys are opaque to the core - a client address, an account id, an
    email - and a limiter keeps each ``RateLimit``'s counters apart from every other's.

    A limiter answers, it never raises: when its shared store is out of reach it goes on
    counting on its own (per process) rather than failing the request or letting it through
    unlimited. A refused hit is not counted, so waiting ``reset_after`` is always enough.
    """

    def hit(self, limit: RateLimit, key: str) -> RateDecision:
        """Count one request for ``key`` if ``limit`` has room for it; the decision after."""
        ...

    def peek(self, limit: RateLimit, key: str) -> RateDecision:
        """What ``hit`` would answer now, counting nothing (``allowed``: a hit would pass)."""
        ...


class EventBuffer:
    """The announce-until-commit bookkeeping every ``UnitOfWork`` needs, for implementations to
    use: ``announce`` (a durable event also goes to ``outbox``), ``committed`` at commit,
    ``dropped`` at rollback or at the end of a block, ``collect``."""

    def __init__(self) -> None:
        self._announced: list[DomainEvent] = []
        self._committed: list[DomainEvent] = []

    def announce(self, event: DomainEvent, outbox: EventOutbox) -> None:
        if event.durable:
            outbox.add(event)
        self._announced.append(event)

    def committed(self) -> None:
        self._committed.extend(self._announced)
        self._announced = []

    def dropped(self) -> None:
        self._announced = []

    def collect(self) -> list[DomainEvent]:
        collected, self._committed = self._committed, []
        return collected


class PaymentPorts(TypedDict):
    """What the checkout, settlement, refund, webhook and job use cases take."""

    uow: UnitOfWork
    gateways: GatewayRegistry
    clock: Clock
    events: EventSink


class AccountPorts(TypedDict):
    """What the registration, login, session and staff-account use cases take."""

    uow: UnitOfWork
    hasher: PasswordHasher
    clock: Clock
    events: EventSink
    attempts: AttemptStore
