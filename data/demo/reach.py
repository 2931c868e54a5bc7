"""Reach of planned search on the demo's search-only marketplaces: ``python -m data.demo.reach --world DIR``.

The demo world knows the truth (``label.infringing``), so the share of the infringing listings a night of
searches reaches is measured without a crawl: the queries of :mod:`services.queryplan` are run against
the marketplaces' own search (:meth:`data.demo.jsmarket.JsMarket.search`, the HTML marketplace's
``/search``), each taking as many results as its profile does (pages x results per page, at most
``max_results_per_query``).

- **Before**: the queries scans sent before the planner (marks, product names, guessed spellings).
- **Measured on** the JavaScript marketplace's cross-listed listings (every third world listing) and, for
  the HTML marketplace, on the same listings (``held-out``) and on all of them (``all``).
- **Learnt from** (confirmed matches): a share (``--confirm``) of the *other* world listings' infringing
  ones, as if the shops crawled whole had been reviewed; nothing measured is learnt from.
- **Nights**: night 1 plans with no record; after each night every query's record gets its results and
  its suspects (the labels stand in for the matcher), and the next night is planned from that record.
  Reported: each night's reach, and what all nights reached together.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from data.demo.jsmarket import PER_PAGE, JsMarket
from services.queryplan import BrandTerms, PlanConfig, QueryRecord, candidate_queries, rank_queries

#: The queries scans sent before the planner: the registry's marks, product names and guessed spellings.
BEFORE_KINDS = frozenset({"mark", "product", "guessed"})
#: Results one query yields: the profiles' pages x results per page, within max_results_per_query.
JS_RESULTS_PER_QUERY = min(3 * PER_PAGE, 60)  # crawlers/profiles/jsdemo.yaml
HTML_RESULTS_PER_QUERY = min(5 * 10, 100)  # crawlers/profiles/demo.yaml (10 results a page)


@dataclass(frozen=True, slots=True)
class Reach:
    marketplace: str
    nights: list[tuple[int, int]]
    """(reached, infringing) per night"""
    together: tuple[int, int]
    queries: list[int]
    pages: list[int]
    """pages a crawl of each night fetches: result pages, then each listing found once"""

    def lines(self) -> list[str]:
        out = [f"{self.marketplace}: night {n}: {r}/{t} ({r / max(t, 1):.1%}) with {q} queries, {p} pages"
               for n, ((r, t), q, p) in enumerate(zip(self.nights, self.queries, self.pages, strict=True), start=1)]
        r, t = self.together
        out.append(f"{self.marketplace}: all nights together: {r}/{t} ({r / max(t, 1):.1%})")
        return out


def load_world(world_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    listings = [json.loads(line) for line in (world_dir / "listings.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip()]
    registry = yaml.safe_load((world_dir / "registry.yaml").read_text(encoding="utf-8"))
    return listings, registry


def brand_terms(registry: dict[str, Any], confirmed: list[dict[str, Any]]) -> list[BrandTerms]:
    """The registry's brands as the planner reads them from the database (marks: the name and aliases)."""
    return [BrandTerms(name=b["name"], marks=tuple(b.get("aliases") or ()),
                       products=tuple(p["name"] for p in b.get("products") or ()),
                       confirmed_titles=tuple(item["title"] for item in confirmed
                                              if (item.get("label") or {}).get("brand") == b["name"]))
            for b in registry["brands"]]


def html_search(listings: list[dict[str, Any]]) -> Callable[[str], list[dict[str, Any]]]:
    """The HTML demo marketplace's ``/search`` (data/demo/marketplace.py): every word, case folded."""
    haystacks = [(item, " ".join(str(item.get(k) or "") for k in ("title", "description", "brand_text", "seller"))
                  .casefold()) for item in listings]

    def search(query: str) -> list[dict[str, Any]]:
        tokens = [t for t in query.casefold().split() if t]
        return [item for item, text in haystacks if tokens and all(t in text for t in tokens)]
    return search


