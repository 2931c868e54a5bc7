"""The Certificate Transparency monitor: follows logs, keeps each log's position in the database, and turns
the DNS names of new certificates into candidates.

Two read APIs (docs/discovery.md):

- RFC 6962: ``<log>/ct/v1/get-sth`` gives the tree size, ``<log>/ct/v1/get-entries?start=&end=`` a batch of
  entries; a log may return fewer entries than asked (its batch cap), and the monitor goes on from the last
  entry it got.
- Static CT API (c2sp.org/static-ct-api): ``<log>/checkpoint`` gives the tree size, ``<log>/tile/data/<N>``
  (or ``.p/<W>`` for the partial last tile) 256 entries at a time, gzip or not.

Every request goes through the network policy (:mod:`core.netpolicy`) with the crawler's limits.  Fetching
(:class:`LogReader`) is apart from matching (:func:`monitor_log`), as in certificate-transparency-go's
scanner.  Each batch's candidates and the log's new position are committed in one transaction, so a restart
neither loses entries nor reads them twice.  A log that cannot be reached or answers garbage fails its own
run (:class:`LogFailed`, the cause kept in ``ct_log_states.last_error``); :func:`monitor_logs` goes on with
the other logs.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from sqlalchemy import select

from core.errors import LookalikeError
from core.netpolicy import Fetched, fetch
from core.settings import Settings
from matching.domains import DomainMatcher
from services.discovery.candidates import record_hits
from services.discovery.names import (
    BadEntry,
    LogEntry,
    certificate_names,
    parse_checkpoint,
    rfc6962_entry,
    tile_entries,
    tile_path,
)
from storage.db import Database
from storage.models import CtLogState, utcnow

TILE_WIDTH = 256
#: Largest answer read from a log (a get-entries batch or a data tile), and largest tile after gunzip.
MAX_ANSWER_BYTES = 32 * 1024 * 1024
Api = Literal["rfc6962", "static"]
#: ``(url) -> answer``: how a reader fetches (the policy's :func:`core.netpolicy.fetch` in production).
Getter = Callable[[str], Fetched]


class LogFailed(LookalikeError):
    """One log's run failed; the message names the log and the cause."""


@dataclass(frozen=True, slots=True)
class CtLog:
    """A log to follow: its URL prefix and its read API."""

    url: str
    api: Api = "rfc6962"

    @classmethod
    def parse(cls, text: str) -> CtLog:
        """``static:https://log.example/2026h1/``, ``rfc6962:https://...`` or a bare URL (RFC 6962)."""
        api, sep, rest = text.strip().partition(":")
        if sep and api in ("static", "rfc6962") and rest.startswith("http"):
            url, kind = rest, api
        else:
            url, kind = text.strip(), "rfc6962"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LookalikeError(f"{text[:200]!r}: a CT log is an http(s) URL, optionally after 'static:'")
        return cls(url=url.rstrip("/"), api=kind)  # type: ignore[arg-type]

    @property
    def feed(self) -> str:
        parts = urlsplit(self.url)
        return f"ct:{parts.netloc}{parts.path}"[:100]


def policy_getter(settings: Settings) -> Getter:
    """Fetch through the network policy with the crawler's user agent, timeout and private-network rule."""
    def get(url: str) -> Fetched:
        return fetch(url, max_bytes=MAX_ANSWER_BYTES, user_agent=settings.rendered_user_agent,
                     accept="application/json, application/octet-stream, text/plain",
                     allow_private=settings.allow_private_network, timeout=settings.download_timeout,
                     total_timeout=settings.download_timeout * 4)
    return get


