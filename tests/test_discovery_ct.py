"""The Certificate Transparency monitor against local fake logs: RFC 6962 with batch caps, precertificates, a
tree that grows between polls and a malformed entry; a Static CT API log from a folder; restarts; failures."""

from __future__ import annotations

import idna
import pytest
from sqlalchemy import select

from core.errors import LookalikeError
from core.settings import Settings
from services.discovery.ct import CtLog, LogFailed, LogReader, monitor_log, monitor_logs, policy_getter
from services.discovery.names import BadEntry, certificate_names, rfc6962_entry
from storage.models import Brand, CtLogState, DomainCandidate, DomainEvent, Owner
from tests.discovery_support import (
    FakeRfc6962Log,
    FakeStaticLog,
    certificate,
    matcher,
    rfc6962_json_entry,
    serve,
    tile_leaf,
)


def _brands(database) -> None:
    with database.session() as session:
        owner = Owner(name="Et Al")
        session.add_all([Brand(id=1, name="Fullips", owner=owner, official_domains=["fullips.com"]),
                         Brand(id=2, name="Norama", owner=owner, official_domains=["norama.io"])])


def _settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, allow_private_network=True, download_timeout=5)


def _log_entries(count: int, *, plant: dict[int, list[str]], precert_every: int = 5) -> list[dict]:
    out = []
    for i in range(count):
        names = plant.get(i, [f"host{i}.unrelated-example.org", f"mail{i}.example.net"])
        out.append(rfc6962_json_entry(certificate(names), precert=(i % precert_every == 0)))
    return out


def _domains(database) -> dict[str, list[str]]:
    with database.session() as session:
        return {c.domain: c.feeds for c in session.scalars(select(DomainCandidate))}


def test_certificate_and_precertificate_names_are_read() -> None:
    der = certificate(["fullips-outlet.shop", "*.xn--fullps-s9a.com"], common_name="cn.example.org")
    assert certificate_names(der) == ["fullips-outlet.shop", "*.xn--fullps-s9a.com", "cn.example.org"]
    pre = rfc6962_entry(7, rfc6962_json_entry(certificate(["a.example"], precert=True), precert=True))
    assert pre.precert and pre.index == 7 and certificate_names(pre.der) == ["a.example"]
    with pytest.raises(BadEntry, match="not base64"):
        rfc6962_entry(0, {"leaf_input": "%%%", "extra_data": ""})
    with pytest.raises(BadEntry, match="truncated"):
        rfc6962_entry(0, {"leaf_input": "AAAA", "extra_data": ""})


def test_rfc6962_log_read_in_capped_batches_with_a_growing_tree(database, tmp_path) -> None:
    _brands(database)
    entries = _log_entries(100, plant={3: ["fullips-outlet.shop", "cdn.example.org"],
                                       10: ["fullips.com", "www.fullips.com"],          # official
                                       40: ["panorama-tours.com"],                       # a trap
                                       77: ["xn--fullps-s9a.com"],                       # precert? no: 77 % 5
                                       95: [idna.encode("nоrama-sale.store").decode()]})  # Cyrillic o
    entries[50] = {"leaf_input": "AAEC", "extra_data": ""}                                # malformed
    log = FakeRfc6962Log(entries, cap=16)
    log.size = 60
    with serve({"a": log}) as base:
        reader = LogReader(CtLog.parse(f"{base}/a"), policy_getter(_settings(tmp_path)), batch_size=64)
        first = monitor_log(database, reader, matcher(), max_entries=10_000)
        assert (first.start, first.end, first.tree_size) == (0, 60, 60)
        assert first.bad_entries == 1 and first.entries == 59
        assert all(end - start + 1 <= 64 for start, end in log.requests)
        assert len(log.requests) == 4, "a 16-entry cap: each batch goes on where the log stopped"
        assert set(_domains(database)) == {"fullips-outlet.shop"}
        log.size = 100                                                                    # the tree grows
        second = monitor_log(database, reader, matcher(), max_entries=10_000)
    assert (second.start, second.end) == (60, 100)
    assert set(_domains(database)) == {"fullips-outlet.shop", "fullıps.com", "nоrama-sale.store"}
    with database.session() as session:
        state = session.scalar(select(CtLogState))
        assert (state.next_index, state.tree_size, state.last_error) == (100, 100, None)
        events = session.scalars(select(DomainEvent.action)).all()
        assert events.count("found") == 3


