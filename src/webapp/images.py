"""``GET /media/w/<width>/<hash>.webp``: an uploaded product image, resized and sent as WebP.

Uploads (``webapp.media``) are kept as staff sent them, up to 25 megapixels; a product card
needs a few hundred pixels. So pages list a ``srcset`` of this path (``responsive_image``) and
browsers pick a width. Only ``RESIZE_WIDTHS`` exist - any other width is a 404, so nobody can
make the shop render and store arbitrary sizes - and an image is never enlarged: a width beyond
the original answers the original's size.

The original names its content (a SHA-256), so a resized copy never changes either: it is made
once per (hash, width), under a lock (threads of this process and other processes on the
machine, through ``flock``), written atomically to ``MEDIA_DIR/w/<width>/<hash>.webp`` - the
very path of its URL, so a web server serving ``MEDIA_DIR`` at ``/media/`` may answer it
directly and fall back to the app only when it is missing - and served for a year as
``immutable``. Before any pixel is decoded the original's size is read from its header and
refused beyond the core's ``MAX_IMAGE_PIXELS`` (a decompression bomb is never inflated).
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import attrs
from flask import Blueprint, Flask, Response, abort, current_app, request
from PIL import Image, UnidentifiedImageError

from adapters.media_store import write_atomically
from commerce_core import MAX_IMAGE_PIXELS, ImageStore, ImageTooLarge, InvalidImage
from webapp.bootstrap import Container
from webapp.config import Settings
from webapp.media import MEDIA_CACHE_CONTROL
from webapp.request_ports import CONTAINER_KEY

__all__ = [
    "RESIZE_WIDTHS",
    "ImageResizer",
    "ResponsiveImage",
    "install_resized_images",
    "resize_to_webp",
    "resizer",
    "responsive_image",
]

RESIZE_WIDTHS = (160, 320, 480, 640, 960, 1280)
_WIDTHS = {str(width): width for width in RESIZE_WIDTHS}
_RESIZED_NAME = re.compile(r"([0-9a-f]{64})\.webp")
# An uploaded image's URL, as ``ImageStore.url`` names it.
_UPLOAD_URL = re.compile(r"/media/([0-9a-f]{64})\.(?:png|jpg|webp)")
# The formats uploads are stored in, each tried in turn for a hash (the URL names no format).
_ORIGINAL_EXTENSIONS = ("jpg", "png", "webp")
_PILLOW_FORMATS = ["PNG", "JPEG", "WEBP"]
_WEBP_QUALITY = 80
# Image sizes remembered for srcset: a size never changes for a hash; bounded all the same.
_MAX_REMEMBERED_SIZES = 4096
_KEY = "commerce.image_resizer"

bp = Blueprint("media_resized", __name__)


def resize_to_webp(data: bytes, width: int, *, max_pixels: int = MAX_IMAGE_PIXELS) -> bytes:
    """``data`` (PNG, JPEG or WebP) at ``width`` pixels wide (at most its own width), as WebP.

    ``ImageTooLarge`` for more than ``max_pixels`` (read from the header, before decoding);
    ``InvalidImage`` for anything that does not decode."""
    try:
        with Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS) as image:
            original_width, original_height = image.size
            if original_width * original_height > max_pixels:
                raise ImageTooLarge.for_field(
                    "image", f"is {original_width} x {original_height} pixels, too many to resize"
                )
            target_width = min(width, original_width)
            target_height = max(1, round(original_height * target_width / original_width))
            # JPEG decodes straight at a fraction of its size when that is enough: far less work.
            image.draft("RGB", (target_width, target_height))
            has_alpha = "A" in image.mode or "transparency" in image.info
            pixels = image.convert("RGBA" if has_alpha else "RGB")
            if pixels.size != (target_width, target_height):
                pixels = pixels.resize((target_width, target_height), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            pixels.save(out, format="WEBP", quality=_WEBP_QUALITY, method=4)
            return out.getvalue()
    except InvalidImage:
        raise
    except Image.DecompressionBombError:
        raise ImageTooLarge.for_field("image", "has too many pixels") from None
    except UnidentifiedImageError:
        raise InvalidImage.for_field("image", "is not an image the shop stores") from None
    # Pillow's decoders fail in many ways (OSError, SyntaxError, ValueError ...) on bad bytes.
    except Exception:
        raise InvalidImage.for_field("image", "could not be decoded") from None


def image_size(data: bytes) -> tuple[int, int] | None:
    """An image's width and height from its header alone; ``None`` if it is not one."""
    try:
        with Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS) as image:
            return image.size
    except Exception:  # any failure here means: not an image we can describe
        return None


