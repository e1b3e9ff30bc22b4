"""``/admin/categories``: the category tree, a category created or edited (by slug: a new parent
moves it, never under itself), one without sub-categories deleted - and which categories a
product is in.

The admin API's ``list_categories``, ``save_category``, ``delete_category`` and
``assign_product_categories`` (``catalog:write``, audited).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from commerce_core import (
    AssignProductCategories,
    CommerceError,
    DeleteCategory,
    Permission,
    SaveCategory,
    assign_product_categories,
    delete_category,
    list_categories,
    save_category,
)
from webapp.pages.admin.console import bp, done, every_item, page, staff, staff_page
from webapp.pages.admin.forms import FormReader, FormState, refusal_status
from webapp.pages.admin.product import product_page
from webapp.pages.admin.products import MAX_SLUG, catalogue_changed, with_depth
from webapp.request_ports import container, request_uow

__all__ = ["MAX_CATEGORY_DESCRIPTION", "MAX_CATEGORY_NAME", "categories"]

MAX_CATEGORY_NAME = 100
MAX_CATEGORY_DESCRIPTION = 2000
_CATEGORY_PREFIX = "category-"


def _tree() -> list[tuple[dict[str, Any], int]]:
    """Every category in tree order, with its depth."""
    actor = staff()
    return with_depth(every_item(lambda paging: list_categories(request_uow(), actor, paging)))


@bp.get("/categories")
@staff_page(Permission.CATALOG_WRITE)
def categories() -> Response:
    return _categories_page()


def _categories_page(
    form: FormState | None = None, tree_form: FormState | None = None, status: int = 200
) -> Response:
    tree = _tree()
    editing = request.args.get("edit") if form is None else form.value("slug")
    found = next((c for c, _ in tree if c["slug"] == editing), None)
    if form is None:
        form = FormState("category", _values(found) if found else {"position": "0"})
    parents = [("", "None (a top-level category)")] + [
        (c["slug"], ("— " * depth) + c["name"]) for c, depth in tree if c["slug"] != editing
    ]
    return page(
        "admin/categories.html",
        status=status,
        tree=tree,
        form=form,
        tree_form=tree_form or FormState("tree"),
        editing=found,
        parents=parents,
    )


def _values(category: dict[str, Any]) -> dict[str, str]:
    return {
        "slug": category["slug"],
        "name": category["name"],
        "parent": category["parent"] or "",
        "description": category["description"],
        "position": str(category["position"]),
    }


@bp.post("/categories")
@staff_page(Permission.CATALOG_WRITE)
def category_save() -> Response:
    form = FormState.from_post("category")
    read = FormReader()
    slug = read.text("slug", max_length=MAX_SLUG)
    name = read.text("name", max_length=MAX_CATEGORY_NAME)
    parent = read.optional_text("parent", max_length=MAX_SLUG)
    description = read.text(
        "description", max_length=MAX_CATEGORY_DESCRIPTION, required=False, multiline=True
    )
    position = read.whole_number("position", signed=True) or 0
    try:
        read.finish()
        saved = save_category(
            SaveCategory(
                staff().id,
                slug,
                name,
                parent=parent,
                description=description,
                position=position,
                ip=request.remote_addr,
            ),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _categories_page(form, status=refusal_status(error, form))
    catalogue_changed()
    verb = "Created" if saved.created else "Saved"
    return done("/admin/categories", f"{verb} the category {saved.value.name}.")


@bp.post("/categories/<slug>/delete")
@staff_page(Permission.CATALOG_WRITE)
def category_delete(slug: str) -> Response:
    tree_form = FormState("tree")
    try:
        delete_category(
            DeleteCategory(staff().id, slug, ip=request.remote_addr),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _categories_page(tree_form=tree_form, status=refusal_status(error, tree_form))
    catalogue_changed()
    return done("/admin/categories", f"Deleted the category {slug}.")


@bp.post("/products/<slug>/categories")
@staff_page(Permission.CATALOG_WRITE)
def product_categories(slug: str) -> Response:
    form = FormState.from_post("categories")
    chosen = tuple(
        name.removeprefix(_CATEGORY_PREFIX)
        for name in request.form
        if name.startswith(_CATEGORY_PREFIX)
    )
    try:
        assign_product_categories(
            AssignProductCategories(staff().id, slug, chosen, ip=request.remote_addr),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return product_page(slug, status=refusal_status(error, form), categories=form)
    catalogue_changed()
    count = len(chosen)
    return done(
        f"/admin/products/{slug}", f"Saved: in {count} categor{'y' if count == 1 else 'ies'}."
    )
