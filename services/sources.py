"""Sources as one concept: what the scan file's ``sources:`` are and how each one stands.

``lookalike sources`` lists them (:func:`source_rows`): kind, what it reads, its last run (when, how it
ended, the error in words), today's API calls against its daily budget, a Retry-After wait still running,
and the queries it left for the next run.  ``lookalike sources add`` adds one to the scan file
(:func:`add_source`), validated as the scan will read it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import Settings
from core.yamlfile import YAMLProblem, load_yaml
from crawlers.connectors import connector
from crawlers.stats import CrawlStats
from services.scantargets import (
    MAX_SCAN_FILE_BYTES,
    ScanFileError,
    ScanTarget,
    default_targets_file,
    parse_targets,
)
from storage.db import Database
from storage.models import CrawlRun, SourceState, utcnow
from storage.sources import aware, calls_left, today


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One source as ``lookalike sources`` shows it (None where unknown or not applicable)."""

    name: str
    kind: str
    reads: str
    last_run_at: dt.datetime | None
    last_outcome: str | None
    last_error: str | None
    calls_today: int | None
    daily_budget: int | None
    calls_left: int | None
    waiting_until: dt.datetime | None
    unfinished_queries: int
    listings_last_run: int | None


def what_it_reads(target: ScanTarget) -> str:
    if target.connector:
        return f"{connector(target.connector).TITLE}" + (f" {target.site}" if target.site else "")
    if target.profile:
        return f"profile {target.profile}" + (f" at {target.base_url}" if target.base_url else "")
    more = f" (+{len(target.start_urls) - 1})" if len(target.start_urls) > 1 else ""
    return f"{target.start_urls[0]}{more}" if target.start_urls else "-"


def daily_budget(target: ScanTarget) -> int | None:
    """The calls a day an API source may make: its own, else its connector's published quota."""
    if not target.connector:
        return None
    return target.daily_budget if target.daily_budget is not None else connector(target.connector).DEFAULT_DAILY_CALLS


def source_rows(settings: Settings, database: Database, *, targets_file: Path | str | None = None) -> list[SourceRow]:
    """Every named source of the scan file with its stored state; ``LookalikeError`` for a bad file."""
    path = Path(targets_file) if targets_file else default_targets_file(settings)
    if not path.is_file():
        raise ScanFileError(f"{path}: no such scan file (add sources with `lookalike sources add`)")
    targets = [t for t in parse_targets(path.read_text(encoding="utf-8"), source=str(path)) if t.source]
    with database.session() as session:
        return [_row(session, target) for target in targets]


def _row(session: Session, target: ScanTarget) -> SourceRow:
    name = target.source or ""
    state = session.get(SourceState, name) if target.connector else None
    budget = daily_budget(target)
    run = _last_run(session, target) if state is None or state.last_run_id is None else session.get(CrawlRun, state.last_run_id)
    stats = CrawlStats.from_json(run.stats) if run is not None else None
    waiting = aware(state.not_before) if state is not None else None
    return SourceRow(
        name=name, kind=target.kind or "-", reads=what_it_reads(target),
        last_run_at=aware(state.last_run_at) if state is not None and state.last_run_at else
        (aware(run.started_at) if run is not None else None),
        last_outcome=(state.last_outcome if state is not None and state.last_outcome else
                      (run.status if run is not None else None)),
        last_error=(state.last_error if state is not None and state.last_error else
                    (stats.error if stats is not None else None)),
        calls_today=(state.calls_today if state is not None and state.day == today() else 0) if budget is not None
        else None,
        daily_budget=budget,
        calls_left=calls_left(state, budget) if budget is not None else None,
        waiting_until=waiting if waiting is not None and waiting > utcnow() else None,
        unfinished_queries=len(state.resume or {}) if state is not None else 0,
        listings_last_run=stats.listings_stored if stats is not None else None,
    )


def _last_run(session: Session, target: ScanTarget) -> CrawlRun | None:
    key = target.crawl_request().target_key
    return session.scalar(select(CrawlRun).where(CrawlRun.target_key == key).order_by(CrawlRun.id.desc()).limit(1))


def add_source(settings: Settings, entry: dict[str, Any], *, targets_file: Path | str | None = None) -> Path:
    """Add ``entry`` (a ``sources:`` mapping) to the scan file, creating it when absent; the whole file is
    checked as the scan reads it before it is written.  The file is rewritten as plain YAML (its comments
    are not kept; the previous version is saved beside it as ``.bak``)."""
    path = Path(targets_file) if targets_file else default_targets_file(settings)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        raw = load_yaml(text, max_bytes=MAX_SCAN_FILE_BYTES) or {} if text else {}
    except YAMLProblem as exc:
        raise ScanFileError(f"{path}: not valid YAML: {exc.where}: {exc.problem}") from None
    if not isinstance(raw, dict):
        raise ScanFileError(f"{path}: a scan file is a mapping with 'shops', 'profiles' and/or 'sources'")
    entry = {k: v for k, v in entry.items() if v not in (None, [], "")}
    raw["sources"] = [*(raw.get("sources") or []), entry]
    new_text = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
    parse_targets(new_text, source=str(path))  # one line naming the problem; nothing written
    path.parent.mkdir(parents=True, exist_ok=True)
    if text:
        path.with_name(path.name + ".bak").write_text(text, encoding="utf-8")
    path.write_text(new_text, encoding="utf-8")
    return path

