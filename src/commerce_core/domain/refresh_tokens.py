"""Refresh tokens: how a signed-in browser gets a new session when the last one idled out.

A login starts a *family*: one refresh token (opaque, 256-bit, stored only as its hash) good
for 30 days from the login, however often it is rotated. Each refresh rotates it: the token
presented is marked rotated - in one conditional update, so of two concurrent refreshes exactly
one rotates - and its successor is issued. The successor is not random but derived from the
token it replaces with a key only the server holds (``successor_of``): so the second of two
tabs refreshing at once, arriving within ``grace`` of the rotation, is handed the very same
successor instead of tripping the alarm, and nothing but hashes is ever stored.

Presenting a token that was rotated longer ago than ``grace`` means two parties hold the family
(a stolen token was used, or the thief's copy was): the whole family is revoked, its sessions
ended, and a security event raised. A revoked or expired token is simply refused.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from datetime import datetime, timedelta

import attrs

__all__ = ["RefreshPolicy", "RefreshToken", "RefreshVerdict", "successor_of"]


@attrs.frozen
class RefreshPolicy:
    lifetime: timedelta = timedelta(days=30)  # from the login, for the whole family
    grace: timedelta = timedelta(seconds=20)  # two tabs refreshing at once


class RefreshVerdict(enum.Enum):
    """What presenting a stored refresh token means now."""

    ROTATE = "rotate"  # current: rotate it
    SAME_SUCCESSOR = "same_successor"  # rotated just now (another tab): hand out its successor
    REUSED = "reused"  # rotated long ago: someone else holds the family - revoke it
    DEAD = "dead"  # revoked or expired


@attrs.define
class RefreshToken:
    token_hash: str
    family_id: str
    user_id: str
    created_at: datetime
    expires_at: datetime  # the family's absolute expiry, inherited by every successor
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    def verdict(self, now: datetime, policy: RefreshPolicy) -> RefreshVerdict:
        if self.revoked_at is not None or now >= self.expires_at:
            return RefreshVerdict.DEAD
        if self.rotated_at is None:
            return RefreshVerdict.ROTATE
        if now - self.rotated_at <= policy.grace:
            return RefreshVerdict.SAME_SUCCESSOR
        return RefreshVerdict.REUSED

    def successor(self, token_hash: str, now: datetime) -> RefreshToken:
        return RefreshToken(token_hash, self.family_id, self.user_id, now, self.expires_at)


def successor_of(token: str, key: bytes) -> str:
    """The token that replaces ``token`` at rotation: HMAC-SHA256 under the server's key, so
    the same for both tabs, and unguessable to anyone holding ``token`` but not ``key``."""
    digest = hmac.new(key, b"refresh-successor\x1f" + token.encode(), hashlib.sha256).digest()
    return digest.hex()
