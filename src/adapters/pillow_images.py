"""``PillowImageDecoder``: the ``ImageDecoder`` port with Pillow.

An upload is opened only with the decoders of the formats the shop takes (PNG, JPEG, WebP), its
size read from the header and refused beyond ``MAX_IMAGE_PIXELS`` before any pixel is decoded
(a decompression bomb is never inflated), then decoded in full - Pillow refuses a truncated
file rather than padding it (``ImageFile.LOAD_TRUNCATED_IMAGES`` stays off) - turned upright by
its EXIF orientation, and encoded anew from the pixels alone: EXIF (GPS position, camera,
time), XMP, comments and colour profiles are gone. An animation keeps its first frame.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from commerce_core import (
    MAX_IMAGE_PIXELS,
    CleanImage,
    ImageFormat,
    ImageTooLarge,
    InvalidImage,
    UnsupportedImageFormat,
)

__all__ = ["PillowImageDecoder"]

_PILLOW_NAMES = {ImageFormat.PNG: "PNG", ImageFormat.JPEG: "JPEG", ImageFormat.WEBP: "WEBP"}
_FORMATS = {name: image_format for image_format, name in _PILLOW_NAMES.items()}
# The modes each format stores as they are; any other is converted to RGB(A).
_KEPT_MODES = {
    ImageFormat.PNG: {"1", "L", "LA", "RGB", "RGBA"},
    ImageFormat.JPEG: {"L", "RGB"},
    ImageFormat.WEBP: {"RGB", "RGBA"},
}
_ENCODER_OPTIONS: dict[ImageFormat, dict[str, object]] = {
    ImageFormat.PNG: {},
    ImageFormat.JPEG: {"quality": 90},
    ImageFormat.WEBP: {"quality": 90},
}


class PillowImageDecoder:
    def __init__(self, max_pixels: int = MAX_IMAGE_PIXELS) -> None:
        self.max_pixels = max_pixels

    def clean(self, data: bytes, expected: ImageFormat) -> CleanImage:
        try:
            with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as probe:
                found = _FORMATS[str(probe.format)]
                if probe.width * probe.height > self.max_pixels:
                    raise ImageTooLarge.for_field(
                        "image",
                        f"is {probe.width} x {probe.height} pixels; at most "
                        f"{self.max_pixels} pixels are taken",
                    )
                if found is not expected:
                    raise UnsupportedImageFormat.for_field(
                        "image",
                        f"is {found.media_type}, not the {expected.media_type} it was sent as",
                    )
                # The file's structure to its end (a PNG's chunks and their checksums, up to
                # IEND): decoding alone stops once it has the pixels it needs.
                probe.verify()
            with Image.open(io.BytesIO(data), formats=[_PILLOW_NAMES[found]]) as image:
                image.load()
                return self._encoded(image, found)
        except InvalidImage:
            raise
        except Image.DecompressionBombError:
            raise ImageTooLarge.for_field("image", "has too many pixels") from None
        except UnidentifiedImageError:
            raise self._not_taken(data) from None
        # Pillow's decoders answer hostile bytes with many exception types (OSError,
        # SyntaxError, ValueError, struct.error, EOFError ...): each means "not a whole image".
        except Exception:
            raise InvalidImage.for_field("image", "could not be decoded in full") from None

    def _encoded(self, image: Image.Image, image_format: ImageFormat) -> CleanImage:
        upright = ImageOps.exif_transpose(image)
        has_alpha = "A" in upright.mode or "transparency" in upright.info
        if upright.mode not in _KEPT_MODES[image_format]:
            alpha = has_alpha and image_format is not ImageFormat.JPEG
            upright = upright.convert("RGBA" if alpha else "RGB")
        # Encoders read some metadata from ``info`` (a JPEG's comment, a PNG's colour profile):
        # with it empty, only what is passed below is written.
        upright.info = {}
        out = io.BytesIO()
        upright.save(out, format=_PILLOW_NAMES[image_format], **_ENCODER_OPTIONS[image_format])
        return CleanImage(out.getvalue(), image_format, upright.width, upright.height)

    @staticmethod
    def _not_taken(data: bytes) -> InvalidImage:
        """Why bytes none of the shop's decoders read are refused: another format, or none."""
        try:
            with Image.open(io.BytesIO(data)) as other:  # the header only, never decoded
                name = other.format or "this"
        except Exception:  # any failure here means: not an image at all
            return InvalidImage.for_field("image", "is not an image")
        return UnsupportedImageFormat.for_field(
            "image", f"{name} images are not taken; send PNG, JPEG or WebP"
        )
