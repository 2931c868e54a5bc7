"""``lookalike eval``: score labelled demo worlds through the production path and print the figures."""

from __future__ import annotations

from pathlib import Path

import typer

from cli import context
from core.errors import LookalikeError

HELD_OUT = (101, 202, 303, 404, 505, 606, 707, 808, 909, 1010)
"""Held-out seeds (the same as ``data.demo.generate.HELD_OUT_SEEDS``, repeated so that ``--help`` and the
refusal below need no import of the generator)."""
HELD_OUT_WORLD2 = (2101, 2202, 2303, 2404, 2505, 2606)
"""Held-out seeds of the second, independent world (``data.world2.generate.HELD_OUT_SEEDS``, repeated for
the same reason)."""
DEFAULT_SEED = {"demo": 7, "world2": 2001}
"""The seed a generator uses for an empty --world folder when --seed is not given (a tuning seed)."""


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise LookalikeError(f"--seeds takes a comma-separated list of integers, not {text[:60]!r}") from None
    if not seeds or any(s < 0 for s in seeds):
        raise LookalikeError("--seeds takes at least one non-negative integer")
    return list(dict.fromkeys(seeds))


def _decisions(url: str) -> list[tuple[float, bool]] | None:
    """Analysts' decisions in the configured database, or None when there is no such database yet."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    from services.evaluation import analyst_decisions  # deferred: start-up time
    from storage.db import Database  # deferred: start-up time (SQLAlchemy, Alembic)

    try:
        with Database.opened(url, migrate=False) as database, database.session() as session:
            return analyst_decisions(session)
    except Exception as exc:  # noqa: BLE001 - a report extra: say why it is missing, never fail the eval
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        typer.echo(f"note: no calibration report, cannot read {url!r}: {first[:200]}", err=True)
        return None


def evaluate(
    world: Path | None = typer.Option(
        None, "--world", help="One demo world folder (generated there first when empty). "
        "Default without --seeds: <data_dir>/demo-world (world2: <data_dir>/world2-world)."
    ),
    seeds: str | None = typer.Option(
        None, "--seeds", help="Comma-separated world seeds, e.g. 7,11,23 (tuning seeds); each world is generated "
        "once under <data_dir>/demo-worlds/seed-N (world2-seed-N). Held-out seeds (demo: 101, 202, 303, 404, 505, "
        "606, 707, 808, 909, 1010; world2: 2101, 2202, 2303, 2404, 2505, 2606) need --held-out."
    ),
    generator: str = typer.Option(
        "demo", "--generator", help="Which world generator makes the worlds: demo (the project's own) or world2 "
        "(the independent held-out world, tuning seeds 2001-2003)."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of the world generated into an empty --world folder (default: 7; world2: 2001)."
    ),
    brands: int | None = typer.Option(
        None, "--brands", min=4, help="Brands per generated world (default: 12; world2: 10; small worlds: 4)."
    ),
    held_out: bool = typer.Option(
        False, "--held-out", help="Allow held-out seeds: measure them only once, at the end, never to tune."
    ),
    target_precision: float = typer.Option(
        0.97, "--target-precision", min=0.0, max=1.0, help="Report the lowest threshold reaching this precision on dev."
    ),
    workers: int = typer.Option(2, "--workers", min=1, help="Processes computing image signatures."),
    ocr: bool | None = typer.Option(None, "--ocr/--no-ocr", help="Read text in images (default: the setting)."),
    eval_db: str | None = typer.Option(
        None, "--eval-db", help="Database URL to import one world into (an empty database, e.g. a scratch PostgreSQL one; "
        "default: a temporary SQLite file per world). Never the production database."
    ),
    calibration: bool = typer.Option(
        True, "--calibration/--no-calibration",
        help="Also report calibration against analysts' decisions in the configured database, when there are any.",
    ),
) -> None:
    """Score labelled demo worlds as the scan does (registry import, stored listings and images, the
    signature stage, the scan's matcher) and print per world and pooled: precision, recall, F1 and
    false-positive rate per split, recall per disguise kind, false-positive rate per negative kind, classes,
    a reliability table, the threshold reaching --target-precision, and a threshold sweep."""
    # deferred: start-up time (the evaluation loads the matching engine, SQLAlchemy, Pillow)
    from matching.evaluate import format_calibration, format_report
    from services.evaluation import evaluate_world_dir, generate_world_into, pooled, world_for_seed
    from services.signatures import SigningConfig

    settings = context.settings()
    if generator not in DEFAULT_SEED:
        raise LookalikeError(f"--generator takes demo or world2, not {generator[:40]!r}")
    held_out_seeds = HELD_OUT if generator == "demo" else HELD_OUT_WORLD2
    prefix = "" if generator == "demo" else f"{generator}-"
    if eval_db and eval_db == settings.database_url:
        raise LookalikeError("--eval-db must not be the configured database: the worlds would be imported into it")
    worlds: list[tuple[str, Path]] = []
    if seeds is not None:
        if world is not None:
            raise LookalikeError("give --world or --seeds, not both")
        chosen = _seeds(seeds)
        blocked = [s for s in chosen if s in held_out_seeds]
        if blocked and not held_out:
            raise LookalikeError(f"seed(s) {', '.join(map(str, blocked))} are held out: pass --held-out to "
                                 "measure them (once, at the end; never tune on them)")
        if eval_db and len(chosen) > 1:
            raise LookalikeError("--eval-db takes one world: the brands of several worlds would be scored together")
        for s in chosen:
            typer.echo(f"world seed {s} ...", err=True)
            worlds.append((f"{prefix}seed-{s}", world_for_seed(settings.data_dir / "demo-worlds", s, brands=brands,
                                                                workers=workers, generator=generator)))
    else:
        folder = world or settings.data_dir / ("demo-world" if generator == "demo" else f"{generator}-world")
        if folder.exists() and not folder.is_dir():
            raise LookalikeError(f"{folder} is not a folder")
        if not (folder / "registry.yaml").is_file():
            if folder.exists() and any(folder.iterdir()):
                raise LookalikeError(f"{folder} holds no registry.yaml and is not empty: give an empty folder")
            seed = DEFAULT_SEED[generator] if seed is None else seed
            if seed in held_out_seeds and not held_out:
                raise LookalikeError(f"seed {seed} is held out: pass --held-out to measure it")
            typer.echo(f"generating a {generator} world (seed {seed}) in {folder} ...", err=True)
            generate_world_into(folder, seed=seed, brands=brands, workers=workers, generator=generator)
        worlds.append((folder.name, folder))
    signing = SigningConfig.from_settings(settings, workers=workers, **({} if ocr is None else {"ocr": ocr}))
    reports = []
    for group, folder in worlds:
        typer.echo(f"scoring {folder} through the production path ...", err=True)
        try:
            reports.append(evaluate_world_dir(folder, settings=settings, db_url=eval_db, group=group,
                                              signing=signing))
        except (OSError, ValueError, KeyError) as exc:
            raise LookalikeError(f"cannot evaluate demo world {folder}: {str(exc)[:300]}") from None
    report = pooled(reports)
    from matching.ocr import ocr_available  # deferred: see above

    engine = signing.ocr_engine
    photo_text = (f"on ({engine})" if ocr_available(engine) else f"off ({engine} is not installed)"  # type: ignore[arg-type]
                  ) if signing.ocr else "off"
    typer.echo("Worlds: " + ", ".join(f"{g} ({f})" for g, f in worlds))
    typer.echo(f"Photo text (OCR): {photo_text}\n")
    typer.echo(format_report(report, target_precision=target_precision))
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    if calibration:
        decisions = _decisions(settings.database_url)
        if decisions is not None:
            typer.echo("\n" + format_calibration(decisions))


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate)
