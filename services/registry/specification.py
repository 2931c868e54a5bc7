"""What a valid registry is: the pydantic models of the format and every rule a file or one brand must meet.

The rules are written once and serve two callers:

- :func:`check_registry`: a whole parsed file, every problem with its place
  (``brands[2].products[0].msrp: must be a positive number``), schema and cross-field problems in one run;
- :func:`check_brand`: one brand entry (a dict as the YAML or a web form gives it), the errors keyed by field
  path relative to the brand (``products[0].msrp``), so a form can show each message beside its field.

A whole file adds only what needs more than one brand: duplicate brand names, and ``owners:`` entries
that must name an owner of a brand in the file.  Images are checked by :mod:`services.registry.images`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import idna
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from core.currencies import is_currency_code
from core.errors import LookalikeError
from matching.config import MatchConfig

MAX_MSRP = Decimal("1e12")
"""MSRPs at or above this (in major units) are refused."""
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: A field path: keys and list indexes from the entry checked (``("products", 0, "msrp")``).
Loc = tuple[str | int, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProductSpec(_Strict):
    """One product of a brand."""

    name: Text = Field(description="Product name as the brand sells it.")
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        description="The brand's stock-keeping unit; unique within the brand."
    )
    msrp: Decimal | None = Field(default=None, description="Suggested retail price, a positive number.")
    currency: str | None = Field(default=None, description="ISO 4217 code of the MSRP, e.g. USD.")
    images: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]] = Field(
        default_factory=list,
        description="Official photos: paths relative to the registry file, or http(s) URLs.",
    )

    @field_validator("msrp", mode="before")
    @classmethod
    def _msrp_number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal | None):
            raise ValueError("must be a positive number")
        if isinstance(value, float):
            value = repr(value)
        try:
            number = Decimal(str(value)) if value is not None else None
        except ArithmeticError:
            raise ValueError("must be a positive number") from None
        if number is not None and (not number.is_finite() or number <= 0 or number >= MAX_MSRP):
            raise ValueError("must be a positive number below 10^12")
        return number

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if not is_currency_code(code):
            raise ValueError(f"unknown currency {value!r}: use an ISO 4217 code such as USD, EUR or GBP")
        return code


def check_emails(values: list[str]) -> list[str]:
    """``values`` unchanged when each is an email address; ``ValueError`` naming the ones that are not."""
    bad = [v for v in values if not isinstance(v, str) or not EMAIL.match(v)]
    if bad:
        raise ValueError(f"not an email address: {', '.join(map(repr, bad))}")
    return values


def check_domains(values: list[str]) -> list[str]:
    """``values`` as lower-case Unicode domain names, duplicates dropped; ``ValueError`` naming the ones that
    are not domain names (a URL, a bare word, an IDNA error)."""
    out, bad = [], []
    for value in values:
        name = domain_name(value) if isinstance(value, str) else None
        if name is None:
            bad.append(value)
        elif name not in out:
            out.append(name)
    if bad:
        raise ValueError(f"not a domain name: {', '.join(repr(v)[:100] for v in bad)}")
    return out


def domain_name(value: str) -> str | None:
    """A registry domain (``Example.COM.``, ``xn--bcher-kva.de``, ``bücher.de``) as lower-case Unicode, or
    None when it is not a domain name with at least two labels."""
    text = value.strip().rstrip(".").lower()
    if not text or len(text) > 253 or "." not in text:
        return None
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
        unicode_name = idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError):
        return None
    labels = ascii_name.split(".")
    if any(not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", label) for label in labels):
        return None
    return unicode_name


class TrademarkSpec(_Strict):
    """One trademark registration, as a takedown notice cites it."""

    office: Text = Field(description="The registering office, e.g. USPTO, EUIPO, UKIPO, WIPO.")
    number: Text = Field(description="The registration number as the office writes it.")
    classes: list[int] = Field(default_factory=list, description="Nice classes covered (1 to 45).")
    jurisdiction: Text = Field(description="Where it is in force, e.g. US, EU, GB, or WIPO designations.")
    owner_of_record: Text | None = Field(default=None, description="The registrant; unset: the brand's owner.")

    @field_validator("classes")
    @classmethod
    def _nice(cls, value: list[int]) -> list[int]:
        bad = [c for c in value if not 1 <= c <= 45]
        if bad:
            raise ValueError(f"Nice classes run from 1 to 45, not {', '.join(map(str, bad))}")
        return value


class RightsHolderSpec(_Strict):
    """Who files the notices: the rights holder or its agent."""

    name: Text = Field(description="Name of the rights holder or agent.")
    email: str = Field(description="Contact email for the platforms.")
    address: Text | None = Field(default=None, description="Postal address.")
    phone: Text | None = Field(default=None, description="Telephone number.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_emails([value])[0]


class BrandSpec(_Strict):
    """One brand and everything Lookalike needs to protect it."""

    name: Text = Field(description="The brand name (its main mark).")
    owner: Text = Field(description="The company that owns the brand.")
    digest_to: list[str] = Field(default_factory=list, description="Email addresses that receive the digest.")
    category: Text | None = Field(default=None, description="What the brand sells, e.g. cosmetics.")
    keywords: list[Text] = Field(
        default_factory=list, description="Words of the brand's trade; needed when the mark is an ordinary word."
    )
    aliases: list[Text] = Field(default_factory=list, description="Other spellings and marks of the brand.")
    authorized_sellers: list[Text] = Field(default_factory=list, description="Sellers allowed to sell it.")
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="Per-brand overrides of matching thresholds (MatchConfig field names)."
    )
    products: list[ProductSpec] = Field(default_factory=list, description="The brand's products.")
    trademarks: list[TrademarkSpec] = Field(
        default_factory=list, description="Trademark registrations cited in takedown notices."
    )
    rights_holder: RightsHolderSpec | None = Field(default=None, description="Who files takedown notices.")
    domains: list[str] = Field(
        default_factory=list,
        description="Domains the brand owns or authorises (example.com; subdomains included); never candidates.",
    )

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return check_domains(value)

    @field_validator("digest_to")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        return check_emails(value)


#: Match classes an owner may ask its digest for (``digest.classes``).
DIGEST_CLASSES = ("counterfeit", "lookalike", "other_goods", "accessory", "resale")


class DigestPrefs(_Strict):
    """How an owner wants its digest (docs/digests.md)."""

    frequency: Literal["daily", "weekly"] = Field(default="daily", description="daily or weekly.")
    min_score: float | None = Field(
        default=None, ge=0, le=1, description="Lowest score (0..1) reported as a new item; unset: every suspect."
    )
    classes: list[Literal["counterfeit", "lookalike", "other_goods", "accessory", "resale"]] = Field(
        default_factory=list, description="Classes reported as new items; empty: every suspect class."
    )
    enabled: bool = Field(default=True, description="false: send this owner no digest.")


class OwnerSpec(_Strict):
    """Preferences of one owner named by the brands."""

    name: Text = Field(description="The owner, as the brands' 'owner' names it.")
    digest: DigestPrefs = Field(default_factory=DigestPrefs, description="Digest preferences.")


class RegistryFile(_Strict):
    """The whole registry file."""

    brands: list[BrandSpec] = Field(min_length=1, description="The brands to protect.")
    owners: list[OwnerSpec] = Field(
        default_factory=list, description="Optional: digest preferences of owners named by the brands."
    )


class RegistryInvalid(LookalikeError):
    """The registry has problems; ``problems`` lists each with its place."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s), nothing imported:\n{lines}")


