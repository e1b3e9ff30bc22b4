"""Staff export the catalogue as CSV and import it back (``commerce_core`` ``catalog_csv``).

The export is a download (``text/csv``, an attachment named ``catalog.csv``, never cached). The
import takes the file itself as the request body - ``Content-Type: text/csv`` in UTF-8
(anything else: 415), at most ``MAX_IMPORT_BYTES`` (413, also chunked) - and answers
``{report}``, or a 422 naming every problem as ``row <n>.<column>`` with nothing imported.
``?dry_run=true`` checks and reports without writing.

Both declare ``catalog:write``; the use cases check it again and audit every change. A real
import empties this process's rendered-catalog cache, as every other catalogue change does.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from commerce_core import (
    MAX_IMPORT_BYTES,
    ImportCatalogCsv,
    Permission,
    export_catalog_csv,
    import_catalog_csv,
)
from webapp.api.responses import json_response
from webapp.catalog_cache import catalog_cache
from webapp.payloads import request_body
from webapp.problems import ApiProblem
from webapp.query_reader import QueryReader
from webapp.request_ports import container, request_uow
from webapp.sessions import permission_required, require_user

__all__ = ["CSV_MEDIA_TYPE", "bp"]

bp = Blueprint("admin_catalog_csv", __name__, url_prefix="/api/admin/catalog")

CSV_MEDIA_TYPE = "text/csv"
_UTF8 = {"utf-8", "utf8"}


@bp.get("/export")
@permission_required(Permission.CATALOG_WRITE)
def export() -> Response:
    text = export_catalog_csv(request_uow(), require_user().id)
    response = Response(text, mimetype=CSV_MEDIA_TYPE)  # Flask adds "; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="catalog.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/import")
@permission_required(Permission.CATALOG_WRITE)
def import_csv() -> Response:
    actor_id = require_user().id
    query = QueryReader()
    dry_run = query.boolean("dry_run")
    query.finish()
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if request.mimetype != CSV_MEDIA_TYPE or charset not in _UTF8:
        # Before the body is read: a form post or a JSON body is refused without parsing it.
        raise ApiProblem(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "send the CSV file itself as the body, as text/csv in UTF-8",
        )
    data = request_body(MAX_IMPORT_BYTES)
    report = import_catalog_csv(
        ImportCatalogCsv(actor_id, data, dry_run=bool(dry_run), ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    if not report.dry_run:
        # The public catalog renders from the database again from now on, in this process.
        catalog_cache().clear()
    return json_response({"report": report.to_primitive()})
