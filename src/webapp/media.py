"""``GET /media/<hash>.<ext>``: the product images staff uploaded (``webapp.api.admin_catalog``).

A name is the SHA-256 of the file's bytes, so its content never changes: it is cached for a
year as ``immutable``, revalidated by that hash as a strong ETag. Only names matching the key
pattern (``is_image_key``) reach the store - anything else is a 404 - the content type comes
from the extension the shop chose (never from the bytes) and ``nosniff`` is on every answer.
Behind nginx, ``MEDIA_DIR`` may be served at ``/media/`` directly with the same headers.
"""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Flask, Response, abort, current_app, request

from commerce_core import ImageFormat, is_image_key
from webapp.request_ports import container

__all__ = ["MEDIA_CACHE_CONTROL", "install_media"]

bp = Blueprint("media", __name__)

MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"


@bp.get("/media/<name>")
def serve(name: str) -> Response:
    data = container().images.get(name) if is_image_key(name) else None
    if data is None:
        abort(404)
    digest, _, extension = name.partition(".")
    response = current_app.response_class(
        data,
        mimetype=ImageFormat(extension).media_type,
        headers={
            "Cache-Control": MEDIA_CACHE_CONTROL,
            "ETag": f'"{digest}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
    return cast(Response, response.make_conditional(request))


def install_media(app: Flask) -> None:
    app.register_blueprint(bp)
