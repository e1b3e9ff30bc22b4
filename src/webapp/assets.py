"""Static assets under content-hashed names, cached for a year.

``asset_url("css/site.css")`` (a template global) answers ``/assets/css/site.3f2a9c1b0d4e.css``:
the file's name with the first 12 hex digits of its SHA-256. The hash is computed once per process
from the files in ``webapp/static``, so a deploy that changes a file changes its URL, and
browsers and proxies may keep every URL forever (``immutable``). A name whose hash is not the
file's current one is a 404 - an old page asking for an old asset after a deploy gets nothing
stale. Product placeholder images under ``/static/`` stay where they are (their URLs are data).
"""

from __future__ import annotations

import hashlib
import mimetypes
from importlib import resources
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app

__all__ = ["ASSET_CACHE_CONTROL", "AssetManifest", "asset_url", "install_assets"]

ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
_HASH_LENGTH = 12
_EXTENSIONS = frozenset({".css", ".js", ".svg", ".png", ".webp", ".woff2", ".ico", ".map"})
_KEY = "commerce.assets"

bp = Blueprint("assets", __name__)


class AssetManifest:
    """Logical name -> hashed name, and back, for every asset file under ``root``."""

    def __init__(self, root: Path) -> None:
        self._hashed: dict[str, str] = {}
        self._files: dict[str, tuple[Path, str]] = {}
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix not in _EXTENSIONS:
                continue
            logical = path.relative_to(root).as_posix()
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()[:_HASH_LENGTH]
            stem, dot, suffix = logical.rpartition(".")
            hashed = f"{stem}.{digest}{dot}{suffix}"
            self._hashed[logical] = hashed
            self._files[hashed] = (path, digest)

    def url(self, logical: str) -> str:
        """The URL of ``logical`` (``KeyError`` for a file that is not there: a typo in a
        template fails its test, not a shopper's page)."""
        return f"/assets/{self._hashed[logical]}"

    def find(self, hashed: str) -> tuple[Path, str] | None:
        return self._files.get(hashed)


def _manifest() -> AssetManifest:
    manifest: AssetManifest = current_app.extensions[_KEY]
    return manifest


def asset_url(logical: str) -> str:
    return _manifest().url(logical)


@bp.get("/assets/<path:name>")
def serve(name: str) -> Response:
    found = _manifest().find(name)
    if found is None:
        abort(404)
    path, digest = found
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return current_app.response_class(
        path.read_bytes(),
        mimetype=mimetype,
        headers={
            "Cache-Control": ASSET_CACHE_CONTROL,
            "ETag": f'"{digest}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def install_assets(app: Flask) -> None:
    root = Path(str(resources.files("webapp").joinpath("static")))
    app.extensions[_KEY] = AssetManifest(root)
    app.jinja_env.globals["asset_url"] = asset_url
    app.register_blueprint(bp)
