"""``InMemoryImageStore`` and ``FakeImageDecoder``: the image ports without files or Pillow.

``FakeImageDecoder`` takes ``fake_image(format)`` bytes as a valid image of that format (its
"metadata" after a ``|`` is dropped, as a real decoder drops EXIF) and refuses anything else
the way the real one does, so use cases are tested against every outcome in memory.
"""

from __future__ import annotations

import threading

from commerce_core.domain.images import (
    MAX_IMAGE_PIXELS,
    CleanImage,
    ImageFormat,
    image_key,
    is_image_key,
)
from commerce_core.errors import ImageTooLarge, InvalidImage, UnsupportedImageFormat

__all__ = ["FakeImageDecoder", "InMemoryImageStore", "fake_image"]

_MAGIC = b"FAKEIMG:"


def fake_image(
    image_format: ImageFormat | str,
    *,
    width: int = 4,
    height: int = 3,
    metadata: bytes = b"",
) -> bytes:
    """Bytes ``FakeImageDecoder`` reads as an image (a format it does not take: a string)."""
    name = image_format.value if isinstance(image_format, ImageFormat) else image_format
    return _MAGIC + f"{name}:{width}x{height}".encode() + (b"|" + metadata if metadata else b"")


class FakeImageDecoder:
    """An ``ImageDecoder`` over ``fake_image`` bytes. ``calls`` counts what it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def clean(self, data: bytes, expected: ImageFormat) -> CleanImage:
        self.calls += 1
        if not data.startswith(_MAGIC):
            raise InvalidImage.for_field("image", "is not an image")
        head = data[len(_MAGIC) :].split(b"|", 1)[0].decode("ascii", "replace")
        name, _, size = head.partition(":")
        width, _, height = size.partition("x")
        if not (width.isdigit() and height.isdigit()):
            raise InvalidImage.for_field("image", "is cut short")
        if name not in {f.value for f in ImageFormat}:
            raise UnsupportedImageFormat.for_field("image", f"{name} images are not taken")
        if ImageFormat(name) is not expected:
            raise UnsupportedImageFormat.for_field(
                "image", f"is {name}, not the {expected.media_type} it was sent as"
            )
        if int(width) * int(height) > MAX_IMAGE_PIXELS:
            raise ImageTooLarge.for_field("image", "has too many pixels")
        clean = fake_image(expected, width=int(width), height=int(height))
        return CleanImage(clean, expected, int(width), int(height))


class InMemoryImageStore:
    """An ``ImageStore`` in a dict; URLs under ``base_url``. ``puts`` counts every ``put``."""

    def __init__(self, base_url: str = "/media/") -> None:
        self.base_url = base_url
        self.images: dict[str, bytes] = {}
        self.puts = 0
        self._lock = threading.Lock()

    def put(self, data: bytes, image_format: ImageFormat) -> str:
        key = image_key(data, image_format)
        with self._lock:
            self.puts += 1
            self.images.setdefault(key, bytes(data))
        return key

    def get(self, key: str) -> bytes | None:
        if not is_image_key(key):
            return None
        with self._lock:
            return self.images.get(key)

    def url(self, key: str) -> str:
        return self.base_url + key
