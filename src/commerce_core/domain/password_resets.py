"""Password-reset tokens, and the addresses an account has signed in from.

A reset token is 256 random bits (``new_token``), sent to the account's email only; the shop
stores its SHA-256 (``hash_token``), never the token, so a leaked database resets nothing. It
works once, for ``RESET_TOKEN_LIFETIME``, and a newer request for the same account supersedes
every older token still unused (they are marked used).

Known sign-in addresses are kept as ``sign_in_address_digest``: a SHA-256 of the account id and
the address, so the table alone does not list where each customer signs in from. (An IPv4
address has only 2**32 values, so the digest hides it from a casual reader, not from someone
who brute-forces it; the orders and the audit log keep addresses in clear anyway.)
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import attrs

__all__ = [
    "RESET_TOKEN_LIFETIME",
    "PasswordResetToken",
    "sign_in_address_digest",
]

RESET_TOKEN_LIFETIME = timedelta(minutes=30)


@attrs.define
class PasswordResetToken:
    token_hash: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    # Used to set a password, or superseded by a newer request: either way, dead.
    used_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


def sign_in_address_digest(user_id: str, address: str) -> str:
    """What the shop stores of an address ``user_id`` signed in from."""
    return hashlib.sha256(f"sign-in\x1f{user_id}\x1f{address}".encode()).hexdigest()
