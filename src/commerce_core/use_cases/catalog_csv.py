"""The catalogue as CSV: staff export it, edit it in a spreadsheet, and import it back.

One row per variant, keyed by SKU. The columns, in the export's order::

    sku, product_slug, product_name, description, price, currency, stock, weight_grams,
    image_url, archived, product_archived, option:<name>...

``price`` is in minor units (``1500`` is $15.00), booleans are ``true``/``false``, an empty
``weight_grams`` is "not weighed" and an empty ``option:<name>`` cell is "no such option". The
option columns are every option name of the catalogue, in order of first appearance.

An import is all or nothing, and idempotent by SKU:

- A SKU the shop has updates its variant (price, stock - an empty cell keeps it -, weight,
  image, archived, options) and its product (name, description, archived); a SKU it has not
  is added to the product named by ``product_slug``, which a new slug creates. A SKU never
  moves to another product, a product's currency and option names never change by import, and
  a product without options keeps its one variant.
- Every row is checked first, against the products as they are, locked (the checks of the
  domain's own constructors included), and every problem is reported at once as
  ``row <n>.<column>`` - row ``n`` as a spreadsheet numbers it, the header being row 1. One
  problem anywhere and nothing is written.
- A row that states what is stored changes nothing: importing a file twice writes once.
  Each product created or changed gets one audit entry, ``catalog.import``, with the SKUs
  created and updated and each stock level before and after.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula. The export writes such a cell after a single quote (``'=1+1``), and the
import takes one leading quote off again before those characters - also before further quotes
that lead to one (``''=x`` is ``'=x``), so that any text survives the round trip.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple

import attrs

from commerce_core.domain.accounts import normalise_email
from commerce_core.domain.catalog import (
    MAX_OPTION_TEXT,
    MAX_OPTIONS,
    MAX_PRICE,
    MAX_STOCK,
    MAX_VARIANTS,
    MAX_WEIGHT_GRAMS,
    Options,
    Product,
    Variant,
    validate_sku,
    validate_slug,
)
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money, exponent_of
from commerce_core.domain.permissions import Permission
from commerce_core.errors import Conflict, FieldError, InvalidInput, PermissionDenied
from commerce_core.ports import Clock, UnitOfWork
from commerce_core.use_cases._staff import acting_staff, audit_staff_action
from commerce_core.use_cases.catalog_admin import MAX_DESCRIPTION

__all__ = [
    "CATALOG_CSV_COLUMNS",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "CatalogImportReport",
    "ImportCatalogCsv",
    "ImportedRow",
    "catalog_actor_id",
    "export_catalog_csv",
    "import_catalog_csv",
]

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
IMPORT_REASON = "catalog import"
CATALOG_CSV_COLUMNS = (
    "sku",
    "product_slug",
    "product_name",
    "description",
    "price",
    "currency",
    "stock",
    "weight_grams",
    "image_url",
    "archived",
    "product_archived",
)
_REQUIRED = ("sku", "product_slug", "product_name", "price", "currency")
OPTION_PREFIX = "option:"
_MAX_IMAGE_URL = 2000
_EXPORT_PAGE = 500
# What a spreadsheet takes for the start of a formula (OWASP's "CSV injection" list).
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NUMBER = re.compile(r"[0-9]{1,15}")
_BOOLEANS = {"true": True, "false": False}
# The domain's field names, as the columns of a row.
_PRODUCT_COLUMNS = {
    "name": "product_name",
    "slug": "product_slug",
    "description": "description",
    "price": "currency",
    "variants": "sku",
    "options": "sku",
    "option_names": "product_slug",
}

Action = Literal["created", "updated", "unchanged"]


class ImportedRow(NamedTuple):
    """What the import did with one row: its variant was created, updated (it or its
    product's name, description or archived flag changed) or left unchanged."""

    line: int
    sku: str
    action: Action


@attrs.frozen
class ImportCatalogCsv:
    """``data`` as uploaded (UTF-8 CSV); ``dry_run``: check and report, write nothing."""

    actor_id: str
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")
    dry_run: bool = False
    ip: str | None = None


@attrs.frozen
class CatalogImportReport:
    """What an import did - or, for a dry run, would do. The three row counts add up to the
    rows of the file; ``products_updated`` counts existing products that changed."""

    products_created: int
    products_updated: int
    variants_created: int
    variants_updated: int
    unchanged: int
    dry_run: bool
    rows: tuple[ImportedRow, ...]

    def to_primitive(self) -> dict[str, Any]:
        return {
            "products_created": self.products_created,
            "products_updated": self.products_updated,
            "variants_created": self.variants_created,
            "variants_updated": self.variants_updated,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
            "rows": [row._asdict() for row in self.rows],
        }


def catalog_actor_id(uow: UnitOfWork, email: str) -> str:
    """The id of the account ``email`` if it may write the catalogue (a command line names
    its actor by email); ``PermissionDenied`` alike for an unknown, disabled or other one."""
    with uow:
        user = uow.users.get_by_email(normalise_email(email))
        if user is None:
            raise PermissionDenied(f"{Permission.CATALOG_WRITE.value} is required")
        return acting_staff(uow, user.id, Permission.CATALOG_WRITE).id


# -- export --------------------------------------------------------------------------------------


def export_catalog_csv(uow: UnitOfWork, actor_id: str) -> str:
    """Every product, archived ones too, one row per variant, by slug then variant position
    (``catalog:write``)."""
    with uow:
        acting_staff(uow, actor_id, Permission.CATALOG_WRITE)
        products = sorted(_every_product(uow), key=lambda p: p.slug)
    option_names: dict[str, None] = {}
    for product in products:
        option_names.update(dict.fromkeys(product.option_names))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CATALOG_CSV_COLUMNS, *(OPTION_PREFIX + name for name in option_names)])
    for product in products:
        for variant in product.variants:
            values = variant.option_values
            cells = [
                variant.sku,
                product.slug,
                product.name,
                product.description,
                str(variant.price.amount),
                variant.price.currency,
                str(variant.stock),
                "" if variant.weight_grams is None else str(variant.weight_grams),
                variant.image_url,
                _flag(variant.archived),
                _flag(product.archived),
                *(values.get(name, "") for name in option_names),
            ]
            writer.writerow([_escaped(cell) for cell in cells])
    return out.getvalue()


