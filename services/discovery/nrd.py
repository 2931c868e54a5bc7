"""Newly registered domains: import a daily list (a zip or a text file of names, as the public feeds publish
it) from a path or a URL, and match every name as the other feeds do.

A URL is fetched through the network policy with the crawler's limits; a file (or the unzipped list) larger
than ``nrd_max_bytes`` is refused.  Lines may hold a name alone, or a name then other fields separated by
commas, tabs or spaces (``example.com,2026-12-06``); ``#`` starts a comment.  Names that are not domain names
are counted, never fatal.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import LookalikeError
from core.netpolicy import fetch
from core.settings import Settings
from matching.domains import BadDomainName, DomainMatcher, parse_name
from services.discovery.candidates import record_hits
from storage.db import Database

#: Names read per transaction.
COMMIT_EVERY = 5000


@dataclass
class NrdReport:
    """What an import read and found."""

    source: str
    names: int = 0
    bad_names: int = 0
    hits: int = 0
    new_candidates: int = 0

    def line(self) -> str:
        return (f"{self.source}: {self.names} names read, {self.bad_names} not domain names, "
                f"{self.hits} spell a mark, {self.new_candidates} new candidates")


def read_source(source: str, settings: Settings) -> tuple[bytes, str]:
    """The bytes of a list and its name: ``source`` is a path, or an http(s) URL fetched under the policy."""
    limit = settings.nrd_max_bytes
    if source.startswith(("http://", "https://")):
        answer = fetch(source, max_bytes=limit, user_agent=settings.rendered_user_agent,
                       allow_private=settings.allow_private_network, timeout=settings.download_timeout,
                       total_timeout=settings.download_timeout * 10)
        if answer.status != 200:
            raise LookalikeError(f"{source[:200]}: HTTP {answer.status}")
        return answer.body, Path(urlsplit(source).path).name or urlsplit(source).netloc
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > limit:
            raise LookalikeError(f"{path}: larger than {limit} bytes (nrd_max_bytes)")
        return path.read_bytes(), path.name
    except OSError as exc:
        raise LookalikeError(f"{path}: cannot read ({exc.strerror or exc})") from None


def list_text(data: bytes, *, limit: int, name: str) -> str:
    """The names of a list as text: a zip's text members joined (each member and the total bounded by
    ``limit`` after unzipping), or the file itself."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                parts, total = [], 0
                for info in archive.infolist():
                    if info.is_dir():
                        continue
                    if total + info.file_size > limit:
                        raise LookalikeError(f"{name}: unzips to more than {limit} bytes (nrd_max_bytes)")
                    with archive.open(info) as member:
                        chunk = member.read(limit - total + 1)
                    total += len(chunk)
                    if total > limit:
                        raise LookalikeError(f"{name}: unzips to more than {limit} bytes (nrd_max_bytes)")
                    parts.append(chunk)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
            raise LookalikeError(f"{name}: not a readable zip ({str(exc)[:100]})") from None
        data = b"\n".join(parts)
    if b"\x00" in data[:4096]:
        raise LookalikeError(f"{name}: not a text list of domain names")
    return data.decode("utf-8", errors="replace")


def names_of(text: str) -> list[str]:
    """The first field of each line that is not blank or a comment."""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line.replace(",", " ").replace("\t", " ").split()[0][:1000])
    return out


def import_nrd(database: Database, source: str, matcher: DomainMatcher, *, settings: Settings) -> NrdReport:
    """Read a list of newly registered domains and store a candidate for every name that spells a mark."""
    data, name = read_source(source, settings)
    text = list_text(data, limit=settings.nrd_max_bytes, name=name)
    report = NrdReport(source=name[:100])
    feed = f"nrd:{name[:60]}"
    names = names_of(text)
    for start in range(0, len(names), COMMIT_EVERY):
        with database.session() as session:  # one transaction per chunk of the list
            for raw in names[start:start + COMMIT_EVERY]:
                report.names += 1
                try:
                    parse_name(raw)
                except BadDomainName:
                    report.bad_names += 1
                    continue
                hits = matcher.match(raw)
                if hits:
                    report.hits += 1
                    report.new_candidates += len(record_hits(session, hits, feed=feed))
    return report