def json_schema() -> dict[str, Any]:
    """The registry format as JSON Schema (published as ``data/registry.schema.json``)."""
    schema = RegistryFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Lookalike brand registry"
    return schema


# --- one brand --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrandCheck:
    """One brand entry checked by :func:`check_brand`.

    ``spec`` is the validated brand, or None when there is any error; ``errors`` maps each field path,
    relative to the brand (``name``, ``products[0].msrp``, ``thresholds.text_min``; ``""`` for the entry
    itself), to its messages, in the order found."""

    spec: BrandSpec | None
    errors: dict[str, list[str]]

    @property
    def valid(self) -> bool:
        return not self.errors


def check_brand(data: Any) -> BrandCheck:
    """Validate one brand entry with every rule that concerns the brand alone (the same rules
    :func:`check_registry` applies to each brand of a file)."""
    spec: BrandSpec | None = None
    try:
        spec = BrandSpec.model_validate(data)
        found: list[tuple[Loc, str]] = []
    except ValidationError as exc:
        found = schema_problems(exc)
    found += brand_rules(data)
    errors: dict[str, list[str]] = {}
    for loc, message in found:
        messages, message = errors.setdefault(field_path(loc), []), message[:500]
        if message not in messages:
            messages.append(message)
    return BrandCheck(spec=spec if not errors else None, errors=errors)


