"""``lookalike eval``: score the labelled demo world and print precision, recall and F1."""

from __future__ import annotations

from pathlib import Path

import typer

from lookalike.cli import context
from lookalike.errors import LookalikeError


def evaluate(
    world: Path | None = typer.Option(
        None, "--world", help="Demo world folder (generated there first when it holds no registry.yaml). "
        "Default: <data_dir>/demo-world."
    ),
    seed: int = typer.Option(7, "--seed", help="Seed of the world generated when the folder is empty."),
    workers: int = typer.Option(2, "--workers", min=1, help="Processes computing image signatures."),
) -> None:
    """Score every labelled listing of a demo world; print P/R/F1 overall and per split, recall per
    disguise kind, false-positive rate per hard-negative kind, and a threshold sweep."""
    from matching.evaluate import evaluate_world, format_report, load_world

    settings = context.settings()
    world_dir = world or settings.data_dir / "demo-world"
    if world_dir.exists() and not world_dir.is_dir():
        raise LookalikeError(f"{world_dir} is not a folder")
    if not (world_dir / "registry.yaml").is_file():
        if world_dir.exists() and any(world_dir.iterdir()):
            raise LookalikeError(f"{world_dir} holds no registry.yaml and is not empty: give an empty folder")
        try:
            from data.demo.generate import generate_world
        except ImportError as exc:  # the demo generator is part of the source tree, not of every install
            raise LookalikeError(f"cannot generate a demo world: {exc}") from None
        typer.echo(f"generating demo world (seed {seed}) in {world_dir} ...", err=True)
        generate_world(world_dir, seed=seed)
    if not (world_dir / "listings.jsonl").is_file():
        raise LookalikeError(f"{world_dir} holds no listings.jsonl")
    try:
        data = load_world(world_dir, max_pixels=settings.max_image_pixels, workers=workers)
    except (OSError, ValueError, KeyError) as exc:
        raise LookalikeError(f"cannot read demo world {world_dir}: {exc}") from None
    report = evaluate_world(data, rates=settings.currency_rates)
    typer.echo(f"World {Path(world_dir)}\n")
    typer.echo(format_report(report))


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate)
