"""``/media/w/<width>/<hash>.webp``: uploaded product images resized to an allowed width as WebP,
made once and kept under MEDIA_DIR, cached forever, never enlarged, bombs refused; and the
catalogue's cards and product page offering them in ``srcset``."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import attrs
import pytest
from flask import Flask
from PIL import Image

from commerce_core import ImageFormat
from tests.support.images import bomb, image_bytes
from tests.webapp.browser import Shopper
from tests.webapp.conftest import Catalog
from tests.webapp.html_page import parse
from webapp.bootstrap import Container
from webapp.config import Settings
from webapp.images import RESIZE_WIDTHS, ImageResizer, resizer


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return attrs.evolve(settings, media_dir=str(tmp_path / "media"))


@pytest.fixture
def media(settings: Settings) -> Path:
    return Path(settings.media_dir)


def upload(admin: Shopper, slug: str, data: bytes, content_type: str = "image/png") -> str:
    response = admin.client.post(
        f"/api/admin/products/{slug}/image",
        data=data,
        headers={"X-CSRF-Token": admin.csrf(), "Content-Type": content_type},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    image_url: str = response.get_json()["product"]["image_url"]
    return image_url


@pytest.fixture
def photo_url(admin: Shopper, catalog: Catalog) -> str:
    """The mug's photo: 1000 x 600 pixels, a PNG."""
    return upload(admin, "mug", image_bytes("PNG", (1000, 600)))


def digest_of(image_url: str) -> str:
    return image_url.removeprefix("/media/").partition(".")[0]


def the_resizer(app: Flask) -> ImageResizer:
    with app.app_context():
        return resizer()


def test_an_upload_is_served_at_an_allowed_width_as_webp(
    app: Flask, photo_url: str, media: Path
) -> None:
    digest = digest_of(photo_url)
    response = app.test_client().get(f"/media/w/320/{digest}.webp")
    assert response.status_code == 200
    assert response.mimetype == "image/webp"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(response.data))
    assert (image.format, image.size) == ("WEBP", (320, 192))
    # Kept on disk at the path of its URL (a web server may serve MEDIA_DIR directly).
    assert (media / "w" / "320" / f"{digest}.webp").read_bytes() == response.data


def test_each_width_is_made_once_then_read_back(app: Flask, photo_url: str, media: Path) -> None:
    digest = digest_of(photo_url)
    client = app.test_client()
    first = client.get(f"/media/w/480/{digest}.webp")
    assert the_resizer(app).resizes == 1
    again = client.get(f"/media/w/480/{digest}.webp")
    assert again.data == first.data
    assert the_resizer(app).resizes == 1
    # What is served is the file on disk, not a fresh resize.
    stored = media / "w" / "480" / f"{digest}.webp"
    stored.write_bytes(first.data + b"kept")
    assert client.get(f"/media/w/480/{digest}.webp").data == stored.read_bytes()
    client.get(f"/media/w/160/{digest}.webp")
    assert the_resizer(app).resizes == 2
    assert not [p for p in stored.parent.iterdir() if p.name.startswith(".resize-")]


def test_a_revalidation_is_a_304(app: Flask, photo_url: str) -> None:
    digest = digest_of(photo_url)
    client = app.test_client()
    first = client.get(f"/media/w/640/{digest}.webp")
    etag = first.headers["ETag"]
    assert etag == f'"{digest}-w640"'
    again = client.get(f"/media/w/640/{digest}.webp", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_an_image_is_never_enlarged(app: Flask, photo_url: str) -> None:
    digest = digest_of(photo_url)
    response = app.test_client().get(f"/media/w/1280/{digest}.webp")
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.data)).size == (1000, 600)


@pytest.mark.parametrize(
    "path",
    [
        "/media/w/300/{digest}.webp",  # not an allowed width
        "/media/w/0320/{digest}.webp",
        "/media/w/320.0/{digest}.webp",
        "/media/w/-320/{digest}.webp",
        "/media/w/99999999999999999999/{digest}.webp",
        "/media/w/320/{digest}.png",
        "/media/w/320/{digest}",
        "/media/w/320/{upper}.webp",
        "/media/w/320/../{digest}.webp",
        "/media/w/320/%2e%2e%2f{digest}.webp",
        "/media/w/320/" + "0" * 64 + ".webp",  # no such image
        "/media/w/320/x.webp",
    ],
)
def test_anything_else_is_a_404(app: Flask, photo_url: str, path: str, media: Path) -> None:
    digest = digest_of(photo_url)
    response = app.test_client().get(path.format(digest=digest, upper=digest.upper()))
    assert response.status_code == 404
    assert the_resizer(app).resizes == 0
    assert not (media / "w").exists() or not any((media / "w").rglob("*.webp"))


def test_a_decompression_bomb_is_refused_before_it_is_decoded(
    app: Flask, container: Container, media: Path
) -> None:
    # Planted in the store directly: uploads are refused at 25 megapixels already.
    key = container.images.put(bomb(6_000), ImageFormat.PNG)
    digest = key.partition(".")[0]
    response = app.test_client().get(f"/media/w/320/{digest}.webp")
    assert response.status_code == 422
    assert "too many" in response.get_data(as_text=True)
    assert not (media / "w" / "320" / f"{digest}.webp").exists()


def test_a_corrupt_original_is_refused(app: Flask, container: Container) -> None:
    key = container.images.put(b"\x89PNG\r\n\x1a\nnot really", ImageFormat.PNG)
    response = app.test_client().get(f"/media/w/320/{key.partition('.')[0]}.webp")
    assert response.status_code == 422


def test_two_requests_at_once_resize_once(app: Flask, photo_url: str) -> None:
    digest = digest_of(photo_url)
    start = threading.Barrier(6)
    bodies: list[bytes] = []

    def fetch() -> None:
        client = app.test_client()
        start.wait()
        bodies.append(client.get(f"/media/w/960/{digest}.webp").data)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(bodies) == 6
    assert len(set(bodies)) == 1
    assert the_resizer(app).resizes == 1


def test_jpeg_and_transparent_originals_resize_too(
    app: Flask, admin: Shopper, catalog: Catalog
) -> None:
    jpeg = upload(admin, "mug", image_bytes("JPEG", (800, 800)), "image/jpeg")
    response = app.test_client().get(f"/media/w/160/{digest_of(jpeg)}.webp")
    assert Image.open(io.BytesIO(response.data)).size == (160, 160)
    see_through = io.BytesIO()
    Image.new("RGBA", (400, 200), (200, 30, 30, 64)).save(see_through, format="PNG")
    clear = upload(admin, "lamp", see_through.getvalue())
    response = app.test_client().get(f"/media/w/320/{digest_of(clear)}.webp")
    image = Image.open(io.BytesIO(response.data))
    assert (image.size, image.mode) == ((320, 160), "RGBA")
    assert image.getchannel("A").getextrema() == (64, 64)  # still see-through


def test_cards_and_the_product_page_offer_the_widths_in_srcset(app: Flask, photo_url: str) -> None:
    digest = digest_of(photo_url)
    client = app.test_client()
    expected = [w for w in RESIZE_WIDTHS if w <= 1000]
    card_image = (
        parse(client.get("/search?q=mug").get_data(as_text=True))
        .find("li", class_="card")
        .find("img")
    )
    assert card_image["srcset"] == ", ".join(f"/media/w/{w}/{digest}.webp {w}w" for w in expected)
    assert card_image["sizes"]
    assert card_image["src"] == f"/media/w/480/{digest}.webp"
    assert (card_image["width"], card_image["height"]) == ("480", "288")  # the photo's shape
    assert card_image["loading"] == "lazy"
    for candidate in card_image["srcset"].split(", "):
        url = candidate.split(" ")[0]
        assert client.get(url).status_code == 200

    document = parse(client.get("/products/mug").get_data(as_text=True))
    gallery = document.find("img", class_="product-image")
    assert gallery["src"] == f"/media/w/960/{digest}.webp"
    assert gallery["srcset"].startswith(f"/media/w/160/{digest}.webp 160w")
    assert gallery["alt"] == "Mug"
    assert not gallery.has("loading")  # the page's main image is not deferred
    # Link previews get the original, absolute.
    og_image = next(
        m["content"] for m in document.find_all("meta") if m.get("property") == "og:image"
    )
    assert og_image.endswith(photo_url)
    assert og_image.startswith("http")


def test_an_svg_drawing_is_used_as_it_is(app: Flask, catalog: Catalog) -> None:
    image: Any = parse(app.test_client().get("/search?q=lamp").get_data(as_text=True)).find("img")
    assert image["src"] == "/static/products/l.svg"
    assert not image.has("srcset")
