"""Postal addresses: what an order ships to, and what a shopper keeps on their account.

An address is checked once, when it enters the shop, and kept as given (trimmed, NFC): the
country is an ISO 3166-1 alpha-2 code; the postal code must fit the country's format where the
shop knows it (``POSTAL_CODE_FORMATS``), may be empty only where the country has no postal codes
(``COUNTRIES_WITHOUT_POSTAL_CODES``), and is otherwise only checked for length and characters.
Every text is printable (no control characters, no lone surrogates) and bounded.

>>> Address.parse({"name": "Ada Lovelace", "line1": "12 Main St", "city": "Springfield",
...                "postal_code": "62701", "region": "IL", "country": "us"}).country
'US'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import attrs

from commerce_core.errors import FieldError, InvalidInput

__all__ = [
    "ADDRESS_FIELDS",
    "COUNTRIES",
    "COUNTRIES_WITHOUT_POSTAL_CODES",
    "POSTAL_CODE_FORMATS",
    "Address",
]

# ISO 3166-1 alpha-2, officially assigned codes.
_ASSIGNED = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
"""
COUNTRIES: frozenset[str] = frozenset(_ASSIGNED.split())

# Countries whose addresses carry no postal code (a shopper there leaves the field empty).
_WITHOUT_POSTAL_CODES = (
    "AE AG AO AW BF BI BJ BO BS BW BZ CD CF CG CI CK CM DJ DM ER FJ GA GD GH GM GQ GY HK KI KM KN "
    "KP LY ML MO MR MW NR NU QA RW SB SC SL SR SS ST SY TD TF TG TK TL TO TV UG VU YE ZW"
)
COUNTRIES_WITHOUT_POSTAL_CODES: frozenset[str] = frozenset(_WITHOUT_POSTAL_CODES.split())

# The formats the shop checks (upper-cased, as stored). Elsewhere: 2 to 12 letters, digits,
# spaces and dashes.
POSTAL_CODE_FORMATS: Mapping[str, re.Pattern[str]] = {
    country: re.compile(pattern)
    for country, pattern in {
        "US": r"\d{5}(-\d{4})?",
        "CA": r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d",
        "GB": r"(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPS-UW]|"
        r"[A-HK-Y][0-9][ABEHMNPRV-Y]) ?[0-9][ABD-HJLNP-UW-Z]{2})",
        "DE": r"\d{5}",
        "FR": r"\d{5}",
        "IT": r"\d{5}",
        "ES": r"\d{5}",
        "NL": r"[1-9]\d{3} ?[A-Z]{2}",
        "BE": r"[1-9]\d{3}",
        "AT": r"\d{4}",
        "CH": r"\d{4}",
        "DK": r"\d{4}",
        "NO": r"\d{4}",
        "SE": r"\d{3} ?\d{2}",
        "FI": r"\d{5}",
        "PL": r"\d{2}-\d{3}",
        "PT": r"\d{4}-\d{3}",
        "IE": r"[AC-FHKNPRTV-Y]\d[\dW] ?[0-9AC-FHKNPRTV-Y]{4}",
        "AU": r"\d{4}",
        "NZ": r"\d{4}",
        "JP": r"\d{3}-?\d{4}",
        "IN": r"[1-9]\d{5}",
        "BR": r"\d{5}-?\d{3}",
        "MX": r"\d{5}",
    }.items()
}
_ANY_POSTAL_CODE = re.compile(r"[A-Z0-9][A-Z0-9 -]{0,10}[A-Z0-9]")

# Field -> (required, maximum length).
_FIELDS: dict[str, tuple[bool, int]] = {
    "name": (True, 200),
    "line1": (True, 200),
    "line2": (False, 200),
    "city": (True, 100),
    "postal_code": (False, 20),
    "region": (False, 100),
    "country": (True, 2),
}


ADDRESS_FIELDS: frozenset[str] = frozenset(_FIELDS)


def _clean(value: object) -> str | None:
    """The text as kept (NFC, trimmed), or None if it is not acceptable text at all."""
    if not isinstance(value, str) or not value.isprintable():
        return None
    return unicodedata.normalize("NFC", value).strip()


@attrs.frozen
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    region: str = ""

    @classmethod
    def parse(cls, data: object, field: str = "shipping_address") -> Address:
        """An address from a client's JSON object; ``InvalidInput`` naming each bad field as
        ``{field}.{name}``. Unknown keys are refused (a typo must not drop a line silently)."""
        if not isinstance(data, Mapping):
            raise InvalidInput.for_field(field, "must be an object")
        errors: list[FieldError] = [
            FieldError(f"{field}.{key}"[:200], "is not a field of an address")
            for key in data
            if key not in _FIELDS
        ]
        values: dict[str, str] = {}
        for name, (required, longest) in _FIELDS.items():
            raw = data.get(name)
            if raw is None and not required:
                values[name] = ""
                continue
            text = _clean(raw)
            if text is None:
                errors.append(FieldError(f"{field}.{name}", "must be printable text"))
            elif required and not text:
                errors.append(FieldError(f"{field}.{name}", "is required"))
            elif len(text) > longest or len(str(raw)) > longest:  # as sent, spaces and all
                errors.append(
                    FieldError(f"{field}.{name}", f"must be at most {longest} characters")
                )
            else:
                values[name] = text
        if errors:
            raise InvalidInput(errors=errors)
        country = values["country"].upper()
        if country not in COUNTRIES:
            raise InvalidInput.for_field(f"{field}.country", "must be an ISO 3166-1 alpha-2 code")
        postal_code = _postal_code(values["postal_code"], country, f"{field}.postal_code")
        return cls(
            name=values["name"],
            line1=values["line1"],
            line2=values["line2"],
            city=values["city"],
            postal_code=postal_code,
            region=values["region"],
            country=country,
        )

    def to_primitive(self) -> dict[str, str]:
        return {
            "name": self.name,
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "postal_code": self.postal_code,
            "region": self.region,
            "country": self.country,
        }

    @classmethod
    def from_primitive(cls, data: Mapping[str, str]) -> Address:
        """An address stored by the shop (already checked when it came in)."""
        return cls(
            name=data["name"],
            line1=data["line1"],
            line2=data.get("line2", ""),
            city=data["city"],
            postal_code=data.get("postal_code", ""),
            region=data.get("region", ""),
            country=data["country"],
        )


def _postal_code(raw: str, country: str, field: str) -> str:
    code = raw.upper()
    if not code:
        if country in COUNTRIES_WITHOUT_POSTAL_CODES:
            return ""
        raise InvalidInput.for_field(field, f"is required for an address in {country}")
    pattern = POSTAL_CODE_FORMATS.get(country, _ANY_POSTAL_CODE)
    if not pattern.fullmatch(code):
        raise InvalidInput.for_field(field, f"is not a postal code of {country}")
    return code
