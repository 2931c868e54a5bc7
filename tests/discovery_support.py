"""Shared pieces of the discovery tests: a small registry with official domains, certificates made with
``cryptography``, and a fake RFC 6962 log and Static CT API log served from 127.0.0.1."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import http.server
import json
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

import core.netpolicy as netpolicy
from matching.domains import DomainBrand, DomainMatcher

#: A few dictionary words the tests treat as the lexicon (the real one takes seconds to load).
WORDS = frozenset({
    "panorama", "lip", "lips", "full", "tours", "online", "best", "plumper", "night", "mask", "garden", "cars",
    "news", "blog", "travel", "cafe", "shop", "store", "buy", "sale", "mail", "cloud", "home", "beauty",
    "caravan", "holidays", "now",
})


def is_word(word: str) -> bool:
    return word in WORDS


BRANDS = (
    DomainBrand(brand_id=1, name="Fullips", marks=("Fullips", "Full Lips"), official_domains=("fullips.com",),
                keywords=("lip", "plumper", "cosmetics")),
    DomainBrand(brand_id=2, name="Norama", marks=("Norama",), official_domains=("norama.io", "norama-shop.de"),
                keywords=("candle", "wax")),
)


def matcher(brands: Sequence[DomainBrand] = BRANDS) -> DomainMatcher:
    return DomainMatcher(brands, is_word=is_word, is_ordinary=is_word)


REGISTRY = """\
brands:
  - name: Fullips
    owner: Et Al Beauty
    category: cosmetics
    keywords: [lip, plumper]
    aliases: [Full Lips]
    domains: [fullips.com, Shop.Fullips.EU.]
  - name: Norama
    owner: Norama Home
    category: candles
    keywords: [candle, wax]
    domains: [norama.io]
"""


def write_registry(folder: Path, text: str = REGISTRY) -> Path:
    path = folder / "registry.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- certificates -------------------------------------------------------------------------------------------

_KEY = ec.generate_private_key(ec.SECP256R1())
_POISON = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.3")


def certificate(names: Sequence[str], *, common_name: str | None = None, precert: bool = False) -> bytes:
    """A self-signed certificate (DER) for ``names``; ``precert`` adds the CT poison extension."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name or (names[0] if names else "x"))])
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(_KEY.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now)
               .not_valid_after(now + dt.timedelta(days=90)))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                                        critical=False)
    if precert:
        builder = builder.add_extension(x509.UnrecognizedExtension(_POISON, b"\x05\x00"), critical=True)
    return builder.sign(_KEY, hashes.SHA256()).public_bytes(Encoding.DER)


def _u(n: int, size: int) -> bytes:
    return n.to_bytes(size, "big")


def _vec(data: bytes, size: int) -> bytes:
    return _u(len(data), size) + data


def _timestamped(der: bytes, precert: bool, *, extensions: bytes = b"") -> bytes:
    if precert:
        signed = hashlib.sha256(b"issuer").digest() + _vec(der[:200], 3)  # a TBS stand-in: never parsed
        return _u(1_700_000_000_000, 8) + _u(1, 2) + signed + _vec(extensions, 2)
    return _u(1_700_000_000_000, 8) + _u(0, 2) + _vec(der, 3) + _vec(extensions, 2)


def rfc6962_json_entry(der: bytes, *, precert: bool = False) -> dict:
    leaf = b"\x00\x00" + _timestamped(der, precert)
    extra = _vec(der, 3) + _vec(b"", 3) if precert else _vec(b"", 3)
    return {"leaf_input": base64.b64encode(leaf).decode(), "extra_data": base64.b64encode(extra).decode()}


def tile_leaf(der: bytes, *, precert: bool = False, index: int = 0) -> bytes:
    ext = b"\x00" + _vec(_u(index, 5), 2)
    out = _timestamped(der, precert, extensions=ext)
    if precert:
        out += _vec(der, 3)
    return out + _vec(hashlib.sha256(b"root").digest(), 2)