def _every_product(uow: UnitOfWork) -> Iterator[Product]:
    offset = 0
    while True:
        page, total = uow.products.list_for_staff(offset, _EXPORT_PAGE)
        yield from page
        offset += len(page)
        if not page or offset >= total:
            return


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _escaped(cell: str) -> str:
    """``cell`` as a spreadsheet will show it rather than run it."""
    return "'" + cell if _FORMULA.match(cell) else cell


def _unescaped(cell: str) -> str:
    """``cell`` as exported before ``_escaped``."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell[1:]) else cell


# -- reading the file ----------------------------------------------------------------------------


@attrs.frozen
class _Header:
    columns: tuple[str, ...]  # the column of each cell, by position
    options: tuple[str, ...]  # the option names of the option columns, in file order

    def has(self, column: str) -> bool:
        return column in self.columns


@attrs.frozen
class _Row:
    """One row, each cell read; ``None`` where a column is absent (or for stock, empty):
    keep what is stored (a default for something new)."""

    line: int
    sku: str
    slug: str
    name: str
    price: int
    currency: str
    description: str | None
    stock: int | None
    weight_grams: int | None
    image_url: str | None
    archived: bool | None
    product_archived: bool | None
    options: Mapping[str, str]  # option name -> value, the non-empty option cells

    def option_columns(self, header: _Header) -> list[str]:
        return [n for n in header.options if n in self.options]


class _Problems:
    """Every problem found, with the row it is in (0: the file as a whole)."""

    def __init__(self) -> None:
        self._found: list[tuple[int, FieldError]] = []

    def add(self, line: int, column: str | None, message: str) -> None:
        field = "file" if line == 0 else f"row {line}" + ("" if column is None else f".{column}")
        self._found.append((line, FieldError(field, message)))

    def __bool__(self) -> bool:
        return bool(self._found)

    def __len__(self) -> int:
        return len(self._found)

    def refusal(self) -> InvalidInput:
        errors = [error for _, error in sorted(self._found, key=lambda found: found[0])]
        problems = "1 problem" if len(errors) == 1 else f"{len(errors)} problems"
        return InvalidInput(f"{problems} in the file; nothing was imported", errors=errors)


def _text(data: bytes) -> str:
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput.for_field(
            "file", f"must be at most {MAX_IMPORT_BYTES} bytes (2 MiB): split it"
        )
    if b"\x00" in data:
        raise InvalidInput.for_field(
            "file", "must be UTF-8 CSV text: it has NUL bytes (UTF-16, or not a CSV file)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput.for_field(
            "file", f"must be UTF-8 (byte {exc.start + 1} is not): save it as CSV UTF-8"
        ) from None


def _records(text: str, problems: _Problems) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every record; a broken one ends the reading."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 0
    while True:
        line += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.add(line, None, f"is not valid CSV ({exc}); nothing after it was read")
            return
        yield line, cells


def _header(cells: list[str], problems: _Problems) -> _Header:
    cells = list(cells)
    while cells and not cells[-1].strip():
        cells.pop()  # a spreadsheet's trailing empty columns
    columns: list[str] = []
    options: list[str] = []
    for position, raw in enumerate(cells, start=1):
        name = raw.strip()
        if name.lower() in CATALOG_CSV_COLUMNS:
            name = name.lower()
        elif name.lower().startswith(OPTION_PREFIX):
            option = name[len(OPTION_PREFIX) :].strip()
            name = OPTION_PREFIX + option
            if not _option_text(option):
                problems.add(
                    1,
                    name,
                    f"an option name must be 1 to {MAX_OPTION_TEXT} printable characters",
                )
            options.append(option)
        elif not name:
            problems.add(1, None, f"column {position} has no name")
        else:
            name = name[:100]  # named in the answer: not a whole line of text
            problems.add(
                1,
                name,
                "is not a column of the catalogue: "
                f"{', '.join(CATALOG_CSV_COLUMNS)} or {OPTION_PREFIX}<name>",
            )
        if name and name in columns:
            problems.add(1, name, "appears twice")
        columns.append(name)
    for required in _REQUIRED:
        if required not in columns:
            problems.add(1, required, "is a required column")
    return _Header(tuple(columns), tuple(options))


def _read(data: bytes) -> tuple[_Header, list[_Row], _Problems]:
    """The file's header and its rows that read well; ``InvalidInput`` if the file as a whole
    cannot be read (too big, not UTF-8, no or a broken header, too many rows)."""
    problems = _Problems()
    records = _records(_text(data), problems)
    first = next(records, None)
    if first is None:
        if problems:
            raise problems.refusal()
        raise InvalidInput.for_field("file", "is empty: its first row must name the columns")
    header = _header(first[1], problems)
    if problems:
        raise problems.refusal()
    rows: list[_Row] = []
    count = 0
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # a blank row
        count += 1
        if count > MAX_IMPORT_ROWS:
            raise InvalidInput.for_field(
                "file", f"has more than {MAX_IMPORT_ROWS} rows: split it into several files"
            )
        row = _row(line, cells, header, problems)
        if row is not None:
            rows.append(row)
    return header, rows, problems


def _row(line: int, cells: list[str], header: _Header, problems: _Problems) -> _Row | None:
    width = len(header.columns)
    if any(cell.strip() for cell in cells[width:]):
        problems.add(line, None, f"has {len(cells)} cells, but the header names {width} columns")
        return None
    raw = {
        column: _unescaped(cells[i]) if i < len(cells) else ""
        for i, column in enumerate(header.columns)
    }
    cell = _CellReader(line, raw, problems)
    row = _Row(
        line=line,
        sku=cell.sku(),
        slug=cell.slug(),
        name=cell.name(),
        price=cell.price(),
        currency=cell.currency(),
        description=cell.description() if header.has("description") else None,
        stock=cell.number("stock", MAX_STOCK) if header.has("stock") else None,
        weight_grams=cell.number("weight_grams", MAX_WEIGHT_GRAMS),
        image_url=cell.image_url() if header.has("image_url") else None,
        archived=cell.flag("archived") if header.has("archived") else None,
        product_archived=cell.flag("product_archived") if header.has("product_archived") else None,
        options=cell.options(header.options),
    )
    return None if cell.failed else row


class _CellReader:
    """Reads the cells of one row by column, recording each problem as ``row <n>.<column>``."""

    def __init__(self, line: int, raw: Mapping[str, str], problems: _Problems) -> None:
        self._line = line
        self._raw = raw
        self._problems = problems
        self.failed = False

    def _fail(self, column: str, message: str) -> None:
        self._problems.add(self._line, column, message)
        self.failed = True

    def _stripped(self, column: str) -> str:
        return self._raw.get(column, "").strip()

    def sku(self) -> str:
        value = self._stripped("sku")
        if not value:
            self._fail("sku", "is required")
            return value
        try:
            return validate_sku(value)
        except InvalidInput as exc:
            self._fail("sku", exc.errors[0].message)
            return value

    def slug(self) -> str:
        value = self._stripped("product_slug")
        try:
            validate_slug(value)
        except InvalidInput as exc:
            self._fail("product_slug", exc.errors[0].message)
        return value

    def name(self) -> str:
        value = self._raw.get("product_name", "")
        if not value.strip():
            self._fail("product_name", "is required")
        elif len(value) > 200:
            self._fail("product_name", "must be at most 200 characters")
        elif _CONTROL.search(value):
            self._fail("product_name", "must not contain control characters or line breaks")
        return value

    def description(self) -> str:
        value = self._raw.get("description", "")
        if len(value) > MAX_DESCRIPTION:
            self._fail("description", f"must be at most {MAX_DESCRIPTION} characters")
        elif _CONTROL_BUT_LAYOUT.search(value):
            self._fail("description", "must not contain control characters")
        return value

    def price(self) -> int:
        return self._whole("price", MAX_PRICE, required=True, minimum=1) or 0

    def currency(self) -> str:
        value = self._stripped("currency").upper()
        try:
            exponent_of(value)
        except InvalidInput:
            self._fail("currency", "must be an ISO 4217 currency code the shop knows, e.g. USD")
        return value

    def number(self, column: str, maximum: int) -> int | None:
        return self._whole(column, maximum, required=False)

    def _whole(self, column: str, maximum: int, *, required: bool, minimum: int = 0) -> int | None:
        value = self._stripped(column)
        if not value:
            if required:
                self._fail(column, "is required")
            return None
        if not _NUMBER.fullmatch(value) or not minimum <= int(value) <= maximum:
            self._fail(column, f"must be a whole number from {minimum} to {maximum}")
            return None
        return int(value)

    def image_url(self) -> str:
        value = self._stripped("image_url")
        if not value:
            return value
        if len(value) > _MAX_IMAGE_URL:
            self._fail("image_url", f"must be at most {_MAX_IMAGE_URL} characters")
        elif (
            not (value.startswith(("https://", "http://")) or value.startswith("/"))
            or value.startswith("//")
            or any(char.isspace() for char in value)
            or _CONTROL.search(value)
        ):
            self._fail(
                "image_url",
                "must be a path on this site (/media/...) or an http(s) URL, without spaces",
            )
        return value

    def flag(self, column: str) -> bool:
        value = self._stripped(column).lower()
        if value and value not in _BOOLEANS:
            self._fail(column, "must be true or false")
        return _BOOLEANS.get(value, False)

    def options(self, names: Sequence[str]) -> dict[str, str]:
        found = {}
        for name in names:
            column = OPTION_PREFIX + name
            value = self._stripped(column)
            if not value:
                continue
            if not _option_text(value):
                self._fail(column, f"must be 1 to {MAX_OPTION_TEXT} printable characters")
            found[name] = value
        return found


def _option_text(value: str) -> bool:
    return 1 <= len(value) <= MAX_OPTION_TEXT and value == value.strip() and value.isprintable()


# -- checking the rows against each other ----------------------------------------------------


def _by_product(
    rows: Iterable[_Row], header: _Header, problems: _Problems
) -> dict[str, list[_Row]]:
    """The rows of each product (by slug, in file order), once each SKU, each row agreeing
    with its product's first one. A row that does not is reported and left out."""
    first_of_sku: dict[str, int] = {}
    groups: dict[str, list[_Row]] = {}
    for row in rows:
        if row.sku in first_of_sku:
            problems.add(row.line, "sku", f"repeats the SKU of row {first_of_sku[row.sku]}")
            continue
        first_of_sku[row.sku] = row.line
        group = groups.setdefault(row.slug, [])
        if not group or _agrees(group[0], row, header, problems):
            group.append(row)
    return groups