def brand_rules(brand: Any) -> list[tuple[Loc, str]]:
    """The rules beyond each value's type, read from the raw entry so that they are reported in the same
    run as type problems: duplicate SKUs, an MSRP without its currency, thresholds ``MatchConfig`` refuses."""
    if not isinstance(brand, dict):
        return []  # the schema reports "must be a mapping"
    problems: list[tuple[Loc, str]] = []
    skus: dict[str, int] = {}
    for p, product in _items(brand.get("products")):
        sku = _text_key(product.get("sku"))
        if sku is not None:
            if sku in skus:
                problems.append((("products", p, "sku"), f"duplicate sku {product['sku'].strip()[:100]!r} "
                                                         f"(also products[{skus[sku]}])"))
            skus.setdefault(sku, p)
        if product.get("msrp") is not None and product.get("currency") is None:
            problems.append((("products", p, "currency"), "is required when msrp is given"))
    thresholds = brand.get("thresholds")
    if isinstance(thresholds, dict) and thresholds and all(isinstance(k, str) for k in thresholds):
        problems.extend((("thresholds", key[:100]), message) for key, message in _threshold_problems(thresholds))
    return problems


def _threshold_problems(thresholds: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for key, value in thresholds.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue  # the schema reports "must be a number"
        try:
            MatchConfig().with_overrides({key: value})
        except (ValueError, TypeError) as exc:
            problems.append((key, str(exc)[:300] or "not a matching threshold"))
    return problems


# --- a whole file -----------------------------------------------------------------------------------------


def check_registry(raw: Any) -> tuple[RegistryFile | None, list[str]]:
    """Validate a parsed registry file: (the validated file or None, every problem as ``place: message``).

    Each brand meets the rules of :func:`check_brand` (its paths under ``brands[i]``); the file adds
    duplicate brand names and the ``owners:`` rules."""
    if not isinstance(raw, dict):
        return None, ["(file): must be a mapping with a 'brands' list"]
    spec: RegistryFile | None = None
    try:
        spec = RegistryFile.model_validate(raw)
        found: list[tuple[Loc, str]] = []
    except ValidationError as exc:
        found = schema_problems(exc)
    brands = _items(raw.get("brands"))
    for b, brand in brands:
        found += [(("brands", b, *loc), message) for loc, message in brand_rules(brand)]
    found += _duplicate_brands(brands)
    found += _owner_problems(raw)
    problems = [f"{field_path(loc) or '(file)'}: {message}"[:500] for loc, message in found]
    return spec, list(dict.fromkeys(problems))


def _duplicate_brands(brands: list[tuple[int, dict[str, Any]]]) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    seen: dict[str, int] = {}
    for b, brand in brands:
        key = _text_key(brand.get("name"))
        if key is None:
            continue
        if key in seen:
            problems.append((("brands", b, "name"),
                             f"duplicate brand {brand['name'].strip()[:200]!r} (also brands[{seen[key]}])"))
        seen.setdefault(key, b)
    return problems


def _owner_problems(raw: dict[str, Any]) -> list[tuple[Loc, str]]:
    """``owners:`` entries must name an owner of a brand in the file, each once."""
    named = {_text_key(brand.get("owner")) for _b, brand in _items(raw.get("brands"))}
    problems: list[tuple[Loc, str]] = []
    seen = set()
    for o, owner in _items(raw.get("owners")):
        key = _text_key(owner.get("name"))
        if key is None:
            continue
        if key in seen:
            problems.append((("owners", o, "name"), f"duplicate owner {owner['name'].strip()[:200]!r}"))
        seen.add(key)
        if key not in named:
            problems.append((("owners", o, "name"),
                             f"no brand in this file has owner {owner['name'].strip()[:200]!r}"))
    return problems


# --- wording of problems ----------------------------------------------------------------------------------


def field_path(loc: Iterable[Any]) -> str:
    """``products[0].msrp`` for ``("products", 0, "msrp")``; ``""`` for the entry itself."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "unknown key",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
    "string_too_long": "is too long",
}


def schema_problems(exc: ValidationError) -> list[tuple[Loc, str]]:
    """(field path, message in plain words) for each error pydantic found."""
    return [(tuple(err["loc"]), _MESSAGES.get(err["type"]) or str(err["msg"]).removeprefix("Value error, "))
            for err in exc.errors()]


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """(index, mapping) for the mappings of a list; nothing for any other shape (the schema reports it)."""
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


def _text_key(value: Any) -> str | None:
    return value.strip().casefold() if isinstance(value, str) and value.strip() else None