# --- fake logs ----------------------------------------------------------------------------------------------


class FakeRfc6962Log:
    """An RFC 6962 log: ``entries`` (JSON entries) of which the first ``size`` are published; get-entries
    answers at most ``cap`` entries.  ``requests`` records the (start, end) asked."""

    def __init__(self, entries: list[dict], *, cap: int = 32) -> None:
        self.entries = entries
        self.size = len(entries)
        self.cap = cap
        self.requests: list[tuple[int, int]] = []
        self.broken = False

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, dict[str, str]]:
        if self.broken:
            return 200, b"<html>not json", {}
        if path.endswith("/ct/v1/get-sth"):
            return 200, json.dumps({"tree_size": self.size, "timestamp": 1, "sha256_root_hash": "",
                                    "tree_head_signature": ""}).encode(), {}
        if path.endswith("/ct/v1/get-entries"):
            start, end = int(query["start"][0]), int(query["end"][0])
            self.requests.append((start, end))
            end = min(end, self.size - 1, start + self.cap - 1)
            return 200, json.dumps({"entries": self.entries[start:end + 1]}).encode(), {}
        return 404, b"", {}


class FakeStaticLog:
    """A Static CT API log served from a folder (checkpoint, gzip data tiles) written by :meth:`publish`."""

    def __init__(self, folder: Path, origin: str = "static.example/log") -> None:
        self.folder = folder
        self.origin = origin
        self.leaves: list[bytes] = []

    def publish(self, leaves: list[bytes]) -> None:
        """Write the checkpoint and the tiles for ``leaves`` (the tree grows; full tiles stay)."""
        from services.discovery.names import tile_path

        self.leaves = leaves
        size = len(leaves)
        (self.folder / "checkpoint").write_text(
            f"{self.origin}\n{size}\n{base64.b64encode(hashlib.sha256(b'%d' % size).digest()).decode()}\n\n"
            f"\u2014 {self.origin} AAAA\n", encoding="utf-8")
        for tile in range((size + 255) // 256):
            chunk = leaves[tile * 256:(tile + 1) * 256]
            name = f"tile/data/{tile_path(tile)}" + (f".p/{len(chunk)}" if len(chunk) < 256 else "")
            path = self.folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(gzip.compress(b"".join(chunk)))

    def answer(self, path: str, _query: dict[str, list[str]]) -> tuple[int, bytes, dict[str, str]]:
        target = (self.folder / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.folder.resolve()) or not target.is_file():
            return 404, b"", {}
        headers = {"Content-Encoding": "gzip"} if "/tile/" in path else {}
        return 200, target.read_bytes(), headers


@contextmanager
def serve(handler_of: dict[str, object]) -> Iterator[str]:
    """Serve each fake log under its prefix (``/a``, ``/b``) on 127.0.0.1; yields the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            parts = urlsplit(self.path)
            prefix, _, rest = parts.path.lstrip("/").partition("/")
            log = handler_of.get(prefix)
            status, body, headers = (404, b"", {}) if log is None else log.answer("/" + rest, parse_qs(parts.query))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def name_based_sites(monkeypatch, public: dict[str, str], answer) -> Iterator[list[tuple[str, str]]]:
    """Sites served by name on 127.0.0.1: connections to the ``public`` addresses are bent to one local
    server (any other connection fails the test); ``answer(host, path)`` gives (status, headers, body).
    Yields the (host, path) of every request."""
    seen: list[tuple[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            host = (self.headers.get("Host") or "").split(":")[0]
            seen.append((host, self.path))
            status, headers, body = answer(host, self.path)
            self.send_response(status)
            for key, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    real = socket.create_connection

    def bent(address, *args, **kwargs):
        if address[0] in public.values():
            return real(("127.0.0.1", server.server_address[1]), *args, **kwargs)
        pytest.fail(f"connected to {address}")

    monkeypatch.setattr(netpolicy.socket, "create_connection", bent)
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()