def _agrees(first: _Row, row: _Row, header: _Header, problems: _Problems) -> bool:
    found = len(problems)
    why = f"differs from row {first.line}: all rows of product {first.slug!r} must agree"
    for column, mine, theirs in (
        ("product_name", row.name, first.name),
        ("description", row.description, first.description),
        ("product_archived", row.product_archived, first.product_archived),
    ):
        if mine != theirs:
            problems.add(row.line, column, why)
    if row.currency != first.currency:
        problems.add(
            row.line, "currency", f"differs from row {first.line}: a product has one currency"
        )
    for name in header.options:
        if (name in row.options) != (name in first.options):
            has = "has a value" if name in row.options else "is empty"
            problems.add(
                row.line,
                OPTION_PREFIX + name,
                f"{has} here but not in row {first.line}: every variant of product "
                f"{first.slug!r} names a value for the same options",
            )
    return len(problems) == found


# -- the new state of each product ---------------------------------------------------------------


@attrs.define
class _Outcome:
    """What importing its rows does to one product."""

    product: Product  # as it will be
    before: Product | None  # as it is; None: created by this import
    actions: list[ImportedRow] = attrs.Factory(list)
    changed: dict[str, dict[str, object]] = attrs.Factory(dict)  # the product's own fields
    created: list[str] = attrs.Factory(list)
    updated: dict[str, dict[str, dict[str, object]]] = attrs.Factory(dict)
    stock: list[dict[str, object]] = attrs.Factory(list)

    @property
    def writes(self) -> bool:
        return self.before is None or bool(self.changed or self.created or self.updated)

    def audit_details(self) -> dict[str, object]:
        return {
            "slug": self.product.slug,
            "product": "created" if self.before is None else "updated",
            "changed": self.changed,
            "created": self.created,
            "updated": self.updated,
            "stock": self.stock,
        }


