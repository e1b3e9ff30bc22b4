"""One error hierarchy for the whole core.

Every error carries a stable machine ``code`` that drivers (the JSON API, a CLI) expose as is::

    CommerceError
    ├── InvalidInput                      code "validation_error" (field errors in .errors)
    │   ├── InvalidMoney
    │   ├── CurrencyMismatch
    │   └── InvalidImage                  "invalid_image" (not an image, or cut short)
    │       ├── UnsupportedImageFormat    "unsupported_image_format"
    │       └── ImageTooLarge             "image_too_large" (too many pixels)
    ├── NotFound                          "not_found"
    ├── Conflict                          "conflict"
    │   ├── OutOfStock                    "out_of_stock"
    │   ├── IllegalTransition             "illegal_transition"
    │   ├── OrderNotPayable               "order_not_payable"
    │   ├── OrderNotRefundable            "order_not_refundable"
    │   ├── RefundExceedsCaptured         "refund_exceeds_captured"
    │   ├── IdempotencyKeyReused          "idempotency_key_reused"
    │   ├── IdempotencyRequestInProgress  "idempotency_in_progress"
    │   ├── HoldLimitReached              "hold_limit_reached"
    │   ├── EmailAlreadyRegistered        "email_taken"
    │   └── AddressBookFull               "address_book_full"
    ├── AuthenticationFailed              "invalid_credentials"
    │   └── RefreshRejected               "refresh_rejected"
    ├── PasswordResetTokenInvalid         "reset_token_invalid"
    ├── LoginLocked                       "locked_out" (retry_after seconds)
    ├── PermissionDenied                  "forbidden"
    ├── InvalidWebhook                    "invalid_webhook"
    ├── RetryLater                        "retry_later"
    ├── NotificationFailed                "notification_failed" (a Notifier's; retried)
    │   └── NotificationRejected          "notification_rejected" (never retried)
    └── GatewayError                      "payment_gateway_error"
        └── GatewayUnavailable            "payment_gateway_unavailable"
            └── GatewayNotConfigured      "payment_gateway_not_configured"

A declined card is not an error: ``confirm_order`` returns an outcome of ``"declined"``, because
a decline is a business result that is stored and replayed like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Self

import attrs

__all__ = [
    "AddressBookFull",
    "AuthenticationFailed",
    "CommerceError",
    "Conflict",
    "CurrencyMismatch",
    "EmailAlreadyRegistered",
    "FieldError",
    "GatewayError",
    "GatewayNotConfigured",
    "GatewayUnavailable",
    "HoldLimitReached",
    "IdempotencyKeyReused",
    "IdempotencyRequestInProgress",
    "IllegalTransition",
    "ImageTooLarge",
    "InvalidImage",
    "InvalidInput",
    "InvalidMoney",
    "InvalidWebhook",
    "LoginLocked",
    "NotFound",
    "NotificationFailed",
    "NotificationRejected",
    "OrderNotPayable",
    "OrderNotRefundable",
    "OutOfStock",
    "PasswordResetTokenInvalid",
    "PermissionDenied",
    "RefreshRejected",
    "RefundExceedsCaptured",
    "RetryLater",
    "UnsupportedImageFormat",
]


@attrs.frozen
class FieldError:
    field: str
    message: str


class CommerceError(Exception):
    """Base of every error the core raises on purpose."""

    code: ClassVar[str] = "commerce_error"
    title: ClassVar[str] = "Commerce error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class InvalidInput(CommerceError):
    code = "validation_error"
    title = "Invalid input"

    def __init__(self, detail: str = "", errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail or "; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors: tuple[FieldError, ...] = tuple(errors)

    @classmethod
    def for_field(cls, field: str, message: str) -> Self:
        return cls(f"{field}: {message}", [FieldError(field, message)])


class InvalidMoney(InvalidInput):
    title = "Invalid amount of money"


class CurrencyMismatch(InvalidInput):
    title = "Currencies do not match"


class InvalidImage(InvalidInput):
    """An upload that is not a whole image (garbage, cut short, undecodable)."""

    code = "invalid_image"
    title = "Invalid image"


class UnsupportedImageFormat(InvalidImage):
    code = "unsupported_image_format"
    title = "Unsupported image format"


class ImageTooLarge(InvalidImage):
    """More pixels than the shop decodes (a decompression bomb, or just far too big)."""

    code = "image_too_large"
    title = "Image too large"


class NotFound(CommerceError):
    code = "not_found"
    title = "Not found"


class Conflict(CommerceError):
    code = "conflict"
    title = "Conflict"


class OutOfStock(Conflict):
    code = "out_of_stock"
    title = "Out of stock"

    def __init__(
        self,
        detail: str = "",
        product_ids: Sequence[str] = (),
        *,
        variant_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(detail)
        self.product_ids = tuple(product_ids)
        # The variants short of stock (a product's default variant included).
        self.variant_ids = tuple(variant_ids)


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = "Illegal order state transition"


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    title = "Order can no longer be paid"


class OrderNotRefundable(Conflict):
    code = "order_not_refundable"
    title = "Order cannot be refunded"


class RefundExceedsCaptured(Conflict):
    code = "refund_exceeds_captured"
    title = "Refund exceeds the captured amount"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "Idempotency key reused with a different request"


class IdempotencyRequestInProgress(Conflict):
    code = "idempotency_in_progress"
    title = "A request with this idempotency key is still in progress"


class HoldLimitReached(Conflict):
    """One more checkout would hold more unpaid stock than one shopper (or address) may."""

    code = "hold_limit_reached"
    title = "Too many unpaid checkouts"


class EmailAlreadyRegistered(Conflict):
    code = "email_taken"
    title = "Email already registered"


class AddressBookFull(Conflict):
    """The account keeps as many saved addresses as it may; one must go before another comes."""

    code = "address_book_full"
    title = "Too many saved addresses"


class AuthenticationFailed(CommerceError):
    code = "invalid_credentials"
    title = "Invalid email or password"


class RefreshRejected(AuthenticationFailed):
    """The refresh token is unknown, expired, revoked, or was reused (its family is revoked)."""

    code = "refresh_rejected"
    title = "Sign in again"


class PasswordResetTokenInvalid(CommerceError):
    """The password-reset token is unknown, expired, used or superseded - one answer for all,
    so it tells nothing about which."""

    code = "reset_token_invalid"
    title = "This password-reset link is not valid"


class LoginLocked(CommerceError):
    """Too many failed logins for this email (from here, or everywhere): refused, whether or not
    the account exists, until ``retry_after`` seconds have passed."""

    code = "locked_out"
    title = "Too many failed logins"

    def __init__(self, retry_after: int, detail: str = "") -> None:
        super().__init__(detail or "too many failed logins; try again later")
        self.retry_after = max(1, retry_after)


class PermissionDenied(CommerceError):
    code = "forbidden"
    title = "Forbidden"


class InvalidWebhook(CommerceError):
    code = "invalid_webhook"
    title = "Invalid webhook"


class RetryLater(CommerceError):
    """Not now, but nothing is wrong: ask again shortly (a webhook about a refund whose own
    request is still in flight; the provider retries the delivery)."""

    code = "retry_later"
    title = "Try again later"


class NotificationFailed(CommerceError):
    """A ``Notifier`` could not send a message for now (the mail server is unreachable, timed
    out or answered a temporary 4xx): the outbox tries again later."""

    code = "notification_failed"
    title = "Notification not sent"


class NotificationRejected(NotificationFailed):
    """The mail server refused the message for good (a permanent 5xx: no such mailbox, a
    malformed address): trying again cannot help, so the outbox gives up at once."""

    code = "notification_rejected"
    title = "Notification rejected"


class GatewayError(CommerceError):
    """The payment gateway refused a request in a way that is not a decline."""

    code = "payment_gateway_error"
    title = "Payment gateway error"


class GatewayUnavailable(GatewayError):
    """Whether the gateway acted is unknown or it could not act for now (unreachable, timed out,
    5xx, rate limited, a request with the same key in flight): retry later with the same key."""

    code = "payment_gateway_unavailable"
    title = "Payment gateway unavailable"


class GatewayNotConfigured(GatewayUnavailable):
    """The order's gateway is not among the configured ones (its settings were removed): nothing
    was sent anywhere, and the operation can be retried once it is configured again."""

    code = "payment_gateway_not_configured"
    title = "Payment gateway not configured"
