"""A small per-app cache of rendered catalog answers: body bytes and ETag by path + query string.

The public catalog is the same for every visitor, and most of its cost is the database read and
the rendering, not Flask. So each app instance (one per gunicorn worker) keeps the last rendered
bytes of each catalog URL for ``ttl`` seconds: within that second a 200 is served from memory and
an ``If-None-Match`` naming the cached tag is a 304 - neither touches the database.

Stock shown may therefore be up to ``ttl`` seconds older than the database (on top of the
``Cache-Control: max-age`` that browsers and proxies may already reuse it for). Nothing relies on
the catalog's stock figure for correctness: checkout re-reads the products under row locks.

Thread-safe (gthread workers share one app instance), bounded (least recently used entries go
first), and owned by the app (``app.extensions``), never a module global, so apps in one process
(tests) never see each other's catalog.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import cast

import attrs
from flask import current_app

__all__ = [
    "CATALOG_CACHE_KEY",
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_TTL_SECONDS",
    "CachedPage",
    "CatalogCache",
    "catalog_cache",
]

CATALOG_CACHE_KEY = "commerce.catalog_cache"
# Short: a sale changes the stock shown. Well under the catalog's Cache-Control max-age.
DEFAULT_TTL_SECONDS = 1.0
# The listing's pages and searches plus the product pages of a modest catalog; beyond that the
# least recently used answers are rendered again, which costs what it did without a cache.
# Worst case per worker: this many pages of at most 100 products (~25 KB each), ~6 MB.
DEFAULT_MAX_ENTRIES = 256


@attrs.frozen
class CachedPage:
    body: bytes
    etag: str
    # When the database read behind ``body`` began (on the cache's clock): its age counts from
    # there, so a slow render does not extend how stale the answer may be.
    read_at: float


class CatalogCache:
    """Rendered catalog answers for ``ttl`` seconds each, at most ``max_entries`` of them;
    ``ttl=0`` turns the cache off.

    >>> now = [0.0]
    >>> cache = CatalogCache(ttl=1.0, clock=lambda: now[0])
    >>> _ = cache.put("/api/products?", b"{}", "tag", read_at=cache.now())
    >>> cache.get("/api/products?").etag
    'tag'
    >>> now[0] = 1.0
    >>> cache.get("/api/products?") is None
    True
    """

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("ttl must be >= 0 and max_entries >= 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._pages: OrderedDict[str, CachedPage] = OrderedDict()

    def now(self) -> float:
        return self._clock()

    def get(self, key: str) -> CachedPage | None:
        if self.ttl <= 0:
            return None
        now = self._clock()
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if now - page.read_at >= self.ttl:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: str, body: bytes, etag: str, *, read_at: float) -> CachedPage:
        page = CachedPage(body, etag, read_at)
        if self.ttl <= 0:
            return page
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)
        return page

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._pages)


def catalog_cache() -> CatalogCache:
    return cast(CatalogCache, current_app.extensions[CATALOG_CACHE_KEY])