def _variant_problems(problems: _Problems, row: _Row, header: _Header, exc: InvalidInput) -> None:
    options = row.option_columns(header)
    columns = {"options": OPTION_PREFIX + options[0] if options else "sku"}
    for error in exc.errors or (FieldError("price", exc.detail),):
        problems.add(row.line, columns.get(error.field, error.field), error.message)


def _product_problems(problems: _Problems, row: _Row, exc: InvalidInput) -> None:
    for error in exc.errors or (FieldError("product_slug", exc.detail),):
        problems.add(row.line, _PRODUCT_COLUMNS.get(error.field, "product_slug"), error.message)


def _new_variant(row: _Row, options: Options, now: datetime) -> Variant:
    return Variant(
        id=new_id("var"),
        sku=row.sku,
        price=Money(row.price, row.currency),
        stock=row.stock or 0,
        created_at=now,
        updated_at=now,
        options=options,
        weight_grams=row.weight_grams,
        image_url=row.image_url or "",
        archived=bool(row.archived),
    )


def _check_variants(
    slug: str,
    variants: Sequence[Variant],
    rows: Sequence[_Row],
    header: _Header,
    problems: _Problems,
) -> bool:
    """The checks of the product's variants the domain would make, each on the row to blame:
    two variants with the same options, too many variants."""
    found = len(problems)
    by_row = {row.sku: row for row in rows}
    seen: dict[Options, str] = {}
    for variant in variants:
        other = seen.setdefault(variant.options, variant.sku)
        if other == variant.sku:
            continue
        # Blame the later of the two rows (a variant the file does not name is as stored).
        blamed, twin = (variant.sku, other) if variant.sku in by_row else (other, variant.sku)
        row = by_row.get(blamed, rows[0])
        options = row.option_columns(header)
        problems.add(
            row.line,
            OPTION_PREFIX + options[0] if options else "sku",
            f"the options {variant.label!r} are those of SKU {twin!r}: each variant of "
            f"{slug!r} needs its own",
        )
    if len(variants) > MAX_VARIANTS:
        extra = variants[MAX_VARIANTS]
        problems.add(
            by_row[extra.sku].line if extra.sku in by_row else rows[-1].line,
            "sku",
            f"product {slug!r} would have more than {MAX_VARIANTS} variants",
        )
    return len(problems) == found


