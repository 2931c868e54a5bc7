"""``lookalike demo``: the whole nightly scan on the demo world, start to finish, in one command.

Generates the demo world into ``<data_dir>/demo-world`` (once), imports its brand registry, serves it
with the demo marketplace on 127.0.0.1, runs the nightly scan over it (its shops crawled whole, its
search-only JavaScript marketplace searched through the ``jsdemo`` browser profile, its search-only
marketplace behind an eBay-shaped API through the ``demo-ebay`` API source), and prints the
summary, the top suspects with their reasons, and where to look next.  The marketplace keeps its port between runs
(saved in ``<data_dir>/demo-port``) so a second run finds the same listings at the same URLs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli import context
from cli.scan import failed_crawls, print_summary, run_scan_flow
from core.errors import LookalikeError
from core.text import one_line

if TYPE_CHECKING:
    from core.settings import Settings

DEMO_SEED = 7


def world_dir(settings: Settings) -> Path:
    return settings.data_dir / "demo-world"


def plain(text: str | None, limit: int = 120) -> str:
    """Hostile listing text made safe for a terminal: control and format characters dropped, bounded."""
    return one_line(text, limit)


def ensure_world(folder: Path, *, seed: int, regenerate: bool) -> bool:
    """Generate the demo world into ``folder`` unless it is there; True when generated."""
    if not regenerate and (folder / "world.json").is_file() and (folder / "registry.yaml").is_file():
        return False
    from data.demo.generate import generate_world

    generate_world(folder, seed=seed)
    return True


def write_demo_sources(settings: Settings, market_url: str) -> Path:
    """The demo's scan file: its eBay-shaped API as an API source (``data.demo.ebayapi``), with the demo
    API's own credentials put in this process's environment (the crawls it starts inherit them)."""
    from data.demo.ebayapi import BASE, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET  # deferred: start-up time

    os.environ["LOOKALIKE_EBAY_CLIENT_ID"] = DEMO_CLIENT_ID
    os.environ["LOOKALIKE_EBAY_CLIENT_SECRET"] = DEMO_CLIENT_SECRET
    path = settings.data_dir / "demo-scan.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Summaries carry the title, price, seller and every photo: no detail call per result (the demo's time).
    path.write_text("sources:\n"
                    f"  - {{name: demo-ebay, kind: api, connector: ebay, site: EBAY_US, base_url: '{market_url}{BASE}',\n"
                    "     per_second: 50, details: false}\n", encoding="utf-8")
    return path


def _saved_port(path: Path) -> int:
    try:
        port = int(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return 0
    return port if 1024 <= port <= 65535 else 0


def start_marketplace(folder: Path, port_file: Path):
    """The demo marketplace on the saved port when it is free, else on a new free port (then saved)."""
    from data.demo.marketplace import DemoMarketplace

    port = _saved_port(port_file)
    try:
        market = DemoMarketplace(folder, port=port)
    except OSError:
        market = DemoMarketplace(folder, port=0)
    port_file.parent.mkdir(parents=True, exist_ok=True)
    port_file.write_text(market.url.rsplit(":", 1)[1], encoding="utf-8")
    return market


def print_top_suspects(console: Console, settings: Settings, *, top: int) -> int:
    from services.review import list_matches  # deferred: start-up time

    with context.database(settings) as database, database.session() as session:
        matches = list_matches(session, status="new", limit=top)
        if not matches:
            console.print("No open suspects.")
            return 0
        table = Table("id", "score", "class", "brand", "listing", "reasons", title=f"Top {len(matches)} suspects",
                      show_lines=True)
        for match in matches:
            reasons = "\n".join(plain(r, 160) for r in (match.reasons or [])[:4])
            table.add_row(str(match.id), f"{match.score:.2f}", match.klass, Text(plain(match.brand.name, 40)),
                          Text(plain(match.listing.title, 60) + "\n" + plain(match.listing.url, 80)),
                          Text(reasons))
        console.print(table)
        return len(matches)


def demo_command(
    seed: int = typer.Option(DEMO_SEED, "--seed", help="Seed of the demo world (used when it is generated)."),
    top: int = typer.Option(10, "--top", min=1, max=200, help="How many suspects to show."),
    regenerate: bool = typer.Option(False, "--regenerate", help="Generate the demo world again."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's run log on the console."),
) -> None:
    """Generate the demo world, serve it, import its brands, run the nightly scan, show the suspects."""
    from services.registry.load import load_registry  # deferred: start-up time
    from services.registry.sync import import_registry  # deferred: start-up time
    from storage.imagestore import ImageStore  # deferred: start-up time

    settings = context.settings()
    console = Console(highlight=False, soft_wrap=True)
    folder = world_dir(settings)
    if ensure_world(folder, seed=seed, regenerate=regenerate):
        console.print(f"Demo world generated in {folder} (seed {seed}).")
    else:
        console.print(f"Demo world: {folder}")
    store = ImageStore.from_settings(settings)
    registry = load_registry(folder / "registry.yaml", store=store)
    with context.database(settings) as database, database.session() as session:
        report = import_registry(session, registry, store)
    console.print(f"Registry: {report.brands} brand(s), {len(report.changes)} change(s).")
    with start_marketplace(folder, settings.data_dir / "demo-port") as market:
        console.print(f"Demo marketplace serving on {market.url}/ ; scanning it...")
        # The shops are crawled whole; the search-only JavaScript marketplace (/js) is searched through
        # its browser profile, and the search-only marketplace behind an eBay-shaped API (/ebay) through its
        # API source, both for the queries planned from the registry (services/queryplan.py).
        summary = run_scan_flow(settings, start_urls=[market.url + "/"], profiles=["jsdemo"], base_url=market.url,
                                targets_file=write_demo_sources(settings, market.url), verbose=verbose)
    print_summary(console, summary)
    print_top_suspects(console, settings, top=top)
    cmd = command_prefix(settings)
    console.print(Text(
        "\nWhere to look next:\n"
        f"  {cmd} review list          the review queue (filter with --brand, --status)\n"
        f"  {cmd} review show ID       one suspect with its reasons and history\n"
        f"  {cmd} review confirm|dismiss|report ID --by NAME\n"
        f"  {cmd} export suspects --format csv -o suspects.csv\n"
        f"  {cmd} scan --start-url URL scan your own shops (or write {settings.data_dir / 'scan.yaml'})"
    ))
    print_review_app(console, settings, cmd)
    write_digests(console, settings)
    if failed_crawls(summary):
        raise typer.Exit(1)


def demo_takedown_command(
    confirm: int = typer.Option(6, "--confirm", min=1, max=100, help="How many top counterfeits to confirm."),
    remove: int = typer.Option(3, "--remove", min=0, max=100, help="How many of them the demo shop takes down."),
) -> None:
    """On the demo data: confirm one brand's strongest counterfeits on one marketplace, build a takedown pack,
    let the demo shop remove some, recheck them, and show the outcomes."""
    from sqlalchemy import func, select  # deferred: start-up time

    from data.demo.marketplace import take_down
    from services import takedowns
    from services.review import set_status
    from storage.models import Listing, Marketplace, Match

    # The demo shop runs on loopback: stored URLs are never trusted, so the recheck needs the allowance.
    settings = context.settings().model_copy(update={"allow_private_network": True})
    console = Console(highlight=False, soft_wrap=True)
    folder = world_dir(settings)
    floor = settings.takedown_score_floor
    with context.database(settings) as database:
        with database.session() as session:
            strong = (select(Match.brand_id, Marketplace.name, func.count(Match.id))
                      .join(Listing, Listing.id == Match.listing_id).join(Marketplace)
                      .where(Match.klass == "counterfeit", Match.status == "new", Match.score >= floor)
                      .group_by(Match.brand_id, Marketplace.name).order_by(func.count(Match.id).desc()).limit(1))
            best = session.execute(strong).first()
            if best is None:
                raise LookalikeError("no open counterfeit in the demo data: run `make demo` first")
            brand_id, market, _count = best
            picked = list(session.scalars(
                select(Match).join(Listing, Listing.id == Match.listing_id).join(Marketplace)
                .where(Match.brand_id == brand_id, Marketplace.name == market, Match.klass == "counterfeit",
                       Match.status == "new", Match.score >= floor)
                .order_by(Match.score.desc(), Match.id).limit(confirm)))
            brand_name = picked[0].brand.name
            for match in picked:
                set_status(session, match.id, "confirmed", actor="demo-analyst", note="demo: checked the evidence")
            urls = [m.listing.url for m in picked]
        console.print(Text(f"Confirmed {len(picked)} counterfeit(s) of {brand_name} on {market} as demo-analyst."))
        out = settings.data_dir / f"takedown-{plain(brand_name, 40).replace(' ', '-')}.zip"
        with start_marketplace(folder, settings.data_dir / "demo-port"):
            result = takedowns.build_pack(database, settings, brand=brand_name, out=out, fmt="generic",
                                          marketplace=market, actor="demo-analyst")
            console.print(Text(f"Takedown pack: {out} ({result.items} notice(s), {result.batches} batch(es), "
                               f"{len(result.refused)} refused by the notice guard)"))
            gone = [url.rstrip("/").rsplit("/", 1)[-1] for url in urls[:remove]]
            take_down(folder, gone)
            console.print(f"The demo shop removed {len(gone)} of them; rechecking the reported listings...")
            changed = takedowns.verify_removals(database, settings)
        console.print(f"Recheck: {changed['removed']} removed, {changed['edited']} edited, "
                      f"{changed['failed_marketplaces']} marketplace(s) not answered.")
        with database.session() as session:
            rows = takedowns.takedown_stats(session, by="marketplace")
        for row in rows:
            median = "-" if row.median_hours_to_removal is None else f"{row.median_hours_to_removal:.2f} h"
            console.print(Text(f"  {plain(row.group, 40)}: reported {row.reported}, removed {row.removed}, "
                               f"median time to removal {median}"))
    cmd = command_prefix(settings)
    console.print(Text(f"Look inside: unzip -l {out}   ·   {cmd} stats takedowns   ·   {cmd} evidence verify"))


def write_digests(console: Console, settings: Settings) -> None:
    """Each demo owner's digest as an .eml file in the data folder (never mailed), and where they are."""
    from services.digests import send_digests  # the mail modules load only when the demo gets here

    folder = settings.digests_folder
    with context.database(settings) as database:
        run = send_digests(database, settings, out_dir=folder, force=True)
    written = [r for r in run.results if r.outcome == "written"]
    console.print(f"\nOwner digests: {len(written)} new, written as .eml files into {folder}")
    for result in written:
        console.print(Text(f"  {result.path}  ({result.items} item(s), {plain(result.owner, 60)})"))
    if not written:
        console.print("  nothing new since the last digests: " + (", ".join(
            p.name for p in sorted(folder.glob("digest-*.eml"))[-5:]) or "none yet"))
    console.print(Text(f"  open one in a mail client, or in a browser: {command_prefix(settings)} digest preview "
                       "FILE.eml -o digest.html"))


