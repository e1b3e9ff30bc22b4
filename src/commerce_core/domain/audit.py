"""An append-only audit trail whose entries are chained by hash, so tampering is detectable.

Each entry's ``hash`` is SHA-256 over its own content and the previous entry's hash. Storage
adapters append under a lock so the chain never forks; ``verify_chain`` walks it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import attrs

__all__ = ["GENESIS_HASH", "AuditEntry", "verify_chain"]

GENESIS_HASH = "0" * 64


def _plain_json(details: dict[str, Any]) -> dict[str, Any]:
    """Details as plain JSON values, so the hash is the same before and after storage."""
    plain: dict[str, Any] = json.loads(json.dumps(details, default=str))
    return plain


@attrs.frozen
class AuditEntry:
    id: str
    at: datetime
    actor: str | None
    action: str
    target: str
    ip: str | None = None
    details: dict[str, Any] = attrs.field(factory=dict, converter=_plain_json)
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def content_hash(self, prev_hash: str) -> str:
        body = json.dumps(
            {
                "id": self.id,
                "at": self.at.astimezone(UTC).isoformat(),
                "actor": self.actor,
                "action": self.action,
                "target": self.target,
                "ip": self.ip,
                "details": self.details,
                "prev": prev_hash,
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()

    def chained_to(self, prev_hash: str) -> AuditEntry:
        """This entry sealed onto a chain whose last hash is ``prev_hash``."""
        return attrs.evolve(self, prev_hash=prev_hash, hash=self.content_hash(prev_hash))


def verify_chain(entries: Iterable[AuditEntry]) -> tuple[bool, str | None]:
    """``(True, None)`` if every entry links to the one before; else ``(False, id_of_first_bad)``."""
    prev = GENESIS_HASH
    for entry in entries:
        if entry.prev_hash != prev or entry.hash != entry.content_hash(prev):
            return False, entry.id
        prev = entry.hash
    return True, None