def _created(
    slug: str, rows: list[_Row], header: _Header, now: datetime, problems: _Problems
) -> _Outcome | None:
    first = rows[0]
    names = tuple(first.option_columns(header))
    if len(names) > MAX_OPTIONS:
        problems.add(
            first.line,
            OPTION_PREFIX + names[MAX_OPTIONS],
            f"a product has at most {MAX_OPTIONS} options",
        )
        return None
    if not names:
        for row in rows[1:]:
            problems.add(
                row.line,
                "sku",
                f"product {slug!r} has no options (no option:<name> values), so it has one "
                "variant: give each of its rows its option values",
            )
        rows = rows[:1]
    variants = []
    for row in rows:
        try:
            variants.append(_new_variant(row, tuple((n, row.options[n]) for n in names), now))
        except InvalidInput as exc:
            _variant_problems(problems, row, header, exc)
    if len(variants) < len(rows) or not _check_variants(slug, variants, rows, header, problems):
        return None
    try:
        product = Product(
            id=new_id("prod"),
            slug=slug,
            name=first.name,
            description=first.description or "",
            # Its first row's picture shows in listings until staff upload the product's own.
            image_url=first.image_url or "",
            created_at=now,
            updated_at=now,
            variants=variants,
            archived=bool(first.product_archived),
            option_names=names,
        )
    except InvalidInput as exc:
        _product_problems(problems, first, exc)
        return None
    outcome = _Outcome(product, None)
    for row, variant in zip(rows, variants, strict=True):
        outcome.created.append(variant.sku)
        outcome.actions.append(ImportedRow(row.line, row.sku, "created"))
        if variant.stock:
            outcome.stock.append(_stock_change(variant.sku, 0, variant.stock))
    return outcome