class ImageResizer:
    """Resized copies of the images in ``store``, made once each and kept under ``root``."""

    def __init__(self, store: ImageStore, root: Path, *, max_pixels: int = MAX_IMAGE_PIXELS):
        self.store = store
        self.root = root
        self.max_pixels = max_pixels
        # How many images this instance has resized (each (hash, width) once): for tests.
        self.resizes = 0
        self._lock = threading.Lock()
        self._sizes: OrderedDict[str, tuple[int, int] | None] = OrderedDict()
        self._sizes_lock = threading.Lock()

    def path(self, digest: str, width: int) -> Path:
        return self.root / "w" / str(width) / f"{digest}.webp"

    def resized(self, digest: str, width: int) -> bytes | None:
        """The WebP of the image ``digest`` at ``width``; ``None`` if no such image is stored."""
        target = self.path(digest, width)
        cached = _read(target)
        if cached is not None:
            return cached
        with self._exclusive(target.parent):
            cached = _read(target)  # made while this request waited for the lock
            if cached is not None:
                return cached
            original = self._original(digest)
            if original is None:
                return None
            data = resize_to_webp(original, width, max_pixels=self.max_pixels)
            write_atomically(target, data, prefix=".resize-")
            self.resizes += 1
            return data

    def size(self, digest: str) -> tuple[int, int] | None:
        """The original's width and height (remembered: they never change for a hash)."""
        with self._sizes_lock:
            if digest in self._sizes:
                self._sizes.move_to_end(digest)
                return self._sizes[digest]
        original = self._original(digest)
        size = None if original is None else image_size(original)
        with self._sizes_lock:
            self._sizes[digest] = size
            while len(self._sizes) > _MAX_REMEMBERED_SIZES:
                self._sizes.popitem(last=False)
        return size

    def _original(self, digest: str) -> bytes | None:
        for extension in _ORIGINAL_EXTENSIONS:
            data = self.store.get(f"{digest}.{extension}")
            if data is not None:
                return data
        return None

    @contextlib.contextmanager
    def _exclusive(self, folder: Path) -> Iterator[None]:
        """One resize at a time: this process's threads by a lock, other processes by
        ``flock`` on a file beside the copies. Resizing is CPU work; a burst of cold URLs then
        costs one core, not all of them."""
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.root / "w" / ".resize.lock", "a+b") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def resizer() -> ImageResizer:
    return cast(ImageResizer, current_app.extensions[_KEY])


@attrs.frozen
class ResponsiveImage:
    """What an ``<img>`` needs: ``src``, its ``srcset`` (empty: none), and a width and height
    that give the browser the aspect ratio before the image arrives."""

    src: str
    srcset: str
    width: int
    height: int


def responsive_image(image_url: str, *, width: int, height: int) -> ResponsiveImage:
    """An uploaded image (``/media/<hash>.<ext>``) gets WebP widths up to its own; anything
    else (the demo's SVG drawings, an empty URL) is used as it is, at ``width`` x ``height``."""
    match = _UPLOAD_URL.fullmatch(image_url)
    size = None if match is None else resizer().size(match.group(1))
    if match is None or size is None:
        return ResponsiveImage(image_url, "", width, height)
    digest = match.group(1)
    original_width, original_height = size
    widths = [w for w in RESIZE_WIDTHS if w <= original_width] or [RESIZE_WIDTHS[0]]
    srcset = ", ".join(f"/media/w/{w}/{digest}.webp {min(w, original_width)}w" for w in widths)
    # The default: the smallest width that covers ``width``, else the largest there is.
    chosen = next((w for w in widths if w >= width), widths[-1])
    shown_width = min(chosen, original_width)
    shown_height = max(1, round(original_height * shown_width / original_width))
    return ResponsiveImage(f"/media/w/{chosen}/{digest}.webp", srcset, shown_width, shown_height)


@bp.get("/media/w/<width>/<name>")
def resized_image(width: str, name: str) -> Response:
    pixels = _WIDTHS.get(width)
    match = _RESIZED_NAME.fullmatch(name)
    if pixels is None or match is None:
        abort(404)
    digest = match.group(1)
    headers = {
        "Cache-Control": MEDIA_CACHE_CONTROL,
        "ETag": f'"{digest}-w{pixels}"',
        "X-Content-Type-Options": "nosniff",
    }
    if request.if_none_match.contains(f"{digest}-w{pixels}"):
        # The content of a name never changes: a tag the browser has is current.
        return current_app.response_class(status=304, headers=headers)
    data = resizer().resized(digest, pixels)
    if data is None:
        abort(404)
    return current_app.response_class(data, mimetype="image/webp", headers=headers)


def install_resized_images(app: Flask) -> None:
    settings: Settings = app.config["COMMERCE_SETTINGS"]
    images = cast(Container, app.extensions[CONTAINER_KEY]).images
    app.extensions[_KEY] = ImageResizer(images, Path(settings.media_dir))
    app.register_blueprint(bp)
