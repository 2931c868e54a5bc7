"""Run the matching benchmarks and print one table: ``.venv/bin/python -m bench [--listings N] [--crawl]``."""

from __future__ import annotations

import argparse
import platform
import sys

from rich.console import Console
from rich.table import Table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--listings", type=int, default=5000, help="listings streamed through the matcher")
    parser.add_argument("--baseline-listings", type=int, default=20, help="listings for the plain loop")
    parser.add_argument("--images", type=int, default=40, help="1200x1200 JPEGs hashed")
    parser.add_argument("--crawl", action="store_true", help="also run the crawl benchmark (bench.crawl)")
    args = parser.parse_args(argv)

    from bench import hashing, matching

    rows = hashing.run(args.images) + matching.run(args.listings, args.baseline_listings)
    table = Table(title=f"Lookalike benchmarks ({platform.python_implementation()} {platform.python_version()}, "
                  f"{platform.machine()})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("note")
    for row in rows:
        table.add_row(*row)
    Console(width=160).print(table)
    if args.crawl:
        from bench import crawl

        return crawl.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
