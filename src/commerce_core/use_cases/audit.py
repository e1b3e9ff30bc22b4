"""Checking the audit log's hash chain (``commerce audit verify``)."""

from __future__ import annotations

import attrs

from commerce_core.domain.audit import verify_chain
from commerce_core.ports import UnitOfWork

__all__ = ["AuditVerification", "verify_audit_log"]


@attrs.frozen
class AuditVerification:
    intact: bool
    entries: int
    first_bad_entry: str | None


def verify_audit_log(uow: UnitOfWork) -> AuditVerification:
    """Walk the audit log's hash chain; ``intact`` is False if any entry was altered or removed."""
    with uow:
        entries = list(uow.audit.all())
    intact, first_bad = verify_chain(entries)
    return AuditVerification(intact, len(entries), first_bad)
