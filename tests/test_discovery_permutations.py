"""Permutations with dnstwist, resolved through a stub DNS server on 127.0.0.1 within a rate and a daily
budget; only names that resolve and spell the mark become candidates, with the time they first resolved."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.message
import dns.rcode
import dns.rrset
import pytest
from sqlalchemy import select

from core.errors import LookalikeError
from services.discovery.permutations import (
    RateLimit,
    dns_lookup,
    permutations,
    run_permutations,
)
from storage.models import Brand, DomainCandidate, Owner, ResolverBudget
from tests.discovery_support import BRANDS, matcher

EXISTING = {"fullips-outlet.com.": "203.0.113.7", "fulips.com.": "198.51.100.2", "xn--fullps-s9a.com.": "10.0.0.5",
            "fullips.shop.": "192.0.2.1", "fullipx.com.": "192.0.2.9"}


@contextmanager
def stub_dns(records: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """A UDP DNS server on 127.0.0.1 answering A queries for ``records``, NXDOMAIN otherwise; yields its
    ``address:port`` and the names it was asked."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    asked: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().lower()
            asked.append(name)
            response = dns.message.make_response(query)
            if name in records and question.rdtype == dns.rdatatype.A:
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", records[name]))
            elif name not in records:
                response.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}", asked
    finally:
        stop.set()
        thread.join(2)
        sock.close()


import dns.rdatatype  # noqa: E402 - used by the stub above


def _brand_rows(database) -> None:
    with database.session() as session:
        session.add(Brand(id=1, name="Fullips", owner=Owner(name="Et Al"), official_domains=["fullips.com"]))


def test_permutations_cover_the_fuzzers_and_put_homoglyphs_last() -> None:
    perms = permutations(BRANDS[0])
    fuzzers = {p.fuzzer for p in perms}
    assert {"addition", "bitsquatting", "homoglyph", "hyphenation", "insertion", "omission", "repetition",
            "replacement", "subdomain", "transposition", "vowel-swap", "dictionary", "tld-swap"} <= fuzzers
    names = [p.domain for p in perms]
    assert "fullips-outlet.com" in names and "fullips.shop" in names and "fullips-plumper.com" in names
    assert "fullips.com" not in names
    assert perms[-1].fuzzer in ("homoglyph", "cyrillic")
    assert len(perms) > 1000


def test_only_names_that_resolve_and_spell_the_mark_are_kept(database) -> None:
    _brand_rows(database)
    now = [0.0]
    rate = RateLimit(5, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    with stub_dns(EXISTING) as (server, asked):
        report = run_permutations(database, BRANDS[:1], matcher(), lookup=dns_lookup(server), budget=100_000,
                                  rate=rate, today=dt.date(2026, 12, 7))
    assert report.spelling < report.generated, "names the matcher does not read as the mark cost no query"
    assert report.queried == report.spelling and report.resolved == len(EXISTING)
    assert now[0] == pytest.approx((report.queried - 1) / 5), "queries are spaced to the rate (5 a second)"
    with database.session() as session:
        rows = {c.domain: c for c in session.scalars(select(DomainCandidate))}
    assert set(rows) == {"fullips-outlet.com", "fulips.com", "fullıps.com", "fullips.shop", "fullipx.com"}
    assert all(c.first_resolved is not None and c.feeds == ["permutation"] for c in rows.values())
    assert any("dnstwist omission" in r for r in rows["fulips.com"].reasons)


def test_the_daily_budget_stops_the_queries_and_the_next_day_goes_on(database) -> None:
    _brand_rows(database)
    rate = RateLimit(1000, sleep=lambda _s: None)
    with stub_dns(EXISTING) as (server, asked):
        day = dt.date(2026, 12, 7)
        first = run_permutations(database, BRANDS[:1], matcher(), lookup=dns_lookup(server), budget=50, rate=rate,
                                 today=day)
        again = run_permutations(database, BRANDS[:1], matcher(), lookup=dns_lookup(server), budget=50, rate=rate,
                                 today=day)
        next_day = run_permutations(database, BRANDS[:1], matcher(), lookup=dns_lookup(server), budget=50,
                                    rate=rate, today=day + dt.timedelta(days=1))
    assert (first.queried, first.budget_left, again.queried) == (50, 0, 0)
    assert next_day.queried == 50
    with database.session() as session:
        assert dict(session.execute(select(ResolverBudget.day, ResolverBudget.queries)).all()) == {
            day: 50, day + dt.timedelta(days=1): 50}


def test_resolver_setting_is_checked() -> None:
    with pytest.raises(LookalikeError, match="address:port"):
        dns_lookup("127.0.0.1")


def test_permute_command_uses_the_resolver_setting(settings_env, tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from cli import app
    from tests.discovery_support import write_registry

    runner = CliRunner()
    assert runner.invoke(app, ["brands", "import", str(write_registry(tmp_path))]).exit_code == 0
    with stub_dns(EXISTING) as (server, asked):
        monkeypatch.setenv("LOOKALIKE_DISCOVERY_RESOLVER", server)
        monkeypatch.setenv("LOOKALIKE_DISCOVERY_QUERIES_PER_SECOND", "1000")
        monkeypatch.setenv("LOOKALIKE_DISCOVERY_DAILY_BUDGET", "40")
        result = runner.invoke(app, ["domains", "permute", "--brand", "Fullips"])
    assert result.exit_code == 0, result.output
    assert "40 resolved this run" in result.output and "0 queries left today" in result.output
    assert len(asked) >= 40
