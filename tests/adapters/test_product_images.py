"""Product images on disk and through Pillow: the file system store keeps the ``ImageStore``
contract and never leaves its directory; the decoder takes whole PNG, JPEG and WebP images,
strips their metadata (EXIF, GPS, comments) and refuses everything else with a stable code."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.media_store import FileSystemImageStore
from adapters.pillow_images import PillowImageDecoder
from commerce_core import (
    ImageFormat,
    ImageTooLarge,
    InvalidImage,
    UnsupportedImageFormat,
    image_key,
)
from commerce_core.testing.contracts import ImageStoreContract
from tests.support.images import CAMERA_BYTES, bomb, decoded, image_bytes, photo


class TestFileSystemImageStore(ImageStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> FileSystemImageStore:
        return FileSystemImageStore(tmp_path / "media")


def test_the_store_writes_one_readable_file_per_image_and_no_leftovers(tmp_path: Path) -> None:
    store = FileSystemImageStore(tmp_path / "media", base_url="https://cdn.example/m/")
    key = store.put(b"picture", ImageFormat.WEBP)
    store.put(b"picture", ImageFormat.WEBP)
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == [key]
    assert (tmp_path / "media" / key).stat().st_mode & 0o777 == 0o644
    assert store.url(key) == f"https://cdn.example/m/{key}"


def test_the_store_reads_nothing_outside_its_directory(tmp_path: Path) -> None:
    secret = tmp_path / ("a" * 64 + ".png")
    secret.write_bytes(b"outside")
    store = FileSystemImageStore(tmp_path / "media")
    store.put(b"inside", ImageFormat.PNG)
    assert store.get(secret.name) is None
    assert store.get(f"../{secret.name}") is None


@pytest.fixture
def decoder() -> PillowImageDecoder:
    return PillowImageDecoder()


@pytest.mark.parametrize(
    ("pillow_name", "image_format"),
    [("PNG", ImageFormat.PNG), ("JPEG", ImageFormat.JPEG), ("WEBP", ImageFormat.WEBP)],
)
def test_exif_gps_and_comments_are_gone_and_the_photo_is_upright(
    decoder: PillowImageDecoder, pillow_name: str, image_format: ImageFormat
) -> None:
    original = photo(pillow_name)
    assert CAMERA_BYTES in original
    clean = decoder.clean(original, image_format)
    assert clean.format is image_format
    assert CAMERA_BYTES not in clean.data
    assert b"taken at home" not in clean.data
    image = decoded(clean.data)
    assert image.format == pillow_name
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info
    # EXIF said "rotated 90 degrees": the pixels are turned upright before it is dropped.
    assert (clean.width, clean.height) == image.size == (30, 40)


def test_a_clean_image_cleans_to_the_same_bytes(decoder: PillowImageDecoder) -> None:
    once = decoder.clean(image_bytes("PNG"), ImageFormat.PNG).data
    assert decoder.clean(once, ImageFormat.PNG).data == once
    assert image_key(once, ImageFormat.PNG).endswith(".png")


@pytest.mark.parametrize(
    ("pillow_name", "mode"),
    [("PNG", "1"), ("PNG", "L"), ("PNG", "LA"), ("PNG", "P"), ("PNG", "I;16"), ("JPEG", "CMYK")],
)
def test_other_colour_modes_are_taken(
    decoder: PillowImageDecoder, pillow_name: str, mode: str
) -> None:
    image_format = ImageFormat.JPEG if pillow_name == "JPEG" else ImageFormat.PNG
    clean = decoder.clean(image_bytes(pillow_name, mode=mode), image_format)
    assert decoded(clean.data).size == (40, 30)


@pytest.mark.parametrize(
    ("label", "data", "sent_as", "error", "code"),
    [
        ("garbage", b"this is not an image at all", ImageFormat.PNG, InvalidImage, "invalid_image"),
        ("empty", b"", ImageFormat.JPEG, InvalidImage, "invalid_image"),
        ("html", b"<svg onload=alert(1)>", ImageFormat.PNG, InvalidImage, "invalid_image"),
        (
            "gif",
            image_bytes("GIF"),
            ImageFormat.PNG,
            UnsupportedImageFormat,
            "unsupported_image_format",
        ),
        (
            "bmp",
            image_bytes("BMP"),
            ImageFormat.PNG,
            UnsupportedImageFormat,
            "unsupported_image_format",
        ),
        (
            "jpeg sent as png",
            image_bytes("JPEG"),
            ImageFormat.PNG,
            UnsupportedImageFormat,
            "unsupported_image_format",
        ),
    ],
)
def test_what_is_not_a_whole_image_of_a_taken_format_is_refused_with_a_stable_code(
    decoder: PillowImageDecoder,
    label: str,
    data: bytes,
    sent_as: ImageFormat,
    error: type[InvalidImage],
    code: str,
) -> None:
    with pytest.raises(error) as caught:
        decoder.clean(data, sent_as)
    assert caught.value.code == code, label
    assert caught.value.errors[0].field == "image"


@pytest.mark.parametrize(
    ("pillow_name", "image_format"),
    [("PNG", ImageFormat.PNG), ("JPEG", ImageFormat.JPEG), ("WEBP", ImageFormat.WEBP)],
)
def test_a_truncated_image_is_refused(
    decoder: PillowImageDecoder, pillow_name: str, image_format: ImageFormat
) -> None:
    whole = image_bytes(pillow_name, size=(300, 200))
    for cut in (len(whole) // 2, len(whole) - 20):
        with pytest.raises(InvalidImage) as caught:
            decoder.clean(whole[:cut], image_format)
        assert caught.value.code == "invalid_image"


def test_a_decompression_bomb_is_refused_from_its_header(decoder: PillowImageDecoder) -> None:
    small_file = bomb(6_000)  # 36 megapixels in a few kilobytes
    assert len(small_file) < 100_000
    with pytest.raises(ImageTooLarge) as caught:
        decoder.clean(small_file, ImageFormat.PNG)
    assert caught.value.code == "image_too_large"


def test_a_bomb_past_pillows_own_limit_is_image_too_large_too(
    decoder: PillowImageDecoder,
) -> None:
    with pytest.raises(ImageTooLarge):
        decoder.clean(bomb(20_000), ImageFormat.PNG)  # 400 megapixels


def test_the_pixel_limit_is_the_decoders_own(tmp_path: Path) -> None:
    with pytest.raises(ImageTooLarge):
        PillowImageDecoder(max_pixels=100).clean(image_bytes("PNG", (11, 10)), ImageFormat.PNG)
    assert PillowImageDecoder(max_pixels=110).clean(image_bytes("PNG", (11, 10)), ImageFormat.PNG)
