"""Product images: the formats the shop takes, and the content-hash names they are stored under.

An upload is decoded in full and written again without its metadata (``ImageDecoder``), then
stored under the SHA-256 of those clean bytes (``ImageStore``): the same picture uploaded twice
is stored once, a stored name never changes meaning, so it may be cached forever.
"""

from __future__ import annotations

import enum
import hashlib
import re

import attrs

__all__ = [
    "IMAGE_KEY_PATTERN",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "CleanImage",
    "ImageFormat",
    "image_key",
    "is_image_key",
]

# Uploads beyond this are refused before they are decoded (413).
MAX_IMAGE_BYTES = 5 * 1024 * 1024
# 25 megapixels (a 6000 x 4000 photo fits), decoded to at most ~100 MB of RGBA: more is a decompression
# bomb or no product photo, and is refused from the image's header, before it is decoded.
MAX_IMAGE_PIXELS = 25_000_000


class ImageFormat(enum.StrEnum):
    """A format the shop stores; its value is the file extension of stored images."""

    PNG = "png"
    JPEG = "jpg"
    WEBP = "webp"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @classmethod
    def from_media_type(cls, media_type: str) -> ImageFormat | None:
        """The format of an ``image/png``, ``image/jpeg`` or ``image/webp`` body, else ``None``."""
        for image_format, known in _MEDIA_TYPES.items():
            if media_type.lower() == known:
                return image_format
        return None


_MEDIA_TYPES = {
    ImageFormat.PNG: "image/png",
    ImageFormat.JPEG: "image/jpeg",
    ImageFormat.WEBP: "image/webp",
}
# "<64 hex digits>.<extension>": the only names the media store holds or serves.
IMAGE_KEY_PATTERN = r"[0-9a-f]{64}\.(?:png|jpg|webp)"
_IMAGE_KEY = re.compile(IMAGE_KEY_PATTERN)


def image_key(data: bytes, image_format: ImageFormat) -> str:
    """The name ``data`` is stored under: its SHA-256 and the format's extension.

    >>> image_key(b"", ImageFormat.PNG)[:12], image_key(b"", ImageFormat.PNG)[-4:]
    ('e3b0c44298fc', '.png')
    """
    return f"{hashlib.sha256(data).hexdigest()}.{image_format.value}"


def is_image_key(name: str) -> bool:
    return _IMAGE_KEY.fullmatch(name) is not None


@attrs.frozen
class CleanImage:
    """An image decoded in full and encoded again: no metadata (EXIF, GPS, comments) left."""

    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")
    format: ImageFormat
    width: int
    height: int
