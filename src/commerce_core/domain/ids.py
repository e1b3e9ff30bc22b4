"""Opaque, prefixed, random identifiers (``ord_5f0c...``) that say what they name in logs."""

from __future__ import annotations

import secrets

__all__ = ["new_id"]


def new_id(prefix: str) -> str:
    """A new 128-bit random id such as ``ord_9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d``."""
    return f"{prefix}_{secrets.token_hex(16)}"
