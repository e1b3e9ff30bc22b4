"""The audit log is a hash chain: editing any entry, deleting one from the middle or the end's
predecessor, or rewriting one consistently (without the chain's successors) is caught, and
`commerce audit verify` names the first entry that no longer follows - on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

from adapters.sql.tables import audit_log
from commerce_core import AuditEntry, SystemClock, verify_audit_log
from commerce_core.domain.ids import new_id
from tests.webapp.conftest import container, settings_on_both_databases
from webapp.bootstrap import Container
from webapp.cli import cli
from webapp.config import Settings

# The web app's fixtures (a migrated shop on SQLite, and on PostgreSQL), used here as they are.
__all__ = ["container", "settings_on_both_databases"]


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("APP_ENV", "test")
    return CliRunner()


@pytest.fixture
def chain(container: Container) -> list[str]:
    """Five entries appended through the port; their ids, oldest first."""
    ids = []
    for n in range(5):
        uow = container.new_uow()
        with uow:
            entry = uow.audit.append(
                AuditEntry(
                    id=new_id("aud"),
                    at=SystemClock().now(),
                    actor="usr_admin",
                    action="refund.requested",
                    target=f"order:ord_{n}",
                    ip="203.0.113.7",
                    details={"amount": 100 * (n + 1), "currency": "USD"},
                )
            )
            uow.commit()
        ids.append(entry.id)
    return ids


def _tamper(container: Container, change: Callable[[Any], None]) -> None:
    assert container.engine is not None
    with container.engine.begin() as connection:
        change(connection)


def test_an_intact_chain_verifies(
    container: Container, chain: list[str], runner: CliRunner
) -> None:
    report = verify_audit_log(container.new_uow())
    assert (report.intact, report.entries, report.first_bad_entry) == (True, 5, None)
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 5 entries" in result.output


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("details", {"amount": 1, "currency": "USD"}),
        ("actor", "usr_someone_else"),
        ("target", "order:ord_other"),
        ("ip", None),
        ("action", "refund.refused"),
    ],
)
def test_editing_any_field_of_an_entry_is_caught_at_that_entry(
    container: Container, chain: list[str], runner: CliRunner, column: str, value: Any
) -> None:
    _tamper(
        container,
        lambda c: c.execute(
            update(audit_log).where(audit_log.c.id == chain[2]).values({column: value})
        ),
    )
    report = verify_audit_log(container.new_uow())
    assert (report.intact, report.first_bad_entry) == (False, chain[2])
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at entry {chain[2]}" in result.output


def test_deleting_an_entry_is_caught_at_the_one_after_it(
    container: Container, chain: list[str], runner: CliRunner
) -> None:
    _tamper(container, lambda c: c.execute(delete(audit_log).where(audit_log.c.id == chain[1])))
    report = verify_audit_log(container.new_uow())
    assert (report.intact, report.entries, report.first_bad_entry) == (False, 4, chain[2])
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at entry {chain[2]}" in result.output


def test_deleting_the_first_entry_is_caught(container: Container, chain: list[str]) -> None:
    _tamper(container, lambda c: c.execute(delete(audit_log).where(audit_log.c.id == chain[0])))
    report = verify_audit_log(container.new_uow())
    assert (report.intact, report.first_bad_entry) == (False, chain[1])


def test_rewriting_an_entry_with_a_matching_hash_breaks_its_successor(
    container: Container, chain: list[str]
) -> None:
    # An attacker who recomputes the edited entry's own hash still cannot keep the next
    # entry's link to it, short of rewriting every later entry too.
    def rehash(connection: Any) -> None:
        row = (
            connection.execute(select(audit_log).where(audit_log.c.id == chain[2])).mappings().one()
        )
        edited = AuditEntry(
            id=row["id"],
            at=row["at"],
            actor="usr_someone_else",
            action=row["action"],
            target=row["target"],
            ip=row["ip"],
            details=row["details"],
        ).chained_to(row["prev_hash"])
        connection.execute(
            update(audit_log)
            .where(audit_log.c.id == chain[2])
            .values(actor=edited.actor, hash=edited.hash)
        )

    _tamper(container, rehash)
    report = verify_audit_log(container.new_uow())
    assert (report.intact, report.first_bad_entry) == (False, chain[3])
