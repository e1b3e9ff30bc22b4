"""A shopper browses the demo shop in Chromium: home, a category, filters (in stock, an
attribute), the linen shirt, where choosing a size and a colour changes the price and the stock
shown, and the cotton apron, whose rust colour is out of stock and cannot be added. Each page
passes axe-core and raises no Content-Security-Policy violation."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from commerce_core import Product, get_product
from tests.browser.conftest import LiveShop
from webapp.pages.money_format import format_price
from webapp.pages.shop import stock_text

Shot = Callable[[Any, str], Path]


def watch_for_trouble(page: Any) -> list[str]:
    """Console errors (a CSP refusal among them) and failed requests, as they happen."""
    trouble: list[str] = []
    page.on("console", lambda m: trouble.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: trouble.append(str(e)))
    # A lazy image still loading when the shopper moves on is aborted: not a failure.
    page.on(
        "requestfailed",
        lambda r: None if "ERR_ABORTED" in (r.failure or "") else trouble.append(r.url),
    )
    return trouble


def shown(product: Product, **options: str) -> tuple[str, str]:
    """The price and stock the page should show for the variant with ``options``, as the shop
    holds it now (other browser tests share this shop and may have sold some)."""
    variant = next(v for v in product.on_sale if v.option_values == options)
    return format_price(variant.price), stock_text(variant.stock)


def choose(page: Any, option: str, value: str | re.Pattern[str]) -> None:
    """Click the label of ``value`` in the radio group whose legend is ``option``."""
    group = page.locator("fieldset.option-group").filter(
        has=page.locator("legend", has_text=re.compile(f"^{option}$"))
    )
    name = value if isinstance(value, re.Pattern) else re.compile(f"^{value}$")
    group.locator("label", has_text=name).click()


def test_browse_filter_and_choose_a_variant(
    page: Any, live_shop: LiveShop, shot: Shot, axe: Any
) -> None:
    trouble = watch_for_trouble(page)
    shirt = get_product(live_shop.container.new_uow(), "linen-shirt")
    apron = get_product(live_shop.container.new_uow(), "cotton-apron")

    page.goto("/")
    assert page.title() == "Home · Shop"
    assert page.locator("h1").inner_text() == "Shop"
    assert page.locator("li.card").count() == 12
    shot(page, "home")
    assert axe(page) == []

    page.get_by_role("link", name=re.compile("^Clothing")).click()
    page.wait_for_url("**/categories/clothing")
    assert page.locator("h1").inner_text() == "Clothing"
    crumbs = page.get_by_role("navigation", name="Breadcrumb").get_by_role("link")
    assert crumbs.all_inner_texts() == ["Home", "Clothing"]
    shot(page, "category")
    assert axe(page) == []

    page.get_by_label("In stock only").check()
    page.get_by_role("group", name="Material").get_by_label(re.compile("^Linen")).check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"in_stock=true"))
    assert "attr%5Bmaterial%5D=Linen" in page.url or "attr[material]=Linen" in page.url
    assert page.get_by_label("In stock only").is_checked()
    assert page.locator("h3.card-name").all_inner_texts() == ["Linen Shirt"]
    assert page.locator("meta[name=robots]").get_attribute("content") == "noindex,follow"
    shot(page, "filtered")
    assert axe(page) == []

    page.get_by_role("link", name="Linen Shirt").click()
    page.wait_for_url("**/products/linen-shirt")
    price = page.locator("#product-price")
    stock = page.locator("#product-stock")
    add = page.get_by_role("button", name="Add to cart")
    # The script shows the radio groups instead of the list, and the first variant in stock.
    assert page.locator("#variant-options").is_visible()
    assert not page.locator("#variant-select").is_visible()
    assert (price.inner_text(), stock.inner_text()) == shown(shirt, size="S", colour="White")
    shot(page, "product")
    assert axe(page) == []

    choose(page, "Size", "L")
    choose(page, "Colour", "Sage")
    assert (price.inner_text(), stock.inner_text()) == shown(shirt, size="L", colour="Sage")
    assert price.inner_text() != shown(shirt, size="S", colour="White")[0]  # the price moved
    assert add.is_enabled()
    large_sage = next(v for v in shirt.on_sale if v.sku == "SHIRT-L-SAGE")
    assert page.locator("#quantity").get_attribute("max") == str(large_sage.stock)
    # The form posts the variant chosen.
    chosen = page.locator("#variant-id").input_value()
    assert page.locator(f"#variant-id option[value='{chosen}']").inner_text().startswith("L / Sage")
    shot(page, "large-sage")

    choose(page, "Size", "S")
    assert (price.inner_text(), stock.inner_text()) == shown(shirt, size="S", colour="Sage")
    choose(page, "Colour", "White")
    assert (price.inner_text(), stock.inner_text()) == shown(shirt, size="S", colour="White")
    shot(page, "small-white")
    assert axe(page) == []

    page.goto("/products/cotton-apron")
    assert price.inner_text() == shown(apron, colour="Natural")[0]
    choose(page, "Colour", re.compile("^Rust"))
    assert price.inner_text() == "$36.00"
    assert stock.inner_text() == "Out of stock"
    assert add.is_disabled()
    rust = page.locator("label", has_text="Rust")
    assert rust.locator("..").get_attribute("class") == "option option-unavailable"
    assert rust.text_content() == "Rust, out of stock"  # said, not only struck through
    assert page.get_by_role("radio", name=re.compile("^Rust.*out of stock$")).is_checked()
    shot(page, "apron-rust-out-of-stock")
    assert axe(page) == []
    choose(page, "Colour", "Indigo")
    assert add.is_enabled()
    assert stock.inner_text() == shown(apron, colour="Indigo")[1]

    # The variant the picker chose is the one the form posts.
    add.click()
    page.wait_for_url("**/cart")
    assert "Cotton Apron" in page.locator("main").inner_text()
    assert "Indigo" in page.locator("main").inner_text()
    assert page.get_by_role("navigation", name="Account").locator(".badge").inner_text() == "1"
    shot(page, "indigo-apron-in-the-cart")

    assert trouble == []


def test_without_javascript_the_variant_list_does_the_job(
    browser: Any, live_shop: LiveShop, shot: Shot
) -> None:
    context = browser.new_context(base_url=live_shop.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/products/cotton-apron")
        assert not page.locator("#variant-options").is_visible()
        select = page.get_by_label("Choose colour")
        assert select.is_visible()
        options = select.locator("option")
        apron = get_product(live_shop.container.new_uow(), "cotton-apron")
        assert options.all_inner_texts() == [
            "{}: {}, {}".format(colour, *shown(apron, colour=colour))
            for colour in ("Natural", "Indigo", "Rust")
        ]
        assert options.nth(2).inner_text() == "Rust: $36.00, Out of stock"
        assert options.nth(2).is_disabled()
        assert page.locator("#product-price").inner_text() == "From $34.00"
        shot(page, "apron-without-javascript")

        page.goto("/search?attr[material]=Linen&sort=-price")
        assert page.locator("h3.card-name").all_inner_texts() == ["Linen Shirt", "Linen Tote Bag"]
        shot(page, "search-without-javascript")
    finally:
        context.close()