def print_review_app(console: Console, settings: Settings, cmd: str) -> None:
    """Create the demo logins (new passwords each run) and say how to open the review app on this data."""
    from services.accounts import ensure_demo_accounts

    with context.database(settings) as database, database.session() as session:
        logins = ensure_demo_accounts(session)
    lines = [f"\nReview app (the browser workplace):\n  {cmd} serve      then open http://127.0.0.1:8000/",
             "  dashboard (charts of every night): http://127.0.0.1:8000/dashboard",
             f"  invite a brand owner: {cmd} users invite OWNER@EXAMPLE.COM --company NAME --print-link"]
    for name, password, role, brands in logins:
        scope = f"owner of {', '.join(brands)}" if brands else role
        lines.append(f"  log in as {name} / {password}   ({scope})")
    console.print(Text("\n".join(lines)))


def command_prefix(settings: Settings) -> str:
    """How to call this CLI again on the same data: the executable as it was invoked (``.venv/bin/lookalike``
    from ``make demo``) with ``LOOKALIKE_DATA_DIR`` when the data folder is not the default."""
    from core.settings import default_data_dir

    program = Path(sys.argv[0])
    name = str(program) if program.name == "lookalike" and program.parent != Path() else "lookalike"
    if settings.data_dir.resolve() != default_data_dir().resolve():
        name = f"LOOKALIKE_DATA_DIR={settings.data_dir} {name}"
    return name


def register(app: typer.Typer) -> None:
    app.command("demo-takedown")(demo_takedown_command)
    app.command("demo")(demo_command)