def _stock_change(sku: str, before: int, after: int) -> dict[str, object]:
    return {"sku": sku, "before": before, "after": after, "reason": IMPORT_REASON}


def _same_options(product: Product, rows: list[_Row], header: _Header, problems: _Problems) -> bool:
    """Whether the file gives ``product`` the option names it has (in any column order)."""
    first = rows[0]
    given = set(first.options)
    if given == set(product.option_names):
        return True
    has = ", ".join(product.option_names) or "none"
    for name in header.options:
        if name in given and name not in product.option_names:
            why = f"is not an option of product {product.slug!r} (its options: {has})"
        elif name not in given and name in product.option_names:
            why = f"is required: product {product.slug!r} has this option"
        else:
            continue
        problems.add(
            first.line,
            OPTION_PREFIX + name,
            f"{why}; an import does not change a product's option names",
        )
    for name in product.option_names:
        if name not in header.options:
            problems.add(
                first.line,
                OPTION_PREFIX + name,
                f"is a required column: product {product.slug!r} has this option",
            )
    return False


def _updated(
    product: Product, rows: list[_Row], header: _Header, now: datetime, problems: _Problems
) -> _Outcome | None:
    first = rows[0]
    if not _same_options(product, rows, header, problems):
        return None
    found = len(problems)
    for row in rows:
        if row.currency != product.currency:
            problems.add(
                row.line, "currency", f"must be the product's currency, {product.currency}"
            )
    if len(problems) > found:
        return None
    fields: dict[str, Any] = {"name": first.name}
    if first.description is not None:
        fields["description"] = first.description
    if first.product_archived is not None:
        fields["archived"] = first.product_archived
    changed = {k: v for k, v in fields.items() if getattr(product, k) != v}
    outcome = _Outcome(product, product)
    outcome.changed = {
        name: {"before": getattr(product, name), "after": value} for name, value in changed.items()
    }
    variants = list(product.variants)
    for row in rows:
        _apply_row(outcome, variants, row, header, now, problems)
    if len(problems) > found or not _check_variants(product.slug, variants, rows, header, problems):
        return None
    if not outcome.writes:
        return outcome
    try:
        outcome.product = attrs.evolve(product, variants=variants, updated_at=now, **changed)
    except InvalidInput as exc:
        _product_problems(problems, first, exc)
        return None
    return outcome


