"""A page's HTML as a small tree, read with the standard library's parser: enough to find
elements by tag and attributes and read their text, as the catalogue page tests need."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

# Elements that never have content (no end tag).
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Element | str] = []

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.attrs

    @property
    def text(self) -> str:
        """The text inside, whitespace collapsed."""
        return " ".join("".join(self._texts()).split())

    def _texts(self) -> Iterator[str]:
        for child in self.children:
            if isinstance(child, str):
                yield child
            else:
                yield from child._texts()

    def iter(self) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Element]:
        """Descendants with ``tag`` whose attributes match (``class_`` for ``class``, matched
        as one of its words; ``for_`` for ``for``; ``True``: present)."""
        found = []
        for element in self.iter():
            if tag is not None and element.tag != tag:
                continue
            if all(_matches(element, name, wanted) for name, wanted in attrs.items()):
                found.append(element)
        return found

    def find(self, tag: str | None = None, **attrs: str | bool) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag}> with {attrs}"
        return found[0]

    def first(self, tag: str | None = None, **attrs: str | bool) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None


def _matches(element: Element, name: str, wanted: str | bool) -> bool:
    # ``class_``, ``for_``: Python keywords; ``aria_label``: ``aria-label``.
    attribute = name[:-1] if name.endswith("_") else name.replace("_", "-")
    if wanted is True:
        return attribute in element.attrs
    value = element.attrs.get(attribute)
    if value is None:
        return False
    if attribute == "class":
        return str(wanted) in value.split()
    return value == wanted


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v if v is not None else "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in _VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v if v is not None else "" for k, v in attrs}, self.current)
        self.current.children.append(element)

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def json_ld(document: Element) -> list[dict[str, Any]]:
    """Every JSON-LD block of the page, parsed (a block that is not JSON fails the test)."""
    return [
        json.loads(script.text)
        for script in document.find_all("script", type="application/ld+json")
    ]


def meta(document: Element, key: str) -> str | None:
    """The content of ``<meta name=key>`` or ``<meta property=key>``."""
    for element in document.find_all("meta"):
        if key in (element.get("name"), element.get("property")):
            return element.get("content")
    return None
