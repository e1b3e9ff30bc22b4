"""Where a ``next`` parameter may send the browser: a path on this site, nothing else.

An open redirect on a login page turns the shop's own link into a phishing link
(``/login?next=//evil.example`` signs in, then lands on a look-alike). Browsers are lenient in
ways a naive ``startswith("/")`` misses: ``//evil.example`` and ``/\\evil.example`` are
scheme-relative URLs to another host, tabs and newlines are dropped from URLs
(``/\\t/evil.example`` becomes ``//evil.example``), and ``https:evil.example`` or
``javascript:...`` are not paths at all. So a target is accepted only if it is a plain absolute
path - a single leading ``/``, no scheme, no host, no backslash, no control or whitespace
character - and stays one (whitespace aside) however many times it is percent-decoded (a proxy
or a later redirect may decode ``/%2F%2Fevil.example`` into ``//evil.example``). Anything else
falls back to the default, silently: telling an attacker which bypass failed helps nobody.

Absolute URLs are refused even when they name this shop's own host: the host a request names is
the client's word, and every legitimate link can say the same thing as a path.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

__all__ = ["DEFAULT_NEXT", "MAX_NEXT_LENGTH", "safe_next"]

DEFAULT_NEXT = "/"
MAX_NEXT_LENGTH = 2000
# Percent-decoding this many times and still finding a safe path is enough: each round undoes
# one layer of encoding, and nothing legitimate is encoded three times over.
_DECODING_ROUNDS = 3


def _is_plain_path(candidate: str, *, decoded: bool) -> bool:
    if not candidate.startswith("/") or candidate.startswith("//"):
        return False
    if "\\" in candidate:
        return False
    # Controls (tab, CR, LF, NUL ...) and DEL: browsers strip or split on them. Whitespace is
    # refused as sent (it is never valid in a URL) but fine once decoded (``q=blue%20mug``).
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate):
        return False
    if not decoded and any(ch.isspace() for ch in candidate):
        return False
    parts = urlsplit(candidate)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default: str = DEFAULT_NEXT) -> str:
    """``target`` if it is a same-site path (see the module's rules), else ``default``."""
    if not target or len(target) > MAX_NEXT_LENGTH or not _is_plain_path(target, decoded=False):
        return default
    decoded = target
    for _ in range(_DECODING_ROUNDS):
        decoded = unquote(decoded)
        if not _is_plain_path(decoded, decoded=True):
            return default
    return target