def _apply_row(
    outcome: _Outcome,
    variants: list[Variant],
    row: _Row,
    header: _Header,
    now: datetime,
    problems: _Problems,
) -> None:
    """Add the variant of ``row`` to ``variants`` (the product's, as they will be), or put its
    edited copy in the stored one's place; and note what that does in ``outcome``."""
    product = outcome.product
    options = tuple((n, row.options[n]) for n in product.option_names)
    current = product.variant_by_sku(row.sku)
    if current is None:
        if not product.option_names:
            problems.add(
                row.line,
                "sku",
                f"product {product.slug!r} has no options, so it has exactly one variant "
                f"({product.variants[0].sku!r}): a second cannot be added",
            )
            return
        try:
            variant = _new_variant(row, options, now)
        except InvalidInput as exc:
            _variant_problems(problems, row, header, exc)
            return
        variants.append(variant)
        outcome.created.append(row.sku)
        outcome.actions.append(ImportedRow(row.line, row.sku, "created"))
        if variant.stock:
            outcome.stock.append(_stock_change(row.sku, 0, variant.stock))
        return
    edits = _variant_edits(current, row, header, options)
    if not edits:
        action: Action = "updated" if outcome.changed else "unchanged"
        outcome.actions.append(ImportedRow(row.line, row.sku, action))
        return
    try:
        edited = attrs.evolve(current, updated_at=now, **edits)  # validates every field
    except InvalidInput as exc:
        _variant_problems(problems, row, header, exc)
        return
    variants[:] = [edited if v.id == current.id else v for v in variants]
    outcome.updated[row.sku] = {
        name: {"before": _plain(getattr(current, name)), "after": _plain(value)}
        for name, value in edits.items()
    }
    if "stock" in edits:
        outcome.stock.append(_stock_change(row.sku, current.stock, edited.stock))
    outcome.actions.append(ImportedRow(row.line, row.sku, "updated"))


