"""The shop's tables, declared with SQLAlchemy Core on the one shared ``metadata``.

Core tables, not ORM classes: the domain's attrs classes stay free of SQLAlchemy, and the
repositories map rows to domain objects by hand. The database enforces the invariants that must
hold whatever code runs against it - stock never negative, one order per payment intent, one
refund per gateway refund id, one idempotency record per (user, scope, key), one processed row
per gateway event, and an audit chain that cannot fork (each hash has at most one successor) -
so a bug or a race elsewhere fails loudly instead of overselling or double-charging.

Money is two columns, an integer amount of minor units (BIGINT) and an ISO 4217 code; enums are
stored as their ``.value``. Every timestamp is ``UtcDateTime`` (aware UTC on both databases).
Adding a table means adding a migration in ``adapters/sql/migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from adapters.sql.column_types import UtcDateTime
from adapters.sql.metadata import metadata
from commerce_core import MessageStatus, OrderStatus, RefundStatus, StockState

__all__ = [
    "attribute_definitions",
    "audit_log",
    "cart_lines",
    "carts",
    "categories",
    "event_outbox",
    "idempotency_records",
    "job_leases",
    "login_attempts",
    "order_lines",
    "orders",
    "outgoing_messages",
    "password_reset_tokens",
    "processed_events",
    "product_attribute_values",
    "product_categories",
    "product_variants",
    "products",
    "refresh_tokens",
    "refunds",
    "saved_addresses",
    "sessions",
    "shipping_methods",
    "shipping_zones",
    "sign_in_addresses",
    "tax_rates",
    "users",
]

ID = 64  # our ids are "<prefix>_" + 32 hex digits
EXTERNAL_ID = 255  # ids minted by a payment gateway: we do not control their length


def _one_of(column: str, values: list[str]) -> str:
    """A CHECK that ``column`` holds one of the enum's values (no free-form states in the DB)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")
# Python ``None`` is stored as SQL NULL rather than the JSON text 'null'.
_JSON = JSON(none_as_null=True)

