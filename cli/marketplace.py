"""``lookalike marketplace serve``: run the demo marketplace in the foreground (Ctrl-C stops it)."""

from __future__ import annotations

from pathlib import Path

import typer

from cli import context
from core.errors import LookalikeError
from data.demo.generate import generate_world
from data.demo.marketplace import DemoMarketplace


def serve(
    world: Path | None = typer.Option(None, "--world", help="A demo world folder (default: generate one "
                                      "into <data_dir>/demo-world)."),
    seed: int = typer.Option(7, "--seed", help="Seed of the generated world."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port)."),
    slow_seconds: float = typer.Option(1.0, "--slow-seconds", min=0, help="Delay of the deliberately slow page."),
) -> None:
    """Serve a demo world as several shops on 127.0.0.1, with the faults of real sites."""
    settings = context.settings()
    folder = world or settings.data_dir / "demo-world"
    if not (folder / "world.json").is_file():
        if world is not None:
            raise LookalikeError(f"{folder} holds no world.json (make one with python -m data.demo.generate)")

        typer.echo(f"generating the demo world (seed {seed}) into {folder} …")
        generate_world(folder, seed=seed)
    try:
        market = DemoMarketplace(folder, port=port, slow_seconds=slow_seconds)
    except OSError as exc:
        raise LookalikeError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    typer.echo(f"demo marketplace on {market.url}  ({len(market.world.listings)} listings, "
               f"{len(market.world.shops)} shops)")
    typer.echo(f"  crawl it:   lookalike crawl --start-url {market.url}/ --marketplace demo")
    typer.echo(f"  search it:  lookalike crawl --profile demo --base-url {market.url} --query WORD")
    try:
        market.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")
