"""``lookalike domains``: a new-domain list and a CT log turned into candidates, listed with filters, approved
(a crawl target of the next scan plan) and dismissed (until the domain changes), every decision audited;
owners see only their brands' candidates."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli import app
from core.errors import LookalikeError
from core.settings import load_settings
from services.accounts import Principal
from services.discovery import decisions
from services.discovery.candidates import note_change
from services.discovery.decisions import CandidateFilter, list_candidates
from services.scantargets import plan_scan
from storage.db import Database
from storage.models import Brand, DomainCandidate, DomainEvent
from tests.discovery_support import FakeRfc6962Log, certificate, rfc6962_json_entry, serve, write_registry

NRD = """\
# newly registered domains, 2026-12-06
fullips-outlet.shop,2026-12-06
example.com
panorama-tours.com
norama-candle.store\tregistrar-x
fullips.com
xn--zz.com
""" + "\n".join(f"site{i}.example" for i in range(200))


@pytest.fixture
def cli(settings_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LOOKALIKE_ALLOW_PRIVATE_NETWORK", "true")
    monkeypatch.setenv("COLUMNS", "300")  # rich tables as wide as the rows
    runner = CliRunner()
    result = runner.invoke(app, ["brands", "import", str(write_registry(tmp_path))])
    assert result.exit_code == 0, result.output
    return runner


def _run(runner: CliRunner, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    if isinstance(result.exception, LookalikeError):  # `main` prints it as one line and exits with 2
        assert code == 2, result.exception
        assert "\n" not in str(result.exception)
        return str(result.exception)
    assert result.exit_code == code, result.output
    return result.output


def test_import_nrd_text_and_zip_then_decide(cli: CliRunner, tmp_path: Path) -> None:
    listing = tmp_path / "nrd.txt"
    listing.write_text(NRD, encoding="utf-8")
    out = _run(cli, "domains", "import-nrd", str(listing))
    assert "206 names read, 1 not domain names, 2 spell a mark, 2 new candidates" in out
    packed = tmp_path / "nrd.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("domain-names.txt", "fulllips.store\nfullips-outlet.shop\n")
    assert "1 new candidates" in _run(cli, "domains", "import-nrd", str(packed))
    listed = _run(cli, "domains", "list", "--feed", "nrd")
    assert "fullips-outlet.shop" in listed and "norama-candle.store" in listed and "panorama" not in listed
    assert "fullips.com" not in listed.replace("fullips.com)", "")
    assert "norama" not in _run(cli, "domains", "list", "--brand", "Fullips")

    _run(cli, "domains", "approve", "fullips-outlet.shop", "--by", "ana", "--note", "sells plumpers")
    _run(cli, "domains", "dismiss", "norama-candle.store", "--by", "ana")
    shown = _run(cli, "domains", "show", "fullips-outlet.shop")
    assert "sells plumpers" in shown and "new -> approved" in shown
    assert "approved" in _run(cli, "domains", "list", "--status", "approved")

    settings = load_settings()
    with Database.opened(settings.database_url) as database:
        plan = plan_scan(settings, database)
        assert [t.start_urls for t in plan.targets] == [("https://fullips-outlet.shop/",)]
        with database.session() as session:
            dismissed = session.scalar(select(DomainCandidate).where(DomainCandidate.domain == "norama-candle.store"))
            note_change(session, dismissed, "certificate", "same", "a new certificate")   # first look: set
        with database.session() as session:
            dismissed = session.scalar(select(DomainCandidate).where(DomainCandidate.domain == "norama-candle.store"))
            assert dismissed.status == "new", "a fingerprint unlike the one dismissed brings it back"
            actions = session.scalars(select(DomainEvent.action).where(
                DomainEvent.candidate_id == dismissed.id)).all()
            assert actions == ["found", "dismissed", "reopened"]
            decisions.dismiss(session, dismissed.id, actor="ana")
            note_change(session, dismissed, "certificate", "same", "a new certificate")
            assert dismissed.status == "dismissed", "unchanged: it stays dismissed"


def test_bad_input_gets_one_line(cli: CliRunner, tmp_path: Path) -> None:
    assert "no candidate domain" in _run(cli, "domains", "approve", "nothing.example", code=2)
    assert "cannot read" in _run(cli, "domains", "import-nrd", str(tmp_path / "absent.txt"), code=2)
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01" * 100)
    assert "not a text list" in _run(cli, "domains", "import-nrd", str(tmp_path / "bin.txt"), code=2)
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04garbage")
    assert "not a readable zip" in _run(cli, "domains", "import-nrd", str(tmp_path / "bad.zip"), code=2)
    assert "unknown class" in _run(cli, "domains", "list", "--class", "weird", code=2)
    assert "no CT logs" in _run(cli, "domains", "monitor", code=2)


def test_zip_bomb_is_refused(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOKALIKE_NRD_MAX_BYTES", "100000")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("names.txt", "a.example\n" * 200_000)
    (tmp_path / "bomb.zip").write_bytes(buffer.getvalue())
    assert "unzips to more than 100000 bytes" in _run(cli, "domains", "import-nrd", str(tmp_path / "bomb.zip"),
                                                      code=2)


def test_monitor_command_reads_a_log_once(cli: CliRunner) -> None:
    log = FakeRfc6962Log([rfc6962_json_entry(certificate(["fullips-deals.com"])),
                          rfc6962_json_entry(certificate(["other.example"]), precert=True)])
    with serve({"a": log}) as base:
        out = _run(cli, "domains", "monitor", "--log", f"{base}/a", "--from-start")
        assert "entries 0..2 of 2: 2 read, 2 names, 1 new candidates" in out
        again = _run(cli, "domains", "monitor", "--log", f"{base}/a")
        assert "entries 2..2 of 2: 0 read" in again
        failed = _run(cli, "domains", "monitor", "--log", f"{base}/nothing-here", code=1)
    assert "HTTP 404" in failed
    assert "fullips-deals.com" in _run(cli, "domains", "list", "--feed", "ct")


def test_owners_see_only_their_brands(database, tmp_path: Path) -> None:
    from services.registry.load import load_registry
    from services.registry.sync import import_registry
    from storage.imagestore import ImageStore
    from tests.discovery_support import matcher

    store = ImageStore(tmp_path / "images", max_bytes=1_000_000, max_pixels=1_000_000)
    with database.session() as session:
        import_registry(session, load_registry(write_registry(tmp_path), store=store), store)
    with database.session() as session:
        from services.discovery.candidates import record_hits

        ids = dict(session.execute(select(Brand.name, Brand.id)).all())
        hits = [h for name in ("fullips-sale.com", "norama-wax.shop") for h in matcher().match(name)]
        record_hits(session, [replace(h, brand_id=ids["Fullips" if "fullips" in h.domain else "Norama"])
                              for h in hits], feed="nrd:test")
    owner = Principal(user_id=9, username="owner", role="owner", brand_ids=frozenset({ids["Norama"]}))
    with database.session() as session:
        assert [c.domain for c in list_candidates(session, CandidateFilter(), principal=owner)] == ["norama-wax.shop"]
        with pytest.raises(LookalikeError, match="no candidate domain"):
            decisions.get_candidate(session, "fullips-sale.com", principal=owner)
        with pytest.raises(LookalikeError, match="analysts and admins decide"):
            decisions.approve(session, "norama-wax.shop", actor="owner", principal=owner)


def test_import_nrd_from_a_url_goes_through_the_network_policy(cli: CliRunner, monkeypatch) -> None:
    from tests.discovery_support import serve

    class Listing:
        def answer(self, path, _query):
            return (200, b"fulllips.store\nexample.org\n", {}) if path == "/nrd.txt" else (404, b"", {})

    with serve({"lists": Listing()}) as base:
        assert "1 new candidates" in _run(cli, "domains", "import-nrd", f"{base}/lists/nrd.txt")
        assert "HTTP 404" in _run(cli, "domains", "import-nrd", f"{base}/lists/absent.txt", code=2)
        monkeypatch.setenv("LOOKALIKE_ALLOW_PRIVATE_NETWORK", "false")
        refused = _run(cli, "domains", "import-nrd", f"{base}/lists/nrd.txt", code=2)
    assert "127.0.0.1" in refused