products = Table(
    "products",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    # The lowest price of its variants on sale, kept here (written with the variants, which
    # only staff change) so that the listing sorts and filters by price from an index.
    Column("price_amount", BigInteger, nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("image_url", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Archived products are kept (orders refer to them) but neither listed nor sold.
    Column("archived", Boolean, nullable=False, server_default=false()),
    # The names of the options its variants differ by, in order (a JSON list; [] for none).
    Column("option_names", _JSON, nullable=False),
    CheckConstraint("price_amount > 0", name="price_positive"),
    # The catalogue search: GIN trigram indexes serve ILIKE '%...%' on PostgreSQL (plain
    # indexes on SQLite, which scans), and price order and ranges.
    Index(
        "ix_products_name_trgm",
        "name",
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    ),
    Index(
        "ix_products_description_trgm",
        "description",
        postgresql_using="gin",
        postgresql_ops={"description": "gin_trgm_ops"},
    ),
    Index("ix_products_price_amount", "price_amount"),
)

# What is sold: a product's variants (a product without options has one). Stock lives here;
# the product's row lock guards its variants' rows.
product_variants = Table(
    "product_variants",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("product_id", String(ID), ForeignKey("products.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("sku", String(64), nullable=False, unique=True),
    # {"size": "M", "colour": "blue"} in the product's option order; {} for none.
    Column("options", _JSON, nullable=False),
    Column("price_amount", BigInteger, nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("stock", Integer, nullable=False),
    Column("weight_grams", Integer, nullable=True),
    Column("image_url", Text, nullable=False, default=""),
    Column("archived", Boolean, nullable=False, server_default=false()),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("stock >= 0", name="variant_stock_not_negative"),
    CheckConstraint("price_amount > 0", name="variant_price_positive"),
    UniqueConstraint("product_id", "position", name="uq_product_variants_position"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("user_id", String(ID), nullable=False),
    Column("status", String(32), nullable=False),
    Column("stock_state", String(16), nullable=False),
    Column("gateway", String(32), nullable=False),
    # One order per payment intent, as a constraint rather than a lock plus a lookup.
    Column("intent_id", String(EXTERNAL_ID), nullable=True, unique=True),
    Column("currency", CHAR(3), nullable=False),
    Column("total_amount", BigInteger, nullable=False),
    Column("captured_amount", BigInteger, nullable=True),
    Column("paid_at", UtcDateTime, nullable=True),
    Column("failure_code", String(255), nullable=True),
    Column("hold_expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The order ended unpaid while its gateway intent could still be paid: cancel it there.
    Column("intent_to_cancel", Boolean, nullable=False, server_default=false()),
    # A chargeback is open on its payment.
    Column("disputed", Boolean, nullable=False, server_default=false()),
    # Where the checkout came from (the per-address cap on unpaid holds).
    Column("client_ip", String(64), nullable=True),
    # Where and how it ships (NULL: nothing to ship), and its tax, fixed at placing.
    Column("shipping_address", _JSON, nullable=True),
    Column("shipping_method_id", String(64), nullable=True),
    Column("shipping_method_name", String(100), nullable=True),
    Column("shipping_amount", BigInteger, nullable=False, server_default=text("0")),
    Column("shipping_taxable", Boolean, nullable=False, server_default=false()),
    Column("tax_amount", BigInteger, nullable=False, server_default=text("0")),
    Column("tax_lines", _JSON, nullable=True),
    Column("prices_include_tax", Boolean, nullable=False, server_default=false()),
    # Shipped: the carrier and the tracking number the shopper sees.
    Column("fulfilment_carrier", String(100), nullable=True),
    Column("fulfilment_tracking", String(100), nullable=True),
    Column("fulfilled_at", UtcDateTime, nullable=True),
    CheckConstraint(_one_of("status", [s.value for s in OrderStatus]), name="status_known"),
    CheckConstraint(
        _one_of("stock_state", [s.value for s in StockState]), name="stock_state_known"
    ),
    CheckConstraint("total_amount >= 0", name="total_not_negative"),
    CheckConstraint("shipping_amount >= 0 AND tax_amount >= 0", name="charges_not_negative"),
    CheckConstraint("captured_amount >= 0", name="captured_not_negative"),
    # A shopper's order history, newest first.
    Index("ix_orders_user_id_created_at", "user_id", "created_at"),
    # The staff's list of all orders, newest first.
    Index("ix_orders_created_at", "created_at"),
    # The per-address cap on unpaid holds: one address's orders by status.
    Index("ix_orders_client_ip_status", "client_ip", "status"),
    # The hold-expiry sweep: awaiting_payment orders by hold_expires_at.
    Index("ix_orders_status_hold_expires_at", "status", "hold_expires_at"),
    # The console's sales per day: the orders paid in a window (unpaid ones have no paid_at).
    Index("ix_orders_paid_at", "paid_at"),
    # The reconciliation job's intents to cancel: a handful among all orders.
    Index(
        "ix_orders_intent_to_cancel",
        "intent_to_cancel",
        postgresql_where=text("intent_to_cancel"),
        sqlite_where=text("intent_to_cancel"),
    ),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(ID), ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("line_no", Integer, nullable=False),
    # A snapshot, deliberately without a foreign key: the order outlives the catalog entry.
    Column("product_id", String(ID), nullable=False),
    Column("slug", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("unit_price_amount", BigInteger, nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("quantity", Integer, nullable=False),
    # The variant sold, its SKU and option values then ({} for none).
    Column("variant_id", String(ID), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("options", _JSON, nullable=False),
    PrimaryKeyConstraint("order_id", "line_no"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("unit_price_amount >= 0", name="unit_price_not_negative"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column(
        "order_id",
        String(ID),
        ForeignKey("orders.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # Where the refund sits in ``Order.refunds``, so the list reads back in request order even
    # when two refunds share a timestamp.
    Column("position", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    # The gateway's refund id is unique: a refund event can never be applied to two refunds.
    Column("gateway_refund_id", String(EXTERNAL_ID), nullable=True, unique=True),
    Column("requested_by", String(ID), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Made outside the shop (the provider's dashboard), learnt from its webhook.
    Column("external", Boolean, nullable=False, server_default=false()),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint(_one_of("status", [s.value for s in RefundStatus]), name="status_known"),
    # The reconciliation job's refunds whose outcome the gateway has not told.
    Index(
        "ix_refunds_pending",
        "order_id",
        postgresql_where=text("status = 'pending' AND gateway_refund_id IS NULL"),
        sqlite_where=text("status = 'pending' AND gateway_refund_id IS NULL"),
    ),
)

idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("user_id", String(ID), nullable=False),
    Column("scope", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("outcome", String(64), nullable=True),
    Column("response", _JSON, nullable=True),
    Column("resource_id", String(ID), nullable=True),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("locked_at", UtcDateTime, nullable=False),
    # Concurrent duplicates of one request: the second INSERT conflicts, only one acts.
    PrimaryKeyConstraint("user_id", "scope", "key"),
)

processed_events = Table(
    "processed_events",
    metadata,
    # Event ids are unique per gateway, not across gateways.
    Column("gateway", String(32), nullable=False),
    Column("event_id", String(EXTERNAL_ID), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("intent_id", String(EXTERNAL_ID), nullable=True),
    Column("received_at", UtcDateTime, nullable=False, index=True),
    PrimaryKeyConstraint("gateway", "event_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(ID), primary_key=True),
    # Stored normalised (trimmed, lower-case) by the core, so plain uniqueness is enough.
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(ID), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("family_id", String(ID), nullable=True, index=True),
)

# Refresh tokens by the SHA-256 of the token (never the token). A family is one login's chain
# of rotations; revoking it is one UPDATE by family_id.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family_id", String(ID), nullable=False, index=True),
    Column("user_id", String(ID), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
    Column("rotated_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

# Login-failure counters when no Redis is configured (the AttemptStore's SQL adapter). Keys are
# made by the core's lockout policy and carry a hash of the email, not the email.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started_at", UtcDateTime, nullable=True),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("lockouts", Integer, nullable=False),
    # For purging counters nobody touched for a long time.
    Column("updated_at", UtcDateTime, nullable=False, index=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", _SEQUENCE, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("at", UtcDateTime, nullable=False),
    # Free text without a length limit: an audit append runs inside money-moving transactions
    # (a refund's), and an unexpectedly long actor, target or forwarded-for address must never
    # be what makes one fail.
    Column("actor", Text, nullable=True),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("ip", Text, nullable=True),
    Column("details", _JSON, nullable=False),
    # Unique prev_hash: an entry has at most one successor, so even a bug that bypassed the
    # append lock could not fork the chain - the second insert would fail.
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False, unique=True),
)

# Durable domain events (alerts, refunds owed, security events): written in the transaction that
# announced them, marked once they reached the event sink. Kept, not deleted: the alerts among
# them are what staff review.
event_outbox = Table(
    "event_outbox",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("is_alert", Boolean, nullable=False),
    Column("fields", _JSON, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
    # The republishing job's scan: unpublished events, oldest first.
    Index("ix_event_outbox_published_at_occurred_at", "published_at", "occurred_at"),
    # The staff's alert list, newest first.
    Index("ix_event_outbox_is_alert_occurred_at", "is_alert", "occurred_at"),
)

# Which process runs a periodic job now: the in-process scheduler of every serving process
# asks for the lease, and the one whose conditional UPDATE succeeds runs the job this time.
shipping_zones = Table(
    "shipping_zones",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    # ISO 3166-1 alpha-2 codes, or ["*"]: the rest of the world.
    Column("countries", _JSON, nullable=False),
)

shipping_methods = Table(
    "shipping_methods",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "zone_id",
        String(64),
        ForeignKey("shipping_zones.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("name", String(100), nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("price_amount", BigInteger, nullable=False),
    Column("free_above_amount", BigInteger, nullable=True),
    Column("per_kg_amount", BigInteger, nullable=True),
    Column("max_weight_grams", Integer, nullable=True),
    Column("taxable", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    CheckConstraint(
        "price_amount >= 0 AND (free_above_amount IS NULL OR free_above_amount >= 0) "
        "AND (per_kg_amount IS NULL OR per_kg_amount >= 0)",
        name="prices_not_negative",
    ),
)

tax_rates = Table(
    "tax_rates",
    metadata,
    Column("country", CHAR(2), nullable=False),
    # '' for the country-wide rate.
    Column("region", String(100), nullable=False),
    Column("basis_points", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("shipping_taxable", Boolean, nullable=False),
    PrimaryKeyConstraint("country", "region"),
    CheckConstraint("basis_points BETWEEN 0 AND 10000", name="rate_in_range"),
)

# The addresses shoppers keep on their accounts (at most 20 each, counted under the user's row
# lock). The address is one JSON object, as checked by the core, like an order's snapshot.
saved_addresses = Table(
    "saved_addresses",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("user_id", String(ID), nullable=False, index=True),
    Column("label", String(50), nullable=False),
    Column("address", _JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# Shoppers' carts: an account's (one each: the unique user_id) or an anonymous visitor's (no
# user_id; known by its random id alone). Untouched carts are purged by updated_at.
carts = Table(
    "carts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("user_id", String(ID), nullable=True, unique=True),
    # The order placed from the cart while its payment is under way.
    Column("order_id", String(ID), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False, index=True),
)

# A cart's lines in the order the shopper added them. No key to the variant: a cart keeps what
# the shopper chose and the view flags what the catalogue no longer sells.
cart_lines = Table(
    "cart_lines",
    metadata,
    Column("cart_id", String(ID), ForeignKey("carts.id", ondelete="CASCADE"), nullable=False),
    Column("variant_id", String(ID), nullable=False),
    Column("position", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
    PrimaryKeyConstraint("cart_id", "variant_id"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
)

job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("leased_until", UtcDateTime, nullable=False),
)

# Emails waiting to be sent (the notification outbox): written in the transaction of the change
# that causes each, claimed by one sender at a time with a conditional UPDATE (claimed_by,
# claimed_until), kept once sent - without its body if it carried a reset link.
outgoing_messages = Table(
    "outgoing_messages",
    metadata,
    # Derived from the cause ("order-paid:ord_..."): the same message cannot be queued twice.
    Column("id", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text, nullable=False),
    Column("sensitive", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    CheckConstraint(_one_of("status", [s.value for s in MessageStatus]), name="status_known"),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    # The sender's scan: pending messages by when they are due.
    Index("ix_outgoing_messages_status_next_attempt_at", "status", "next_attempt_at"),
)

# Password-reset tokens by the SHA-256 of the token (never the token itself).
password_reset_tokens = Table(
    "password_reset_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(ID), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
)

# The addresses each account signed in from, as digests (the new-address notice).
sign_in_addresses = Table(
    "sign_in_addresses",
    metadata,
    Column("user_id", String(ID), nullable=False),
    Column("address_digest", String(64), nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("user_id", "address_digest"),
)

# The category tree (``commerce_core.domain.categories``): a parent's row cannot go while a
# child names it; a slug is one category's.
categories = Table(
    "categories",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("parent_id", String(ID), ForeignKey("categories.id"), nullable=True, index=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("description", Text, nullable=False),
    Column("position", Integer, nullable=False),
    CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
)

# Which products are in which categories. The search asks "the products in these categories":
# the (category_id, product_id) index answers it without touching the table.
product_categories = Table(
    "product_categories",
    metadata,
    Column("product_id", String(ID), ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column(
        "category_id",
        String(ID),
        ForeignKey("categories.id", ondelete="CASCADE"),
        nullable=False,
    ),
    PrimaryKeyConstraint("product_id", "category_id"),
    Index("ix_product_categories_category_id_product_id", "category_id", "product_id"),
)

# The attributes staff define; a choice attribute's choices are a JSON array of strings.
attribute_definitions = Table(
    "attribute_definitions",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("choices", _JSON, nullable=False),
    Column("unit", String(20), nullable=True),
    Column("filterable", Boolean, nullable=False),
    CheckConstraint(_one_of("kind", ["text", "number", "choice"]), name="kind_known"),
)

# Each product's value of each attribute: the text as shown, and for a number the value times
# 10**4 as an integer (exact comparisons and ranges). The search asks "the products with this
# value of this attribute" (code, value_text) and "in this range" (code, value_scaled).
product_attribute_values = Table(
    "product_attribute_values",
    metadata,
    Column("product_id", String(ID), ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column(
        "code",
        String(40),
        ForeignKey("attribute_definitions.code", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("value_text", String(200), nullable=False),
    Column("value_scaled", BigInteger, nullable=True),
    PrimaryKeyConstraint("product_id", "code"),
    Index("ix_product_attribute_values_code_value_text", "code", "value_text", "product_id"),
    Index("ix_product_attribute_values_code_value_scaled", "code", "value_scaled"),
)
