"""Certificate Transparency entries to DNS names: pure parsing of hostile bytes, no network.

An RFC 6962 ``get-entries`` entry is a ``MerkleTreeLeaf`` (``leaf_input``) and its ``extra_data``; a Static CT
API data tile is a run of ``TileLeaf`` structures (c2sp.org/static-ct-api).  Both carry either an X.509
certificate or a precertificate; :func:`certificate_names` reads the subject common name and every DNS name of
the subject alternative names with ``cryptography``.  Any malformed structure raises :class:`BadEntry` with
one line saying what was wrong.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

#: Most DNS names taken from one certificate (a CDN certificate can carry hundreds).
MAX_NAMES_PER_CERT = 1000
X509_ENTRY = 0
PRECERT_ENTRY = 1


class BadEntry(ValueError):
    """A log entry that is not what RFC 6962 or the Static CT API says; the message is one line."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log entry: its index in the log, whether it is a precertificate, and its certificate (DER)."""

    index: int
    precert: bool
    der: bytes
    timestamp_ms: int = 0


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise BadEntry(f"truncated: wanted {n} bytes at offset {self.pos} of {len(self.data)}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vector(self, length_bytes: int) -> bytes:
        return self.take(self.uint(length_bytes))

    @property
    def left(self) -> int:
        return len(self.data) - self.pos


def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise BadEntry(f"{what} is not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadEntry(f"{what} is not base64") from None


def _timestamped_entry(reader: _Reader) -> tuple[int, int, bytes]:
    """(timestamp, entry_type, x509 DER or b'' for a precert) of an RFC 6962 ``TimestampedEntry``."""
    timestamp = reader.uint(8)
    entry_type = reader.uint(2)
    if entry_type == X509_ENTRY:
        der = reader.vector(3)
    elif entry_type == PRECERT_ENTRY:
        reader.take(32)  # issuer_key_hash
        reader.vector(3)  # the TBSCertificate; names are read from the full precertificate
        der = b""
    else:
        raise BadEntry(f"unknown entry type {entry_type}")
    reader.vector(2)  # extensions
    return timestamp, entry_type, der


def rfc6962_entry(index: int, entry: object) -> LogEntry:
    """An entry of a ``get-entries`` answer (``{"leaf_input", "extra_data"}``)."""
    if not isinstance(entry, dict):
        raise BadEntry("entry is not an object")
    leaf = _Reader(_b64(entry.get("leaf_input"), "leaf_input"))
    version, leaf_type = leaf.uint(1), leaf.uint(1)
    if version != 0 or leaf_type != 0:
        raise BadEntry(f"unknown leaf version {version} or type {leaf_type}")
    timestamp, entry_type, der = _timestamped_entry(leaf)
    if entry_type == PRECERT_ENTRY:
        # extra_data is a PrecertChainEntry: the precertificate first, then its chain.
        extra = _Reader(_b64(entry.get("extra_data"), "extra_data"))
        der = extra.vector(3)
    return LogEntry(index=index, precert=entry_type == PRECERT_ENTRY, der=der, timestamp_ms=timestamp)


def tile_entries(first_index: int, data: bytes, *, count: int) -> list[LogEntry]:
    """The ``count`` entries of a Static CT API data tile whose first entry is ``first_index``."""
    reader = _Reader(data)
    out = []
    for n in range(count):
        timestamp, entry_type, der = _timestamped_entry(reader)
        if entry_type == PRECERT_ENTRY:
            der = reader.vector(3)
        chain = reader.vector(2)
        if len(chain) % 32:
            raise BadEntry("certificate_chain is not a list of SHA-256 fingerprints")
        out.append(LogEntry(index=first_index + n, precert=entry_type == PRECERT_ENTRY, der=der,
                            timestamp_ms=timestamp))
    if reader.left:
        raise BadEntry(f"{reader.left} bytes left after {count} entries")
    return out


def certificate_names(der: bytes) -> list[str]:
    """The DNS names of a certificate or precertificate (DER): the SAN DNS names, then the subject common
    names, in order, duplicates dropped, at most :data:`MAX_NAMES_PER_CERT`, as written (not yet checked)."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise BadEntry(f"not a certificate ({str(exc)[:100]})") from None
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names.extend(str(n) for n in san.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        pass
    except (ValueError, TypeError) as exc:
        raise BadEntry(f"unreadable extensions ({str(exc)[:100]})") from None
    try:
        names.extend(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    except ValueError as exc:
        raise BadEntry(f"unreadable subject ({str(exc)[:100]})") from None
    return list(dict.fromkeys(names))[:MAX_NAMES_PER_CERT]


def tile_path(index: int) -> str:
    """The Static CT API path of tile ``index``: ``x001/x234/067`` for 1234067."""
    parts = []
    while True:
        parts.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    parts.reverse()
    return "/".join([f"x{p}" for p in parts[:-1]] + [parts[-1]])


def parse_checkpoint(text: str) -> int:
    """The tree size of a checkpoint (origin line, size line, root hash line, blank line, signatures)."""
    lines = text.split("\n")
    if len(lines) < 3 or not lines[1].isdigit() or len(lines[1]) > 20:
        raise BadEntry("not a checkpoint: no tree size on its second line")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except (binascii.Error, ValueError):
        raise BadEntry("not a checkpoint: the root hash is not base64") from None
    if len(root) != 32:
        raise BadEntry("not a checkpoint: the root hash is not 32 bytes")
    return int(lines[1])


__all__ = ["BadEntry", "LogEntry", "certificate_names", "parse_checkpoint", "rfc6962_entry", "tile_entries",
           "tile_path"]
