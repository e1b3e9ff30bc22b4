"""``/admin/catalog``: the catalogue as a CSV file - exported, edited in a spreadsheet, imported
back (a dry run first, if wished), with the report of what each row did or, when a row is wrong,
every problem as a table (row, column, problem) and nothing imported.

The admin API's ``export_catalog_csv`` and ``import_catalog_csv`` (``catalog:write``, audited),
the file uploaded as a multipart form. The report is the answer to the post itself - too long to
carry through a redirect - which is safe to send again: an import is idempotent by SKU.
"""

from __future__ import annotations

import re

from flask import Response, request

from commerce_core import (
    MAX_IMPORT_BYTES,
    CommerceError,
    ImportCatalogCsv,
    InvalidInput,
    Permission,
    export_catalog_csv,
    import_catalog_csv,
)
from webapp.pages.admin.console import accepts_upload, bp, page, staff, staff_page
from webapp.pages.admin.forms import FormReader, FormState, refusal_status
from webapp.pages.admin.products import catalogue_changed
from webapp.request_ports import container, request_uow

__all__ = ["catalog_csv"]

_ROW_FIELD = re.compile(r"^row (\d+)(?:\.(.+))?$")


@bp.get("/catalog")
@staff_page(Permission.CATALOG_WRITE)
def catalog_csv() -> Response:
    return page("admin/catalog_csv.html", form=FormState("import", {"dry_run": "true"}))


@bp.get("/catalog/export.csv")
@staff_page(Permission.CATALOG_WRITE)
def catalog_export() -> Response:
    text = export_catalog_csv(request_uow(), staff().id)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="catalog.csv"'
    return response


@bp.post("/catalog/import")
@accepts_upload(MAX_IMPORT_BYTES)
@staff_page(Permission.CATALOG_WRITE)
def catalog_import() -> Response:
    form = FormState.from_post("import")
    read = FormReader()
    upload = read.file("file")
    dry_run = read.flag("dry_run")
    data = b"" if upload is None else upload.stream.read(MAX_IMPORT_BYTES + 1)
    try:
        read.finish()
        report = import_catalog_csv(
            ImportCatalogCsv(staff().id, data, dry_run=dry_run, ip=request.remote_addr),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        problems = _problems(error) if isinstance(error, InvalidInput) else []
        status = refusal_status(error, form) if not problems else 422
        if problems:
            form.messages.append(error.detail)
        return page("admin/catalog_csv.html", status=status, form=form, problems=problems)
    if not report.dry_run:
        catalogue_changed()
    return page("admin/catalog_csv.html", form=form, report=report)


def _problems(error: InvalidInput) -> list[tuple[str, str, str]]:
    """The rows' problems as (row, column, problem); none if the error is not about rows."""
    rows = []
    for problem in error.errors:
        found = _ROW_FIELD.match(problem.field)
        if found is None:
            if problem.field != "file":
                return []
            rows.append(("-", "-", problem.message))
        else:
            rows.append((found.group(1), found.group(2) or "-", problem.message))
    return rows if any(row != "-" for row, _, _ in rows) else []
