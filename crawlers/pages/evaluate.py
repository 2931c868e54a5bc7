"""Score :class:`ProductPage` against saved real pages with hand-checked answers.

Folder format (``/work/shared/real-pages``): ``html/<id>.html.gz`` and ``ground-truth.json`` =
``{id: {field: [accepted values...], "url": original URL}}``.

Each page is parsed as if fetched from its ``url``.  Per field, over the pages that annotate it:
``correct`` = extracted and equal to an accepted value; ``extracted`` = a value was extracted.
precision = correct / extracted, recall = correct / annotated, F1 their harmonic mean; so a wrong value
counts against both, a missing one against recall only.  Pages that do not annotate a field are not
scored for it (absence of an annotation is not an annotation of absence).

Comparisons: price as Decimal equality; currency as ISO 4217 after mapping the annotation's symbol with
the page's country as hint; sku, brand, mpn case-insensitively after trimming; gtin digits after
:func:`crawlers.processors.clean_gtin`-style cleanup; availability by schema.org name.

Run: ``.venv/bin/python -m crawlers.pages.evaluate /work/shared/real-pages [--details] [--structured-only]``.

**Splits.**  The pages of ``../shared/real-pages`` (67 pages of Zyte's product-extraction benchmark) are
the *dev* set: the parser was built and tuned on them.  The benchmark's other 73 pages were never used in
development; they are split once, by site, by a rule fixed before any of them was looked at
(:func:`split_of`): a page is ``heldout`` when the first byte of the SHA-256 of its site's name (the
registrable domain without its suffix: ``ebay`` for ebay.co.uk and ebay.ie) is odd, else ``tune``.
Parser changes may be studied on ``tune`` pages; ``heldout`` pages are scored, never read.  Grouping by
site keeps one site's markup from sitting on both sides.  With ``--split``, ``folder`` is the whole
benchmark (its ``dataset/`` folder) and ``--dev-folder`` names the dev pages::

    python -m crawlers.pages.evaluate BENCHMARK/dataset --split heldout --dev-folder ../shared/real-pages
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from crawlers.items import Listing
from crawlers.pages.product import ProductPage
from crawlers.processors import (
    country_from_url,
    normalize_availability,
    normalize_currency,
    parse_price,
    registrable_domain,
)

SCORED_FIELDS = ("price", "currency", "sku", "brand", "mpn", "gtin", "availability")
SPLITS = ("all", "dev", "tune", "heldout", "new")
"""``new`` is ``tune`` and ``heldout`` together (every page outside the dev set)."""


def site_of(url: str) -> str:
    """The site a page belongs to: its registrable domain without the suffix (``amazon`` for amazon.fr)."""
    domain = registrable_domain(url) or ""
    return domain.split(".", 1)[0]


def split_of(page_id: str, url: str, *, dev_ids: frozenset[str]) -> str:
    """``dev`` for a page of the dev set, else ``heldout`` or ``tune`` by its site (see the module docstring)."""
    if page_id in dev_ids:
        return "dev"
    return "heldout" if hashlib.sha256(site_of(url).encode("utf-8")).digest()[0] % 2 else "tune"


def in_split(split: str, page_split: str) -> bool:
    return split == "all" or page_split == split or (split == "new" and page_split in ("tune", "heldout"))


@attrs.define
class FieldScore:
    """Counts for one field over a page set."""

    annotated: int = 0
    extracted: int = 0
    correct: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.extracted if self.extracted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.annotated if self.annotated else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _text_key(value: Any) -> str | None:
    return " ".join(str(value).split()).casefold() if value not in (None, "") else None


def normalise_for_field(field: str, value: Any, *, url: str, truth: bool) -> Any:
    """The comparable form of an extracted (``truth=False``) or annotated value."""
    if value in (None, ""):
        return None
    if field == "price":
        return parse_price(str(value).strip(), structured=True)
    if field == "currency":
        return normalize_currency(str(value), country=country_from_url(url)) if truth else value
    if field == "availability":
        return normalize_availability(value)
    if field == "gtin":
        digits = "".join(ch for ch in str(value) if ch.isdigit())
        return digits.lstrip("0") or None
    return _text_key(value)


def score_item(item: Listing | None, truth: dict[str, Any], *, scores: dict[str, FieldScore]) -> dict[str, str]:
    """Add one page's outcome to ``scores``; returns ``{field: "ok"|"wrong"|"missing"}`` for its fields."""
    url = truth["url"]
    outcome: dict[str, str] = {}
    for field in SCORED_FIELDS:
        accepted_raw = truth.get(field)
        if not accepted_raw:
            continue
        accepted = {normalise_for_field(field, v, url=url, truth=True) for v in accepted_raw} - {None}
        if not accepted:
            continue
        score = scores[field]
        score.annotated += 1
        got = normalise_for_field(field, getattr(item, field, None) if item else None, url=url, truth=False)
        if got is None:
            outcome[field] = "missing"
            continue
        score.extracted += 1
        if isinstance(got, Decimal):
            ok = any(isinstance(a, Decimal) and a == got for a in accepted)
        else:
            ok = got in accepted
        score.correct += ok
        outcome[field] = "ok" if ok else "wrong"
    return outcome