def _variant_edits(
    current: Variant, row: _Row, header: _Header, options: Options
) -> dict[str, Any]:
    """What ``row`` changes of the stored variant ``current`` (absent columns, and an empty
    stock cell, keep what is stored)."""
    wanted: dict[str, Any] = {"price": Money(row.price, row.currency), "options": options}
    if row.stock is not None:
        wanted["stock"] = row.stock
    if header.has("weight_grams"):
        wanted["weight_grams"] = row.weight_grams
    if row.image_url is not None:
        wanted["image_url"] = row.image_url
    if row.archived is not None:
        wanted["archived"] = row.archived
    return {k: v for k, v in wanted.items() if getattr(current, k) != v}


def _plain(value: object) -> object:
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, tuple):
        return dict(value)  # a variant's options
    return value


# -- the import ----------------------------------------------------------------------------------


def import_catalog_csv(
    command: ImportCatalogCsv, *, uow: UnitOfWork, clock: Clock
) -> CatalogImportReport:
    """Create and update products and variants from a CSV file (``catalog:write``), all or
    nothing; ``InvalidInput`` with every problem of the file, each as ``row <n>.<column>``.
    A dry run checks and reports the same, and writes nothing."""
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        header, rows, problems = _read(command.data)
        groups = _by_product(rows, header, problems)
        now = clock.now()
        outcomes = _outcomes(uow, groups, header, now, problems)
        if problems:
            raise problems.refusal()
        actions = sorted(
            (action for outcome in outcomes for action in outcome.actions),
            key=lambda row: row.line,
        )
        report = CatalogImportReport(
            products_created=sum(o.before is None for o in outcomes),
            products_updated=sum(o.before is not None and o.writes for o in outcomes),
            variants_created=sum(a.action == "created" for a in actions),
            variants_updated=sum(a.action == "updated" for a in actions),
            unchanged=sum(a.action == "unchanged" for a in actions),
            dry_run=command.dry_run,
            rows=tuple(actions),
        )
        if command.dry_run or not any(outcome.writes for outcome in outcomes):
            return report
        for outcome in outcomes:
            if not outcome.writes:
                continue
            if outcome.before is None:
                uow.products.add(outcome.product)
            else:
                uow.products.save(outcome.product)
            audit_staff_action(
                uow,
                now,
                actor,
                "catalog.import",
                f"product:{outcome.product.id}",
                command.ip,
                **outcome.audit_details(),
            )
        uow.commit()
    return report


def _outcomes(
    uow: UnitOfWork,
    groups: Mapping[str, list[_Row]],
    header: _Header,
    now: datetime,
    problems: _Problems,
) -> list[_Outcome]:
    """What the rows do to each product, checked against the products as they are, locked
    until the transaction ends. A row whose SKU another product has is reported."""
    found = {slug: uow.products.get_by_slug(slug) for slug in groups}
    locked = uow.products.lock(p.id for p in found.values() if p is not None)
    current: dict[str, Product] = {}
    for slug, product in found.items():
        if product is None:
            continue
        mine = locked.get(product.id)
        if mine is None or mine.slug != slug:
            raise Conflict(f"product {slug!r} changed while the file was read; import it again")
        current[slug] = mine
    owner = {v.sku: p.slug for p in current.values() for v in p.variants}
    outcomes = []
    for slug, group in groups.items():
        rows = []
        for row in group:
            if row.sku not in owner:
                other = uow.products.get_by_sku(row.sku)
                owner[row.sku] = slug if other is None else other.slug
            if owner[row.sku] != slug:
                problems.add(
                    row.line,
                    "sku",
                    f"belongs to product {owner[row.sku]!r}, not {slug!r}: "
                    "a SKU never moves to another product",
                )
            else:
                rows.append(row)
        if not rows:
            continue
        product = current.get(slug)
        outcome = (
            _created(slug, rows, header, now, problems)
            if product is None
            else _updated(product, rows, header, now, problems)
        )
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes
