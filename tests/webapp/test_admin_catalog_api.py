"""Staff manage the catalogue over HTTP, on SQLite and PostgreSQL: create, list (archived too),
edit, count stock (audited with who and why, never below zero, no update lost to a race),
archive (hidden from shoppers, refused at checkout) and upload images (decoded, stripped of
metadata, stored once per content, served immutable) - and only with catalog:write."""

from __future__ import annotations

import io
import itertools
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import pytest
from werkzeug.test import TestResponse

from commerce_core import (
    ChangeStock,
    OutOfStock,
    Register,
    Role,
    change_stock,
    create_staff_user,
    get_product,
)
from tests.support.images import CAMERA_BYTES, bomb, decoded, image_bytes, photo
from tests.support.shipping import shipped
from tests.webapp.browser import PASSWORD, Shopper, assert_problem
from tests.webapp.conftest import Catalog
from webapp.bootstrap import Container
from webapp.config import Settings

PRODUCTS = "/api/admin/products"
TEAPOT = {
    "slug": "teapot",
    "name": "Teapot",
    "description": "Glazed stoneware.\nHolds a litre.",
    "price": {"amount": 3500, "currency": "USD"},
    "stock": 3,
    "weight_grams": 900,
}


@pytest.fixture
def settings(settings_on_both_databases: Settings, tmp_path: Path) -> Settings:
    return attrs.evolve(settings_on_both_databases, media_dir=str(tmp_path / "media"))


@pytest.fixture
def media(settings: Settings) -> Path:
    return Path(settings.media_dir)


def product_of(response: TestResponse, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()["product"]
    return body


def patch(browser: Shopper, path: str, body: Any) -> TestResponse:
    return browser.client.patch(path, json=body, headers={"X-CSRF-Token": browser.csrf()})


def upload(
    browser: Shopper, slug: str, data: bytes, content_type: str = "image/png", **kwargs: Any
) -> TestResponse:
    headers = {"X-CSRF-Token": browser.csrf(), "Content-Type": content_type}
    return browser.client.post(f"{PRODUCTS}/{slug}/image", data=data, headers=headers, **kwargs)


def audit_entries(admin: Shopper, prefix: str = "product.") -> list[dict[str, Any]]:
    entries = admin.get("/api/admin/audit-log?per_page=100").get_json()["items"]
    return [e for e in reversed(entries) if e["action"].startswith(prefix)]


def staff_member(app: Any, container: Container, role: Role) -> Shopper:
    email = f"{role.value}@example.com"
    create_staff_user(
        Register(email=email, password=PASSWORD, name="Staff", role=role),
        uow=container.new_uow(),
        hasher=container.hasher,
        clock=container.clock,
        events=container.events,
    )
    browser = Shopper(app.test_client())
    assert browser.log_in(email).status_code == 200
    return browser


def test_staff_create_list_and_edit_products(admin: Shopper, catalog: Catalog) -> None:
    created = product_of(admin.post(PRODUCTS, TEAPOT), 201)
    assert {k: created[k] for k in TEAPOT} == TEAPOT
    assert (created["archived"], created["in_stock"], created["image_url"]) == (False, True, "")

    listed = admin.get(f"{PRODUCTS}?per_page=2")
    assert listed.headers["Cache-Control"] == "no-store"
    assert listed.get_json()["total"] == 3
    assert [p["slug"] for p in listed.get_json()["items"]] == ["lamp", "mug"]
    assert [p["slug"] for p in admin.get(f"{PRODUCTS}?page=2&per_page=2").get_json()["items"]] == [
        "teapot"
    ]

    edited = product_of(
        patch(
            admin,
            f"{PRODUCTS}/teapot",
            {"name": "Big teapot", "slug": "big-teapot", "price": 4200, "weight_grams": None},
        )
    )
    assert (edited["name"], edited["slug"], edited["price"], edited["weight_grams"]) == (
        "Big teapot",
        "big-teapot",
        {"amount": 4200, "currency": "USD"},
        None,
    )
    assert edited["description"] == TEAPOT["description"]
    shown = admin.get("/api/products/big-teapot").get_json()
    assert (shown["name"], shown["price"]["amount"]) == ("Big teapot", 4200)
    assert admin.get("/api/products/teapot").status_code == 404
    [create, edit] = audit_entries(admin)
    assert (create["action"], create["target"]) == ("product.create", f"product:{created['id']}")
    assert edit["details"]["changed"]["price"] == {
        "before": {"amount": 3500, "currency": "USD"},
        "after": {"amount": 4200, "currency": "USD"},
    }


def test_bad_unknown_and_conflicting_fields_are_refused(admin: Shopper, catalog: Catalog) -> None:
    body = assert_problem(
        admin.post(PRODUCTS, {"slug": "Bad Slug", "name": "", "price": 12, "stok": 4}),
        422,
        "validation_error",
    )
    assert {e["field"] for e in body["errors"]} == {"stok", "price"}
    body = assert_problem(
        admin.post(PRODUCTS, {**TEAPOT, "slug": "Bad Slug"}), 422, "validation_error"
    )
    assert [e["field"] for e in body["errors"]] == ["slug"]
    assert_problem(admin.post(PRODUCTS, {**TEAPOT, "slug": "mug"}), 409, "conflict")
    assert_problem(patch(admin, f"{PRODUCTS}/mug", {"slug": "lamp"}), 409, "conflict")
    assert_problem(patch(admin, f"{PRODUCTS}/mug", {"nmae": "Typo"}), 422, "validation_error")
    assert_problem(
        patch(admin, f"{PRODUCTS}/mug", {"price": {"amount": 100, "currency": "EUR"}}),
        422,
        "validation_error",
    )
    assert_problem(patch(admin, f"{PRODUCTS}/mug", {"price": 1.5}), 422, "validation_error")
    assert_problem(patch(admin, f"{PRODUCTS}/nothing", {"name": "X"}), 404, "not_found")
    response = admin.client.post(
        PRODUCTS, data="{}", headers={"X-CSRF-Token": admin.csrf(), "Content-Type": "text/plain"}
    )
    assert_problem(response, 415, "unsupported_media_type")
    assert [p["slug"] for p in admin.get(PRODUCTS).get_json()["items"]] == ["lamp", "mug"]
    assert audit_entries(admin) == []


def test_stock_set_and_delta_are_audited_with_who_and_why(
    admin: Shopper, catalog: Catalog, stock: Any
) -> None:
    assert (
        product_of(admin.post(f"{PRODUCTS}/mug/stock", {"set": 20, "reason": "counted"}))["stock"]
        == 20
    )
    assert (
        product_of(admin.post(f"{PRODUCTS}/mug/stock", {"add": -3, "reason": "broken"}))["stock"]
        == 17
    )
    assert stock("mug") == 17
    entries = audit_entries(admin, "product.stock")
    me = admin.get("/api/auth/me").get_json()["user"]["id"]
    assert [(e["actor"], e["target"], e["details"]) for e in entries] == [
        (
            me,
            f"product:{catalog.mug}",
            {"sku": "mug", "before": 5, "after": 20, "reason": "counted", "set": 20},
        ),
        (
            me,
            f"product:{catalog.mug}",
            {"sku": "mug", "before": 20, "after": 17, "reason": "broken", "add": -3},
        ),
    ]
    assert entries[0]["ip"] is not None


def test_stock_never_goes_below_zero_and_needs_a_reason(
    admin: Shopper, catalog: Catalog, stock: Any
) -> None:
    assert_problem(
        admin.post(f"{PRODUCTS}/lamp/stock", {"add": -2, "reason": "lost"}), 409, "out_of_stock"
    )
    for bad in (
        {"add": 1},
        {"add": 1, "reason": ""},
        {"set": 1, "add": 1, "reason": "both"},
        {"reason": "neither"},
        {"set": -1, "reason": "negative"},
        {"add": 0, "reason": "nothing"},
        {"add": "1", "reason": "text"},
    ):
        assert_problem(admin.post(f"{PRODUCTS}/lamp/stock", bad), 422, "validation_error")
    assert stock("lamp") == 1
    assert audit_entries(admin) == []


def test_an_archived_product_is_hidden_refused_at_checkout_and_can_come_back(
    admin: Shopper, shopper: Shopper, catalog: Catalog
) -> None:
    shopper.register()
    assert {p["slug"] for p in shopper.get("/api/products").get_json()["items"]} == {"lamp", "mug"}
    assert shopper.get("/api/products/mug").status_code == 200  # now in this worker's cache

    assert product_of(admin.post(f"{PRODUCTS}/mug/archive"))["archived"] is True
    # Staff changes empty this process's catalog cache: shoppers see them at once.
    assert {p["slug"] for p in shopper.get("/api/products").get_json()["items"]} == {"lamp"}
    assert_problem(shopper.get("/api/products/mug"), 404, "not_found")
    response = shopper.post(
        "/api/checkout/intent", shipped({"items": [{"product_id": catalog.mug, "quantity": 1}]})
    )
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {"field": "items", "message": f"product {catalog.mug} is no longer sold"}
    ]
    [archived] = [p for p in admin.get(PRODUCTS).get_json()["items"] if p["slug"] == "mug"]
    assert (archived["archived"], archived["stock"]) == (True, 5)

    assert product_of(admin.post(f"{PRODUCTS}/mug/unarchive"))["archived"] is False
    assert shopper.get("/api/products/mug").status_code == 200
    assert shopper.intent(catalog.mug)["status"] == "awaiting_payment"
    assert [e["action"] for e in audit_entries(admin)] == ["product.archive", "product.unarchive"]


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.SUPPORT])
def test_only_catalog_write_may_manage_products(
    app: Any, container: Container, catalog: Catalog, stock: Any, role: Role
) -> None:
    browser = staff_member(app, container, role)
    calls = [
        browser.get(PRODUCTS),
        browser.post(PRODUCTS, TEAPOT),
        patch(browser, f"{PRODUCTS}/mug", {"name": "Mine"}),
        browser.post(f"{PRODUCTS}/mug/stock", {"set": 0, "reason": "mine"}),
        browser.post(f"{PRODUCTS}/mug/archive"),
        browser.post(f"{PRODUCTS}/mug/unarchive"),
        upload(browser, "mug", image_bytes("PNG")),
    ]
    for response in calls:
        assert_problem(response, 403, "forbidden")
    mug = get_product(container.new_uow(), "mug")
    assert (mug.name, mug.stock, mug.archived, mug.image_url) == (
        "Mug",
        5,
        False,
        "/static/products/m.svg",
    )


@pytest.mark.parametrize(
    ("pillow_name", "content_type", "extension"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("WEBP", "image/webp", "webp")],
)
def test_an_uploaded_image_is_stripped_stored_and_served_immutable(
    admin: Shopper,
    shopper: Shopper,
    catalog: Catalog,
    media: Path,
    pillow_name: str,
    content_type: str,
    extension: str,
) -> None:
    original = photo(pillow_name)
    assert CAMERA_BYTES in original
    product = product_of(upload(admin, "mug", original, content_type))
    image_url = product["image_url"]
    assert image_url.startswith("/media/")
    assert image_url.endswith(f".{extension}")
    assert shopper.get("/api/products/mug").get_json()["image_url"] == image_url

    served = shopper.get(image_url)
    assert served.status_code == 200
    assert served.mimetype == content_type
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    data = served.get_data()
    assert CAMERA_BYTES not in data
    assert dict(decoded(data).getexif()) == {}
    assert decoded(data).size == (30, 40)  # turned upright by its EXIF orientation
    revalidated = shopper.get(image_url, headers={"If-None-Match": served.headers["ETag"]})
    assert revalidated.status_code == 304
    assert [p.name for p in media.iterdir()] == [image_url.removeprefix("/media/")]
    [entry] = audit_entries(admin)
    assert (entry["action"], entry["details"]["after"]) == ("product.image", image_url)


def test_the_same_image_twice_is_stored_once(admin: Shopper, catalog: Catalog, media: Path) -> None:
    picture = photo("PNG")
    first = product_of(upload(admin, "mug", picture))["image_url"]
    second = product_of(upload(admin, "lamp", picture))["image_url"]
    assert first == second
    assert len(list(media.iterdir())) == 1


@pytest.mark.parametrize(
    ("label", "data", "content_type", "status", "code"),
    [
        ("garbage", b"GIF89a not really", "image/png", 422, "invalid_image"),
        ("empty", b"", "image/png", 422, "invalid_image"),
        ("truncated", image_bytes("PNG", (300, 200))[:300], "image/png", 422, "invalid_image"),
        (
            "truncated jpeg",
            image_bytes("JPEG", (300, 200))[:900],
            "image/jpeg",
            422,
            "invalid_image",
        ),
        ("bomb", bomb(6_000), "image/png", 422, "image_too_large"),
        ("gif", image_bytes("GIF"), "image/png", 422, "unsupported_image_format"),
        ("jpeg as png", image_bytes("JPEG"), "image/png", 422, "unsupported_image_format"),
        (
            "svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            "image/svg+xml",
            415,
            "unsupported_media_type",
        ),
        ("json", b"{}", "application/json", 415, "unsupported_media_type"),
        ("too big", b"\x89PNG" + b"\0" * (5 * 1024 * 1024), "image/png", 413, "payload_too_large"),
    ],
)
def test_what_is_not_an_acceptable_image_is_refused_and_changes_nothing(
    admin: Shopper,
    catalog: Catalog,
    media: Path,
    label: str,
    data: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    assert_problem(upload(admin, "mug", data, content_type), status, code)
    assert admin.get("/api/products/mug").get_json()["image_url"] == "/static/products/m.svg"
    assert not media.exists() or list(media.iterdir()) == []
    assert audit_entries(admin) == []


def test_an_oversized_chunked_upload_is_413_and_one_at_the_limit_is_read(
    admin: Shopper, catalog: Catalog
) -> None:
    chunked = {"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}
    limit = 5 * 1024 * 1024
    for size, status, code in (
        (limit + 1, 413, "payload_too_large"),
        (limit, 422, "invalid_image"),
    ):
        response = upload(
            admin,
            "mug",
            b"",
            input_stream=io.BytesIO(b"\0" * size),
            environ_overrides=chunked,
        )
        assert_problem(response, status, code)


def test_an_image_for_an_unknown_product_is_404(admin: Shopper, media: Path) -> None:
    assert_problem(upload(admin, "no-such-product", photo("PNG")), 404, "not_found")
    assert not media.exists()


def test_only_names_of_stored_images_are_served(
    admin: Shopper, shopper: Shopper, catalog: Catalog, media: Path
) -> None:
    image_url = product_of(upload(admin, "mug", photo("PNG")))["image_url"]
    name = image_url.removeprefix("/media/")
    (media / "notes.txt").write_text("private")
    for path in (
        "/media/notes.txt",
        f"/media/{name.upper()}",
        f"/media/{name[:-4]}.gif",
        f"/media/{'0' * 64}.png",
        "/media/..%2Fcommerce.db",
        f"/media/%2E%2E/{name}",
    ):
        assert shopper.get(path).status_code == 404, path


@pytest.mark.postgres
def test_concurrent_stock_changes_never_lose_an_update_or_go_negative(
    settings_on_both_databases: Settings, container: Container, admin: Shopper, catalog: Catalog
) -> None:
    if settings_on_both_databases.is_sqlite:
        pytest.skip("row locks race on PostgreSQL; SQLite serialises its writers")
    admin_id = admin.get("/api/auth/me").get_json()["user"]["id"]
    slug, start = "mug", 5
    deltas = [-1] * 12 + [+1] * 4 + [-2] * 4
    outcomes: Counter[str] = Counter()
    applied: list[int] = []
    barrier = threading.Barrier(len(deltas))
    lock = threading.Lock()

    def move(delta: int) -> None:
        barrier.wait()
        try:
            change_stock(
                ChangeStock(admin_id, slug, f"race {delta}", add=delta),
                uow=container.new_uow(),
                clock=container.clock,
            )
        except OutOfStock:
            with lock:
                outcomes["refused"] += 1
            return
        with lock:
            outcomes["applied"] += 1
            applied.append(delta)

    threads = [threading.Thread(target=move, args=(delta,)) for delta in deltas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    final = get_product(container.new_uow(), slug).stock
    assert final == start + sum(applied)  # no update lost
    assert final >= 0
    assert outcomes["refused"] > 0  # the race really reached zero
    entries = audit_entries(admin, "product.stock")
    assert len(entries) == len(applied)
    # Under the row lock the changes ran one after another: each starts where the last ended.
    chain = [(e["details"]["before"], e["details"]["after"]) for e in entries]
    assert chain[0][0] == start
    assert chain[-1][1] == final
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chain))
    assert all(after >= 0 for _, after in chain)
