"""Seeding the catalogue's structure: categories, attribute definitions, and which categories and
attribute values the seeded products have (the demo's, or a deployment's own).

Like ``configure_shipping``, it adds what the shop does not have yet and leaves alone what is
there (perhaps edited by staff since), so running it twice changes nothing: categories by slug,
attributes by code, and a product's categories (or values) only while it has none.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from commerce_core.domain.attributes import AttributeDefinition, parse_attribute_values
from commerce_core.domain.categories import Category, check_placement
from commerce_core.domain.ids import new_id
from commerce_core.errors import InvalidInput
from commerce_core.ports import UnitOfWork

__all__ = ["CatalogSetup", "CatalogSetupReport", "NewCategory", "configure_catalog"]


@attrs.frozen
class NewCategory:
    slug: str
    name: str
    parent: str | None = None  # the parent's slug, listed before this one
    description: str = ""
    position: int = 0


@attrs.frozen
class CatalogSetup:
    categories: tuple[NewCategory, ...] = ()
    attributes: tuple[AttributeDefinition, ...] = ()
    # Product slug -> its category slugs / its attribute values (code -> raw value).
    product_categories: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    product_attributes: Mapping[str, Mapping[str, object]] = attrs.field(factory=dict)


@attrs.frozen
class CatalogSetupReport:
    categories: int
    attributes: int
    products: int


def configure_catalog(uow: UnitOfWork, setup: CatalogSetup) -> CatalogSetupReport:
    """Add what ``setup`` has that the shop has not; how many categories and attributes were
    added, and how many products were given categories or values. A product ``setup`` names
    that the catalog lacks is ``InvalidInput``."""
    added_categories = added_attributes = products_filled = 0
    with uow:
        everything = uow.categories.all()
        by_slug = {c.slug: c for c in everything}
        for new in setup.categories:
            if new.slug in by_slug:
                continue
            parent = None if new.parent is None else by_slug.get(new.parent)
            if new.parent is not None and parent is None:
                raise InvalidInput(f"category {new.slug!r}: no parent {new.parent!r} before it")
            category = Category(
                id=new_id("cat"),
                slug=new.slug,
                name=new.name,
                parent_id=None if parent is None else parent.id,
                description=new.description,
                position=new.position,
            )
            check_placement(everything, category)
            uow.categories.save(category)
            everything.append(category)
            by_slug[category.slug] = category
            added_categories += 1
        definitions = {d.code: d for d in uow.attributes.definitions()}
        for definition in setup.attributes:
            if definition.code not in definitions:
                uow.attributes.save_definition(definition)
                definitions[definition.code] = definition
                added_attributes += 1
        slugs = sorted({*setup.product_categories, *setup.product_attributes})
        for slug in slugs:
            product = uow.products.get_by_slug(slug)
            if product is None:
                raise InvalidInput(f"the catalog setup names an unknown product {slug!r}")
            filled = False
            wanted = setup.product_categories.get(slug)
            if wanted and not uow.categories.categories_of([product.id]):
                unknown = [s for s in wanted if s not in by_slug]
                if unknown:
                    raise InvalidInput(f"product {slug!r}: no category {unknown[0]!r}")
                uow.categories.set_product_categories(
                    product.id, sorted({by_slug[s].id for s in wanted})
                )
                filled = True
            raw = setup.product_attributes.get(slug)
            if raw and not uow.attributes.values_of([product.id]):
                uow.attributes.set_values(
                    product.id, parse_attribute_values(definitions, dict(raw))
                )
                filled = True
            products_filled += filled
        uow.commit()
    return CatalogSetupReport(added_categories, added_attributes, products_filled)
