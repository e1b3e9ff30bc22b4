"""Real image files for the upload tests, made with Pillow: photos carrying EXIF with a GPS
position and a camera name, cut-short files, and decompression bombs."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

CAMERA = "SpyCam 3000"
# What EXIF metadata looks like in the file: the camera's name is stored as plain text.
CAMERA_BYTES = CAMERA.encode()


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    exif[0x0112] = 6  # Orientation: rotated 90 degrees
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = (52.0, 31.0, 12.0)  # GPSLatitude
    return exif


def image_bytes(
    image_format: str, size: tuple[int, int] = (40, 30), mode: str = "RGB", **options: Any
) -> bytes:
    out = io.BytesIO()
    colour: Any = (200, 30, 30) if mode.startswith("RGB") else 128
    Image.new(mode, size, colour).save(out, format=image_format, **options)
    return out.getvalue()


def photo(image_format: str = "JPEG", size: tuple[int, int] = (40, 30)) -> bytes:
    """A small photo with EXIF (camera, orientation, GPS position)."""
    options: dict[str, Any] = {"exif": exif_with_gps().tobytes()}
    if image_format == "JPEG":
        options["comment"] = b"taken at home"
    return image_bytes(image_format, size, **options)


def bomb(pixels_wide: int = 6_000) -> bytes:
    """A PNG of ``pixels_wide``² one-bit pixels: tiny as a file, huge decoded."""
    return image_bytes("PNG", (pixels_wide, pixels_wide), mode="1")


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