def page_ids(folder: Path) -> frozenset[str]:
    """The ids of the pages a folder annotates (its ``ground-truth.json``)."""
    return frozenset(json.loads((folder / "ground-truth.json").read_text(encoding="utf-8")))


def evaluate(
    folder: Path, *, html_fallbacks: bool = True, split: str = "all", dev_ids: frozenset[str] = frozenset()
) -> tuple[dict[str, FieldScore], dict[str, dict[str, Any]]]:
    """Scores per field and, per page id, the extracted values and outcomes, over the pages of ``split``."""
    truth_by_id = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    scores = {field: FieldScore() for field in SCORED_FIELDS}
    details: dict[str, dict[str, Any]] = {}
    for page_id in sorted(truth_by_id):
        truth = truth_by_id[page_id]
        if not in_split(split, split_of(page_id, truth["url"], dev_ids=dev_ids)):
            continue
        path = folder / "html" / f"{page_id}.html.gz"
        if not path.is_file():
            continue
        html = gzip.decompress(path.read_bytes())
        item = ProductPage(truth["url"], html, html_fallbacks=html_fallbacks).to_item()
        outcome = score_item(item, truth, scores=scores)
        details[page_id] = {
            "url": truth["url"],
            "outcome": outcome,
            "got": {f: str(getattr(item, f)) if item and getattr(item, f) is not None else None for f in SCORED_FIELDS},
            "truth": {f: truth.get(f) for f in SCORED_FIELDS if truth.get(f)},
            "source": item.source if item else None,
            "product": item is not None,
        }
    return scores, details


def format_table(scores: dict[str, FieldScore]) -> str:
    """A Markdown table of precision, recall and F1 per field."""
    lines = ["| field | annotated | extracted | correct | precision | recall | F1 |", "|---|---|---|---|---|---|---|"]
    for field, s in scores.items():
        lines.append(
            f"| {field} | {s.annotated} | {s.extracted} | {s.correct} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder holding ground-truth.json and html/")
    parser.add_argument("--details", action="store_true", help="print every wrong or missing value")
    parser.add_argument(
        "--structured-only", action="store_true", help="without the HTML fallbacks (structured data and meta tags)"
    )
    parser.add_argument("--split", choices=SPLITS, default="all",
                        help="score only these pages (see the module docstring; needs --dev-folder)")
    parser.add_argument("--dev-folder", type=Path, help="the dev pages (../shared/real-pages), for --split")
    args = parser.parse_args(argv)
    for folder in (args.folder, args.dev_folder):
        if folder is not None and not (folder / "ground-truth.json").is_file():
            print(f"error: {folder}/ground-truth.json not found", file=sys.stderr)
            return 2
    if args.split != "all" and args.dev_folder is None:
        print("error: --split needs --dev-folder (the dev pages)", file=sys.stderr)
        return 2
    dev_ids = page_ids(args.dev_folder) if args.dev_folder else frozenset()
    scores, details = evaluate(args.folder, html_fallbacks=not args.structured_only, split=args.split,
                               dev_ids=dev_ids)
    products = sum(info["product"] for info in details.values())
    print(f"{len(details)} pages ({args.split}); recognised as products: {products}")
    print(format_table(scores))
    if args.details:
        for page_id, info in details.items():
            bad = {f: o for f, o in info["outcome"].items() if o != "ok"}
            if bad:
                print(f"\n{page_id[:12]} {info['url'][:90]} source={info['source']}")
                for field, outcome in bad.items():
                    print(f"  {field:12} {outcome:8} got={info['got'][field]!r} truth={info['truth'][field]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