def measure(search: Callable[[str], list[dict[str, Any]]], *, per_query: int, page_size: int, truth: set[str],
            terms: list[BrandTerms], background: list[str], budget: int, nights: int,
            config: PlanConfig = PlanConfig(), name: str = "", kinds: Collection[str] | None = None) -> Reach:
    """Plan, search and record ``nights`` times; ``truth``: ids of the infringing listings measured;
    ``kinds``: only candidates of these kinds (None: all)."""
    records: dict[str, QueryRecord] = {}
    candidates = [c for c in candidate_queries(terms, background=background, config=config)
                  if kinds is None or c.kind in kinds]
    per_night: list[tuple[int, int]] = []
    sizes: list[int] = []
    pages: list[int] = []
    together: set[str] = set()
    for _ in range(nights):
        planned = rank_queries(candidates, records, budget=budget, config=config)
        reached: set[str] = set()
        fetched: set[str] = set()
        result_pages = 0
        for query in planned:
            hits = search(query.candidate.text)
            found = {item["id"] for item in hits[:per_query]}
            fetched |= found
            result_pages += max(1, -(-min(len(hits), per_query) // page_size))
            suspects = found & truth
            reached |= suspects
            old = records.get(query.candidate.text.casefold(), QueryRecord())
            records[query.candidate.text.casefold()] = QueryRecord(
                runs=old.runs + 1, results=old.results + len(found), suspects=old.suspects + len(suspects),
                suspect_ids=frozenset(suspects))
        per_night.append((len(reached), len(truth)))
        sizes.append(len(planned))
        pages.append(result_pages + len(fetched))
        together |= reached
    return Reach(name, per_night, (len(together), len(truth)), sizes, pages)


def run(world_dir: Path, *, budget: int, nights: int = 3, confirm: float = 0.5, seed: int = 0) -> list[Reach]:
    """The JavaScript marketplace before (the registry's marks, product names and guessed spellings) and
    with the planner, then the HTML marketplace (held-out listings, all listings)."""
    listings, registry = load_world(world_dir)
    rng = random.Random(seed)
    held_out = {item["id"] for position, item in enumerate(listings) if position % 3 == 1}
    confirmed = [item for item in listings if item["id"] not in held_out and item["label"]["infringing"]
                 and rng.random() < confirm]
    terms = brand_terms(registry, confirmed)
    background = [item["title"] for item in listings]
    market = JsMarket(listings)
    js_truth = {item["id"] for item in market.items if "world_id" in item and item["label"]["infringing"]}
    html_truth = {item["id"] for item in listings if item["label"]["infringing"]}
    common = {"terms": terms, "background": background, "budget": budget, "nights": nights}
    return [
        measure(market.search, per_query=JS_RESULTS_PER_QUERY, page_size=PER_PAGE, truth=js_truth, kinds=BEFORE_KINDS,
                name="javascript marketplace, before (marks, product names, guessed spellings)", **common),
        measure(market.search, per_query=JS_RESULTS_PER_QUERY, page_size=PER_PAGE, truth=js_truth, name="javascript marketplace",
                **common),
        measure(html_search(listings), per_query=HTML_RESULTS_PER_QUERY, page_size=10, truth=html_truth & held_out,
                name="html marketplace (held-out listings)", **common),
        measure(html_search(listings), per_query=HTML_RESULTS_PER_QUERY, page_size=10, truth=html_truth,
                name="html marketplace (all listings)", **common),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.demo.reach", description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, required=True, help="a demo world folder (data.demo.generate)")
    parser.add_argument("--budget", type=int, default=None, help="queries per source and night "
                        "(default: the query_budget setting's default)")
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--confirm", type=float, default=0.5, help="share of the other infringing listings "
                        "confirmed by analysts (learnt from)")
    args = parser.parse_args(argv)
    budget = args.budget
    if budget is None:
        from core.settings import Settings  # the default budget, read only when none is given

        budget = Settings.model_fields["query_budget"].default
    for reach in run(args.world, budget=budget, nights=args.nights, confirm=args.confirm):
        for line in reach.lines():
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