def test_restart_in_the_middle_loses_nothing_and_reads_nothing_twice(database, tmp_path) -> None:
    _brands(database)
    plant = {i: [f"fullips-shop{i}.com"] for i in range(0, 90, 9)}
    log = FakeRfc6962Log(_log_entries(90, plant=plant), cap=10)
    read: list[int] = []

    class Crashing(LogReader):
        calls = 0

        def entries(self, start, tree_size):
            Crashing.calls += 1
            if Crashing.calls == 4:
                raise LookalikeError("connection reset (the process is killed here)")
            batch, after = super().entries(start, tree_size)
            read.extend(e.index for e in batch)
            return batch, after

    with serve({"a": log}) as base:
        get = policy_getter(_settings(tmp_path))
        with pytest.raises(LogFailed, match="connection reset"):
            monitor_log(database, Crashing(CtLog.parse(f"{base}/a"), get, batch_size=10), matcher(),
                        max_entries=1000)
        with database.session() as session:
            assert session.scalar(select(CtLogState.next_index)) == 30
            assert "connection reset" in session.scalar(select(CtLogState.last_error))
        monitor_log(database, Crashing(CtLog.parse(f"{base}/a"), get, batch_size=10), matcher(), max_entries=1000)
    assert sorted(read) == list(range(90)), "every entry read exactly once across the restart"
    assert set(_domains(database)) == {f"fullips-shop{i}.com" for i in range(0, 90, 9)}


def test_static_ct_log_from_a_folder(database, tmp_path) -> None:
    _brands(database)
    folder = tmp_path / "static"
    folder.mkdir()
    log = FakeStaticLog(folder)
    leaves = []
    for i in range(300):
        names = ["fullips-official.store"] if i == 257 else ["norama-candles.shop"] if i == 12 else [f"x{i}.example"]
        leaves.append(tile_leaf(certificate(names, precert=i == 12), precert=i == 12, index=i))
    log.publish(leaves[:200])                                  # one partial tile
    with serve({"s": log}) as base:
        reader = LogReader(CtLog.parse(f"static:{base}/s"), policy_getter(_settings(tmp_path)))
        first = monitor_log(database, reader, matcher(), max_entries=10_000)
        assert (first.end, first.entries) == (200, 200)
        log.publish(leaves)                                    # a full tile and a new partial one
        second = monitor_log(database, reader, matcher(), max_entries=10_000)
    assert (second.start, second.end, second.entries) == (200, 300, 100)
    assert set(_domains(database)) == {"norama-candles.shop", "fullips-official.store"}


def test_one_failing_log_fails_its_run_and_the_others_go_on(database, tmp_path) -> None:
    _brands(database)
    good = FakeRfc6962Log(_log_entries(5, plant={2: ["fullips-deals.com"]}))
    garbage = FakeRfc6962Log([])
    garbage.broken = True
    with serve({"good": good, "bad": garbage}) as base:
        logs = [CtLog.parse(f"{base}/bad"), CtLog.parse("http://127.0.0.1:9/closed"), CtLog.parse(f"{base}/good")]
        runs = monitor_logs(database, logs, matcher(), policy_getter(_settings(tmp_path)), max_entries=100)
    assert "not JSON" in runs[0].error and "cannot fetch" in runs[1].error and runs[2].error is None
    assert set(_domains(database)) == {"fullips-deals.com"}
    with database.session() as session:
        errors = dict(session.execute(select(CtLogState.url, CtLogState.last_error)).all())
    assert errors[f"{base}/good"] is None and "not JSON" in errors[f"{base}/bad"]


def test_a_log_on_an_internal_address_is_refused_without_the_setting(database, tmp_path) -> None:
    _brands(database)
    with serve({"a": FakeRfc6962Log([])}) as base:
        strict = Settings(data_dir=tmp_path, allow_private_network=False)
        runs = monitor_logs(database, [CtLog.parse(f"{base}/a")], matcher(), policy_getter(strict), max_entries=10)
    assert runs[0].error and "127.0.0.1" in runs[0].error
