"""``GET /api/docs``: the OpenAPI document (``/api/openapi.json``) rendered by Swagger UI.

Swagger UI comes from a PyPI package (``flask-swagger-ui``, which ships Swagger UI 5's built
files; Swagger UI 4, which ``swagger-ui-bundle`` ships, cannot read OpenAPI 3.1), never from a
CDN: only its built files are used, not its blueprint, whose page has an inline script. They
are served under ``/assets/swagger-ui/`` with the first 12 hex digits of their SHA-256 in the
name and cached for a year (``immutable``), as ``webapp.assets`` serves our own. The
initialiser is our own static file (``js/api-docs.js``): no inline script.

The page lives under ``/api`` but is HTML: its failures are HTML pages
(``webapp.pages.errors.HTML_UNDER_API``), and it says its own ``Cache-Control`` (the header
names the signed-in user, so no shared cache may keep it) instead of the API's default.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, render_template, url_for

from webapp.assets import ASSET_CACHE_CONTROL
from webapp.openapi import openapi_spec
from webapp.security_headers import PAGE_POLICY, page_policy

__all__ = ["DOCS_PAGE_POLICY", "VIEWER_FILES", "bp", "install_api_docs"]

bp = Blueprint("pages_api_docs", __name__)

# The package's files the page loads; nothing else of the package is served.
VIEWER_PACKAGE = "flask_swagger_ui"
VIEWER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js")
_HASH_LENGTH = 12
_KEY = "commerce.api_docs_viewer"
_MIMETYPES = {".css": "text/css", ".js": "text/javascript"}

# The site's page policy plus ``data:`` images, for this page only (see ``api_docs``).
DOCS_PAGE_POLICY = PAGE_POLICY.replace("img-src 'self'", "img-src 'self' data:")


class ViewerFiles:
    """The viewer's files: logical name -> hashed name, and hashed name -> (bytes, digest)."""

    def __init__(self, root: Path) -> None:
        self._hashed: dict[str, str] = {}
        self._files: dict[str, tuple[bytes, str]] = {}
        for logical in VIEWER_FILES:
            data = (root / logical).read_bytes()
            digest = hashlib.sha256(data).hexdigest()[:_HASH_LENGTH]
            stem, _, suffix = logical.rpartition(".")
            hashed = f"{stem}.{digest}.{suffix}"
            self._hashed[logical] = hashed
            self._files[hashed] = (data, digest)

    @classmethod
    def from_package(cls) -> ViewerFiles:
        return cls(Path(str(resources.files(VIEWER_PACKAGE).joinpath("dist"))))

    def hashed(self, logical: str) -> str:
        return self._hashed[logical]

    def find(self, hashed: str) -> tuple[bytes, str] | None:
        return self._files.get(hashed)


def _viewer() -> ViewerFiles:
    files: ViewerFiles = current_app.extensions[_KEY]
    return files


def viewer_url(logical: str) -> str:
    return url_for("pages_api_docs.viewer_file", name=_viewer().hashed(logical))


@bp.get("/api/docs")
@page_policy(DOCS_PAGE_POLICY)
def api_docs() -> Response:
    """The viewer. Its Content-Security-Policy is the site's page policy with one addition,
    ``img-src data:``: Swagger UI's stylesheet draws its icons (the copy button, the select
    arrows) as ``data:`` SVG images, which ``img-src 'self'`` blocks. Nothing else is needed:
    React sets the viewer's styles through the DOM (``element.style``), which ``style-src
    'self'`` allows, and scripts stay ``'self'`` - no inline script, no eval. A ``data:`` image
    can run nothing, so the addition costs no script safety."""
    spec = openapi_spec()
    response = Response(
        render_template(
            "api_docs.html",
            api_title=spec["info"]["title"],
            api_version=spec["info"]["version"],
            openapi_version=spec["openapi"],
            viewer_css=viewer_url("swagger-ui.css"),
            viewer_js=viewer_url("swagger-ui-bundle.js"),
            spec_url=url_for("docs.openapi_document"),
        )
    )
    # The header shows who is signed in: this browser's only, revalidated on each visit.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/assets/swagger-ui/<name>")
def viewer_file(name: str) -> Response:
    found = _viewer().find(name)
    if found is None:
        abort(404)
    data, digest = found
    suffix = name[name.rfind(".") :]
    return current_app.response_class(
        data,
        mimetype=_MIMETYPES[suffix],
        headers={"Cache-Control": ASSET_CACHE_CONTROL, "ETag": f'"{digest}"'},
    )


def install_api_docs(app: Flask) -> None:
    """Read the viewer's files once, at start-up: a missing package fails here, not on a
    visitor's request."""
    app.extensions[_KEY] = ViewerFiles.from_package()
    app.register_blueprint(bp)
