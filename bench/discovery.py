"""Discovery's yardstick (issue 30's "done when"): a fake Certificate Transparency log of about 2,000 names
hiding 40 look-alike domains of a demo world's brands among unrelated and trap names
(:mod:`data.demo.ctnames`), read by the production monitor into a fresh database, scored by recall and
precision of the candidates, with the official domains checked never to be candidates.

    .venv/bin/python -m bench.discovery              # tuning seeds and held-out seeds, reported apart

The log is served in process: an RFC 6962 ``get-sth``/``get-entries`` answerer (batch cap 64) behind the
monitor's own :class:`services.discovery.ct.LogReader`; certificates are real X.509 made with
``cryptography`` (a fifth of them precertificates).  Held-out seeds are measured, never tuned on.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import random
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from core.netpolicy import Fetched
from data.demo.ctnames import certificates, ct_yardstick
from data.demo.generate import HELD_OUT_SEEDS, TUNING_SEEDS
from services.discovery.candidates import domain_matcher
from services.discovery.ct import CtLog, LogReader, monitor_log
from services.registry.load import load_registry
from services.registry.sync import import_registry
from storage.db import Database
from storage.imagestore import ImageStore
from storage.models import Brand, DomainCandidate

CAP = 64


@dataclass
class Score:
    seed: int
    role: str
    lookalikes: int = 0
    found: int = 0
    candidates: int = 0
    correct: int = 0
    official_candidates: int = 0
    misses: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.lookalikes if self.lookalikes else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.candidates if self.candidates else 1.0


def _der(names: list[str], key: ec.EllipticCurvePrivateKey, *, precert: bool) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])])
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + dt.timedelta(days=90))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False))
    if precert:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.3"), b"\x05\x00"), critical=True)
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)


def log_entries(certs: list[list[str]], seed: int) -> list[dict]:
    """RFC 6962 ``get-entries`` items for ``certs`` (a fifth precertificates)."""
    key = ec.generate_private_key(ec.SECP256R1())
    rng = random.Random(seed)
    out = []
    for names in certs:
        precert = rng.random() < 0.2
        der = _der(names, key, precert=precert)
        ts = (1_764_000_000_000).to_bytes(8, "big")
        if precert:
            signed = bytes(32) + len(der[:100]).to_bytes(3, "big") + der[:100]
            leaf = b"\x00\x00" + ts + b"\x00\x01" + signed + b"\x00\x00"
            extra = len(der).to_bytes(3, "big") + der + b"\x00\x00\x00"
        else:
            leaf = b"\x00\x00" + ts + b"\x00\x00" + len(der).to_bytes(3, "big") + der + b"\x00\x00"
            extra = b"\x00\x00\x00"
        out.append({"leaf_input": base64.b64encode(leaf).decode(), "extra_data": base64.b64encode(extra).decode()})
    return out


def memory_log(entries: list[dict]):
    """A getter answering RFC 6962 reads for ``entries`` (at most :data:`CAP` per get-entries)."""
    def get(url: str) -> Fetched:
        parts = urlsplit(url)
        if parts.path.endswith("/ct/v1/get-sth"):
            body = json.dumps({"tree_size": len(entries)}).encode()
        else:
            query = parse_qs(parts.query)
            start, end = int(query["start"][0]), int(query["end"][0])
            body = json.dumps({"entries": entries[start:min(end + 1, start + CAP)]}).encode()
        return Fetched(url=url, address="127.0.0.1", status=200, reason="OK", http_version="HTTP/1.1",
                       headers=(("Content-Type", "application/json"),), request_headers=(), body=body)
    return get


def registry_file(folder: Path, brands) -> Path:
    entries = []
    for brand in brands:
        entry = brand.registry_entry()
        for product in entry["products"]:
            product["images"] = []
        entries.append(entry)
    path = folder / "registry.yaml"
    path.write_text(yaml.safe_dump({"brands": entries}, allow_unicode=True), encoding="utf-8")
    return path


def measure(seed: int, folder: Path, *, db_url: str | None = None) -> Score:
    """Run the monitor over the yardstick of ``seed`` into a fresh database and score its candidates."""
    brands, names = ct_yardstick(seed)
    role = "tuning" if seed in TUNING_SEEDS else "held-out" if seed in HELD_OUT_SEEDS else "other"
    score = Score(seed=seed, role=role)
    url = db_url or f"sqlite:///{folder / f'discovery-{seed}.db'}"
    with Database.opened(url) as database:
        store = ImageStore(folder / "images", max_bytes=1_000_000, max_pixels=1_000_000)
        registry = load_registry(registry_file(folder, brands), store=store)
        with database.session() as session:
            import_registry(session, registry, store)
        with database.session() as session:
            matcher = domain_matcher(session)
        entries = log_entries(certificates(names, random.Random(seed)), seed)
        reader = LogReader(CtLog(url=f"https://ct.test/{seed}"), memory_log(entries), batch_size=256)
        monitor_log(database, reader, matcher, max_entries=len(entries))
        with database.session() as session:
            found = {(c.ascii_domain, c.brand.name) for c in session.scalars(select(DomainCandidate))}
            official = {d for b in session.scalars(select(Brand)) for d in b.official_domains}
    truth = {(n.name, n.brand) for n in names if n.label == "lookalike"}
    score.lookalikes = len(truth)
    score.found = len(truth & found)
    score.candidates = len(found)
    score.correct = len(found & truth)
    score.misses = sorted(f"{n} ({b})" for n, b in truth - found)
    score.false = sorted(f"{n} ({b})" for n, b in found - truth)
    score.official_candidates = sum(1 for n, _b in found if any(n == o or n.endswith("." + o) for o in official))
    return score


def speed(seed: int = 7, rounds: int = 3) -> tuple[float, float]:
    """(seconds per name of the domain matcher, ratio to the normaliser alone on the same names), best of
    ``rounds``, lexicons loaded and warmed first (side by side, so the ratio holds on any machine)."""
    import time

    from matching.domains import DomainBrand, DomainMatcher
    from matching.lexicon import Lexicon, everyday_lexicon
    from matching.normalize import analyse

    brands, names = ct_yardstick(seed)
    everyday = everyday_lexicon()
    profiles = [DomainBrand(brand_id=b.name, name=b.name, marks=(b.name, *b.aliases),
                            official_domains=tuple(b.registry_entry()["domains"]), keywords=tuple(b.keywords))
                for b in brands]
    matcher = DomainMatcher(profiles, is_word=everyday.is_ordinary, is_ordinary=Lexicon().is_ordinary,
                            is_attested=everyday.is_attested)
    texts = [n.name for n in names]
    for text in texts:  # warm the lexicon's lazy tables and the caches of both sides
        matcher.match(text)
        analyse(text.replace(".", " ").replace("-", " "))
    best_match = best_base = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            matcher.match(text)
        best_match = min(best_match, time.perf_counter() - start)
        start = time.perf_counter()
        for text in texts:
            analyse(text.replace(".", " ").replace("-", " "))
        best_base = min(best_base, time.perf_counter() - start)
    return best_match / len(texts), best_match / max(best_base, 1e-9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.discovery", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="*", help="seeds (default: the tuning and held-out seeds)")
    parser.add_argument("--speed", action="store_true", help="also time the matcher against the normaliser alone")
    args = parser.parse_args(argv)
    if args.speed:
        per_name, ratio = speed()
        print(f"domain matcher: {per_name * 1e6:.0f} µs a name, {ratio:.1f}x the normaliser alone on the same names")
    seeds = args.seeds or [*TUNING_SEEDS, *HELD_OUT_SEEDS]
    scores = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            score = measure(seed, Path(tmp))
            scores.append(score)
            print(f"seed {seed:>5} ({score.role:8}): recall {score.recall:.3f} ({score.found}/{score.lookalikes}), "
                  f"precision {score.precision:.3f} ({score.correct}/{score.candidates}), "
                  f"official domains as candidates: {score.official_candidates}")
            for line in score.misses:
                print(f"    missed {line}")
            for line in score.false:
                print(f"    false  {line}")
    for role in ("tuning", "held-out", "other"):
        group = [s for s in scores if s.role == role]
        if group:
            found, total = sum(s.found for s in group), sum(s.lookalikes for s in group)
            correct, candidates = sum(s.correct for s in group), sum(s.candidates for s in group)
            print(f"{role}: {len(group)} seed(s), recall {found / total:.3f} ({found}/{total}), precision "
                  f"{correct / max(1, candidates):.3f} ({correct}/{candidates}), official domains as candidates: "
                  f"{sum(s.official_candidates for s in group)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
