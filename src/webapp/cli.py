"""The ``commerce`` command line: serve, migrate, seed, create staff, run jobs, verify the audit log.

Every command reads the same settings as the app (environment variables, ``NAME_FILE``) and
builds its own container, closed when the command ends.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import click

from commerce_core import (
    MAX_IMPORT_BYTES,
    CommerceError,
    ImportCatalogCsv,
    InvalidInput,
    Register,
    Role,
    catalog_actor_id,
    configure_catalog,
    configure_shipping,
    create_staff_user,
    export_catalog_csv,
    import_catalog_csv,
    purge_idempotency_records,
    purge_stale_carts,
    reconcile_payments,
    release_expired_holds,
    send_due_messages,
    stock_catalog,
    verify_audit_log,
)
from webapp.bootstrap import Container, build_container, configure_process, migrate_database
from webapp.config import ConfigError, Settings
from webapp.demo_shop import load_demo_shop

__all__ = ["cli", "main"]


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def _container() -> Iterator[Container]:
    settings = _settings()
    configure_process(settings)
    container = build_container(settings)
    try:
        with container.closing_uows() as closing:
            yield closing
    except InvalidInput as exc:
        details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail
        raise click.ClickException(details) from None
    except CommerceError as exc:
        raise click.ClickException(exc.detail) from None
    finally:
        container.close()


@click.group()
def cli() -> None:
    """Run and operate the shop."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, default=8000, envvar="PORT", show_default=True, help="Or $PORT.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    envvar="WEB_CONCURRENCY",
    show_default=True,
    help="Worker processes (or $WEB_CONCURRENCY).",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Threads per worker; more than 1 uses gthread workers.",
)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app with gunicorn."""
    from webapp.server import CommerceServer, server_options

    settings = _settings()  # fail here, once, rather than in every worker
    try:
        # The settings judge the worker count too (memory:// rate limits need a single process).
        settings = attrs.evolve(settings, web_concurrency=workers)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    options = server_options(host=host, port=port, workers=workers, threads=threads)
    click.echo(f"Serving on http://{host}:{port} ({workers} workers, {threads} threads each)")
    CommerceServer(settings, options).run()


@cli.group()
def db() -> None:
    """Database schema."""


@db.command()
def upgrade() -> None:
    """Migrate the database at DATABASE_URL to the latest schema."""
    migrate_database(_settings())
    click.echo("Database is up to date.")


@cli.command()
@click.option(
    "--demo",
    is_flag=True,
    help="Load the demo catalog, shipping zones and tax rates (idempotent: what exists stays).",
)
def seed(demo: bool) -> None:
    """Stock the catalog and set up shipping."""
    if not demo:
        raise click.UsageError("nothing to seed: pass --demo")
    with _container() as container:
        shop = load_demo_shop()
        products = list(shop.products)
        added = stock_catalog(container.new_uow(), container.clock, products)
        configured = configure_shipping(container.new_uow(), shop.shipping)
        structured = configure_catalog(container.new_uow(), shop.catalog)
    click.echo(f"Added {added} products ({len(products) - added} were already in the catalog).")
    settings = len(shop.shipping.zones) + len(shop.shipping.methods) + len(shop.shipping.tax_rates)
    click.echo(
        f"Added {configured} shipping zones, methods and tax rates "
        f"({settings - configured} were already set up)."
    )
    click.echo(
        f"Added {structured.categories} categories and {structured.attributes} attributes "
        f"({len(shop.catalog.categories) - structured.categories} and "
        f"{len(shop.catalog.attributes) - structured.attributes} were already there); "
        f"filled in {structured.products} products."
    )


@cli.group()
def users() -> None:
    """Staff accounts."""


@users.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True)
def create_admin(email: str, name: str) -> None:
    """Create EMAIL as an admin (or promote it); the password is read from stdin."""
    password = _read_password()
    with _container() as c:
        user = create_staff_user(
            Register(email=email, password=password, name=name, role=Role.ADMIN),
            uow=c.new_uow(),
            hasher=c.hasher,
            clock=c.clock,
            events=c.events,
        )
    click.echo(f"Admin {user.id} is ready; its other sessions were ended.")


def _read_password() -> str:
    # sys.stdin rather than click.get_text_stream, which Click 8.2+ deprecates.
    stdin = sys.stdin
    if stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise click.ClickException("the passwords do not match")
    else:
        # Piped: the first line is the password (no echo, no shell history).
        password = stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException("no password given on stdin")
    return password


@cli.group()
def jobs() -> None:
    """Periodic jobs (run them from cron or a scheduler)."""


@jobs.command("release-expired-holds")
def release_holds() -> None:
    """Cancel expired unpaid orders and give their stock back. Exits 1 if some failed."""
    with _container() as c:
        report = release_expired_holds(**c.payment_ports())
    click.echo(f"released={report.released} settled={report.settled} failed={report.failed}")
    if report.failed:
        raise SystemExit(1)


@jobs.command("reconcile")
def reconcile() -> None:
    """Ask the gateways for what orders still owe them (intents to cancel, captures to refund,
    refunds of unknown outcome) and what they know that the shop does not (a lost webhook),
    release expired holds, and republish stored events a crash left unpublished. Safe to run
    every minute from several hosts. Exits 1 if some orders still owe their gateway."""
    with _container() as c:
        report = reconcile_payments(**c.payment_ports())
    click.echo(" ".join(f"{name}={value}" for name, value in attrs.asdict(report).items()))
    if report.still_owing:
        raise SystemExit(1)


@jobs.command("send-notifications")
def send_notifications() -> None:
    """Send the emails that are due (order confirmations, refund notices, password resets
    ...), retrying failed ones with backoff. Safe beside the in-process scheduler and on
    several hosts: each message is claimed by one sender. Exits 1 if some failed this round."""
    with _container() as c:
        report = send_due_messages(
            uow=c.new_uow(), notifier=c.notifier, clock=c.clock, events=c.events
        )
    click.echo(" ".join(f"{name}={value}" for name, value in attrs.asdict(report).items()))
    if report.retried or report.gave_up:
        raise SystemExit(1)


@jobs.command("purge-idempotency-keys")
def purge_idempotency_keys() -> None:
    """Forget stored Idempotency-Key answers older than their 24 hours."""
    with _container() as c:
        purged = purge_idempotency_records(uow=c.new_uow(), clock=c.clock)
    click.echo(f"purged={purged}")


@jobs.command("purge-carts")
def purge_carts() -> None:
    """Delete carts untouched for 30 days (the in-process scheduler does it every round too)."""
    with _container() as c:
        purged = purge_stale_carts(uow=c.new_uow(), clock=c.clock)
    click.echo(f"purged={purged}")


@cli.group()
def catalog() -> None:
    """The catalogue as CSV: one row per variant, imported by SKU (audited as --actor)."""


@catalog.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; change nothing.")
@click.option(
    "--actor", required=True, metavar="EMAIL", help="The staff account (catalog:write) acting."
)
def import_catalog(file: Path, dry_run: bool, actor: str) -> None:
    """Create and update products and variants from FILE, all or nothing. Exits 1 listing
    every problem (row <n>.<column>) if the file has any."""
    with file.open("rb") as stream:
        data = stream.read(MAX_IMPORT_BYTES + 1)  # one byte more: the core says it is too big
    with _container() as c:
        actor_id = catalog_actor_id(c.new_uow(), actor)
        try:
            report = import_catalog_csv(
                ImportCatalogCsv(actor_id, data, dry_run=dry_run), uow=c.new_uow(), clock=c.clock
            )
        except InvalidInput as exc:
            for error in exc.errors:
                click.echo(f"{error.field}: {error.message}", err=True)
            raise click.ClickException(f"nothing was imported from {file.name}") from None
    click.echo(
        f"{'Dry run, nothing written: ' if report.dry_run else ''}"
        f"products created={report.products_created} updated={report.products_updated}; "
        f"variants created={report.variants_created} updated={report.variants_updated} "
        f"unchanged={report.unchanged}"
    )


@catalog.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--actor", required=True, metavar="EMAIL", help="The staff account (catalog:write) acting."
)
def export_catalog(file: Path | None, actor: str) -> None:
    """Write the whole catalogue as CSV to FILE, or to stdout."""
    with _container() as c:
        text = export_catalog_csv(c.new_uow(), catalog_actor_id(c.new_uow(), actor))
    if file is None:
        click.echo(text, nl=False)
    else:
        file.write_bytes(text.encode("utf-8"))
        click.echo(f"Wrote the catalogue to {file}.")


@cli.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command()
def verify() -> None:
    """Check the audit log's hash chain. Exits 1 if it is broken."""
    with _container() as c:
        report = verify_audit_log(c.new_uow())
    if not report.intact:
        click.echo(
            f"Audit log BROKEN at entry {report.first_bad_entry} ({report.entries} entries).",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"Audit log intact: {report.entries} entries.")


def main() -> None:
    cli(prog_name="commerce")
