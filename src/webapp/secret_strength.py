"""Is a secret a random one? The checks production runs on its secrets and webhook settings.

A secret that signs sessions and CSRF tokens (``SECRET_KEY``) must be long and random; "long"
alone lets ``"a" * 48`` or ``"passwordpassword..."`` through. Randomness cannot be proven from
one sample, but the usual mistakes are easy to see: few distinct characters, a run repeated
(``passwordpassword...``), a low Shannon entropy per character (the empirical distribution of its
characters), mostly steps and repeats between neighbours (``abcdef...``, ``123456...``), or too
few character classes for its length (32 digits are only 106 bits). A secret from
``secrets.token_urlsafe(32)`` or ``token_hex(16)`` passes every check with a wide margin (a test
draws thousands of them); a secret a person made up usually fails one.

The webhook settings are checked against what each provider issues: Stripe's signing secrets are
``whsec_`` and at least 32 characters of base64 or hex, PayPal's webhook ids are upper-case
letters and digits, and Razorpay's webhook secret is whatever the merchant typed into the
dashboard, so it gets the checks of a secret: at least 32 characters, and random.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

__all__ = [
    "GENERATE_HINT",
    "MIN_SECRET_LENGTH",
    "paypal_webhook_id_problem",
    "secret_problem",
    "shannon_bits_per_character",
    "stripe_webhook_secret_problem",
]

MIN_SECRET_LENGTH = 32
# Thresholds, set well outside what random secrets show: over 300,000 random 32-character hex
# strings (the weakest random format in use) had at least 9 distinct characters, 2.89 bits per
# character, at most 31% of characters inside a repeated 5-character run and at most 55%
# predictable neighbours.
MIN_DISTINCT_CHARACTERS = 6
MIN_BITS_PER_CHARACTER = 2.5
MAX_REPEATED_SHARE = 0.5
MAX_PREDICTABLE_PAIRS = 0.75
# What guessing every string of its length over its character classes would cost, in bits.
MIN_SEARCH_SPACE_BITS = 128
REPEAT_LENGTH = 5
GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"

_STRIPE_WEBHOOK_SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=_-]{32,}$")
_PAYPAL_WEBHOOK_ID = re.compile(r"^[0-9A-Z]{10,64}$")


def shannon_bits_per_character(value: str) -> float:
    """The Shannon entropy of ``value``'s character frequencies, in bits per character."""
    if not value:
        return 0.0
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


def _search_space_bits(value: str) -> float:
    """``len(value) * log2(pool)``, the pool being the character classes ``value`` uses
    (26 lower, 26 upper, 10 digits, 33 others): 32 digits are 106 bits, 32 hex digits 165."""
    pool = (
        26 * any(c.islower() for c in value)
        + 26 * any(c.isupper() for c in value)
        + 10 * any(c.isdigit() for c in value)
        + 33 * any(not c.isalnum() for c in value)
    )
    return len(value) * math.log2(pool) if pool else 0.0


def _repeats_a_block(value: str) -> bool:
    """Whether ``value`` is a shorter block repeated (the last copy may be cut short)."""
    return any(value[period:] == value[:-period] for period in range(1, len(value) // 2 + 1))


def _repeated_share(value: str) -> float:
    """The share of characters inside a run of ``REPEAT_LENGTH`` that occurs more than once
    (``password...password``)."""
    starts: dict[str, list[int]] = {}
    for i in range(len(value) - REPEAT_LENGTH + 1):
        starts.setdefault(value[i : i + REPEAT_LENGTH], []).append(i)
    covered = {
        i + offset
        for found in starts.values()
        if len(found) > 1
        for i in found
        for offset in range(REPEAT_LENGTH)
    }
    return len(covered) / len(value) if value else 0.0


def _predictable_pair_share(value: str) -> float:
    """The share of neighbours that repeat or step by one (``aa``, ``ab``, ``21``)."""
    pairs = list(itertools.pairwise(value))
    if not pairs:
        return 1.0
    return sum(abs(ord(b) - ord(a)) <= 1 for a, b in pairs) / len(pairs)


def secret_problem(value: str) -> str | None:
    """Why ``value`` is not fit to be a production secret, or ``None`` if it looks random."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"is {len(value)} characters; production needs at least {MIN_SECRET_LENGTH}"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return f"uses only {len(set(value))} different characters"
    if _repeats_a_block(value) or _repeated_share(value) > MAX_REPEATED_SHARE:
        return "repeats the same run of characters"
    if shannon_bits_per_character(value) < MIN_BITS_PER_CHARACTER:
        return "is too predictable: a few characters make up most of it"
    if _predictable_pair_share(value) > MAX_PREDICTABLE_PAIRS:
        return "is mostly sequences or repeats (abc..., 123..., aaa...)"
    if _search_space_bits(value) < MIN_SEARCH_SPACE_BITS:
        return "draws on too few kinds of character for its length (add letters, or length)"
    return None


def stripe_webhook_secret_problem(value: str) -> str | None:
    if _STRIPE_WEBHOOK_SECRET.match(value):
        return None
    return (
        "is not a Stripe signing secret (whsec_ and at least 32 more characters, from the "
        "dashboard's webhook endpoint or `stripe listen`)"
    )


def paypal_webhook_id_problem(value: str) -> str | None:
    if _PAYPAL_WEBHOOK_ID.match(value):
        return None
    return (
        "is not a PayPal webhook id (10 to 64 upper-case letters and digits, shown beside the "
        "webhook in the app's settings; not its URL or an event id)"
    )