class LogReader:
    """Reads one log's tree size and entries; every failure is a :class:`LookalikeError` or
    :class:`BadEntry` of one line."""

    def __init__(self, log: CtLog, get: Getter, *, batch_size: int = 256) -> None:
        self.log = log
        self._get = get
        self.batch_size = batch_size

    def _ok(self, path: str) -> bytes:
        answer = self._get(f"{self.log.url}/{path}")
        if answer.status != 200:
            raise LookalikeError(f"HTTP {answer.status} for /{path[:100]}")
        body = answer.body
        if (answer.header("Content-Encoding") or "").lower() == "gzip" or body[:2] == b"\x1f\x8b":
            body = _gunzip(body)
        return body

    def _json(self, path: str) -> dict:
        try:
            data = json.loads(self._ok(path))
        except (ValueError, UnicodeDecodeError):
            raise BadEntry(f"/{path[:100]} is not JSON") from None
        if not isinstance(data, dict):
            raise BadEntry(f"/{path[:100]} is not a JSON object")
        return data

    def tree_size(self) -> int:
        if self.log.api == "static":
            try:
                return parse_checkpoint(self._ok("checkpoint").decode("utf-8"))
            except UnicodeDecodeError:
                raise BadEntry("the checkpoint is not UTF-8 text") from None
        size = self._json("ct/v1/get-sth").get("tree_size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise BadEntry("get-sth has no tree_size")
        return size

    def entries(self, start: int, tree_size: int) -> tuple[list[LogEntry | BadEntry], int]:
        """The entries from ``start`` (at most one batch or one tile) and the index after the last one.
        An entry that cannot be decoded comes back as its :class:`BadEntry`, in its place."""
        if self.log.api == "static":
            return self._tile(start, tree_size)
        end = min(tree_size, start + self.batch_size) - 1
        raw = self._json(f"ct/v1/get-entries?start={start}&end={end}").get("entries")
        if not isinstance(raw, list) or not raw:
            raise BadEntry(f"get-entries {start}-{end} returned no entries")
        raw = raw[: end - start + 1]
        out: list[LogEntry | BadEntry] = []
        for n, item in enumerate(raw):
            try:
                out.append(rfc6962_entry(start + n, item))
            except BadEntry as exc:
                out.append(BadEntry(f"entry {start + n}: {exc}"))
        return out, start + len(raw)

    def _tile(self, start: int, tree_size: int) -> tuple[list[LogEntry | BadEntry], int]:
        tile = start // TILE_WIDTH
        first = tile * TILE_WIDTH
        width = min(TILE_WIDTH, tree_size - first)
        path = f"tile/data/{tile_path(tile)}" + (f".p/{width}" if width < TILE_WIDTH else "")
        # A tile is decoded whole: an undecodable tile fails the run (its entries cannot be told apart).
        entries = tile_entries(first, self._ok(path), count=width)
        return [e for e in entries if e.index >= start], first + width


def _gunzip(body: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, MAX_ANSWER_BYTES + 1)
    except zlib.error:
        raise BadEntry("the answer is not valid gzip") from None
    if len(out) > MAX_ANSWER_BYTES or inflater.unconsumed_tail:
        raise BadEntry(f"the answer inflates to more than {MAX_ANSWER_BYTES} bytes")
    return out


@dataclass
class LogRun:
    """What one run over one log did."""

    log: str
    start: int = 0
    end: int = 0
    tree_size: int = 0
    entries: int = 0
    names: int = 0
    bad_entries: int = 0
    bad_names: int = 0
    new_candidates: int = 0
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        head = f"{self.log}: entries {self.start}..{self.end} of {self.tree_size}"
        body = (f"{self.entries} read, {self.names} names, {self.new_candidates} new candidates, "
                f"{self.bad_entries} malformed entries skipped")
        return f"{head}: {body}" + (f"; FAILED: {self.error}" if self.error else "")


def _state(session, log: CtLog) -> CtLogState:
    state = session.scalar(select(CtLogState).where(CtLogState.url == log.url))
    if state is None:
        state = CtLogState(url=log.url, api=log.api, next_index=0, tree_size=0)
        session.add(state)
        session.flush()
    return state


def monitor_log(database: Database, reader: LogReader, matcher: DomainMatcher, *, max_entries: int,
                start_at_end: bool = False) -> LogRun:
    """Read one log from its stored position up to its tree size (at most ``max_entries``), matching every
    name; raises :class:`LogFailed` with the cause after recording it (entries read before the failure stay
    read).  ``start_at_end``: a log seen for the first time is followed from its current size instead of
    from entry 0 (a real log holds billions of entries)."""
    log = reader.log
    run = LogRun(log=log.url)
    try:
        size = reader.tree_size()
        with database.session() as session:  # committed on leaving the block, as each batch below
            state = _state(session, log)
            if state.next_index == 0 and state.tree_size == 0 and start_at_end:
                state.next_index = size
            state.tree_size = max(state.tree_size, size)
            run.start = run.end = state.next_index
            run.tree_size = size
        position = run.start
        while position < size and run.entries < max_entries:
            batch, after = reader.entries(position, size)
            with database.session() as session:
                state = _state(session, log)
                if state.next_index != position:
                    raise LookalikeError("another monitor moved this log's position; stopping")
                for entry in batch:
                    if isinstance(entry, BadEntry):
                        run.bad_entries += 1
                        if len(run.problems) < 20:
                            run.problems.append(str(entry))
                        continue
                    _match_entry(session, entry, matcher, run, feed=log.feed)
                    run.entries += 1
                state.next_index = after
                state.last_run_at = utcnow()
            if after <= position:
                raise BadEntry(f"no progress at entry {position}")
            position = run.end = after
    except (LookalikeError, BadEntry) as exc:
        run.error = str(exc)[:500]
        _record_run(database, log, error=run.error)
        raise LogFailed(f"{log.url}: {run.error}") from None
    _record_run(database, log, error=None)
    return run


def _match_entry(session, entry: LogEntry, matcher: DomainMatcher, run: LogRun, *, feed: str) -> None:
    try:
        names = certificate_names(entry.der)
    except BadEntry as exc:
        run.bad_entries += 1
        if len(run.problems) < 20:
            run.problems.append(f"entry {entry.index}: {exc}")
        return
    fingerprint = hashlib.sha256(entry.der).hexdigest()
    for name in names:
        run.names += 1
        hits = matcher.match(name)
        if hits:
            run.new_candidates += len(record_hits(session, hits, feed=feed, certificate=fingerprint))


def _record_run(database: Database, log: CtLog, *, error: str | None) -> None:
    with database.session() as session:
        state = _state(session, log)
        state.last_run_at = utcnow()
        state.last_error = error


def monitor_logs(database: Database, logs: Sequence[CtLog], matcher: DomainMatcher, get: Getter, *,
                 max_entries: int, batch_size: int = 256) -> list[LogRun]:
    """Each log in turn; a failed log's run carries its error and the others go on."""
    runs = []
    for log in logs:
        try:
            runs.append(monitor_log(database, LogReader(log, get, batch_size=batch_size), matcher,
                                    max_entries=max_entries))
        except LogFailed as exc:
            runs.append(LogRun(log=log.url, error=str(exc)))
    return runs


__all__ = ["CtLog", "LogFailed", "LogReader", "LogRun", "configured_logs", "follow_log", "monitor_log", "monitor_logs",
           "policy_getter"]


def follow_log(settings: Settings, database: Database, log: CtLog, matcher: DomainMatcher, *,
               from_start: bool = False) -> LogRun:
    """One monitor run over one log with the settings' limits (a new log is followed from its current size
    unless ``from_start``); raises :class:`LogFailed`."""
    reader = LogReader(log, policy_getter(settings), batch_size=settings.ct_batch_size)
    return monitor_log(database, reader, matcher, max_entries=settings.ct_max_entries_per_run,
                       start_at_end=not from_start)


def configured_logs(settings: Settings) -> list[CtLog]:
    """The logs of the ``ct_logs`` setting (``LookalikeError`` for one that is not a log URL)."""
    return [CtLog.parse(text) for text in settings.ct_logs]
