"""The one network policy (core.netpolicy) and its crawler adapters: a table of addresses, the resolver
that hands Twisted only allowed addresses, and the middleware's early refusals."""

from __future__ import annotations

import pytest
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer, provider

from core.netpolicy import UnsafeURL, address_refusal, check_url, checked_addresses, split_addresses
from crawlers.middlewares.netguard import GuardedResolver, PrivateNetworkGuard


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True), ("2606:4700::6810:84e5", True), ("8.8.8.8", True),
        ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
        ("169.254.169.254", False), ("0.0.0.0", False), ("255.255.255.255", False),
        # shared address space and the metadata address one cloud uses there
        ("100.64.0.1", False), ("100.100.100.200", False),
        ("224.0.0.1", False), ("240.0.0.1", False), ("192.0.0.9", False), ("198.18.0.1", False),
        ("192.0.2.1", False), ("203.0.113.9", False),
        ("::1", False), ("::", False), ("fe80::1", False), ("fe80::1%eth0", False), ("fc00::1", False),
        ("ff02::1", False), ("2001:db8::1", False),
        # IPv6 forms that carry an IPv4 address are judged by it
        ("::ffff:127.0.0.1", False), ("::ffff:93.184.216.34", True),
        ("2002:7f00:1::", False), ("2002:a9fe:a9fe::1", False), ("2002:5db8:d822::1", True),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),       # Teredo, client 127.0.0.1
        ("2001:0:5db8:d822:8000:63bf:a2ff:fffe", True),        # Teredo, public server and client
        ("64:ff9b::7f00:1", False), ("64:ff9b::a9fe:a9fe", False), ("64:ff9b::5db8:d822", True),
        ("64:ff9b:1::1", False), ("::7f00:1", False), ("::5db8:d822", False),
        ("2a00:1450::5efe:a00:1", False),                      # ISATAP id carrying 10.0.0.1
    ],
)
def test_only_globally_routable_addresses_are_allowed(address: str, allowed: bool) -> None:
    assert (address_refusal(address) is None) is allowed


def test_policy_splits_a_mixed_answer_and_refuses_a_host_with_no_public_address() -> None:
    assert split_addresses(["93.184.216.34", "127.0.0.1"], allow_private=False) == (["93.184.216.34"], ["127.0.0.1"])
    assert split_addresses(["127.0.0.1"], allow_private=True) == (["127.0.0.1"], [])

    def stub(host: str, port: int) -> list[str]:
        return {"shop.test": ["93.184.216.34", "10.0.0.1"], "inside.test": ["100.100.100.200"]}[host]

    assert checked_addresses("shop.test", 80, allow_private=False, resolver=stub) == ["93.184.216.34"]
    with pytest.raises(UnsafeURL, match="private"):
        checked_addresses("inside.test", 80, allow_private=False, resolver=stub)
    with pytest.raises(UnsafeURL, match="scheme"):
        check_url("gopher://shop.test/", resolver=stub)
    with pytest.raises(UnsafeURL, match="malformed"):
        check_url("http://[::1/", resolver=stub)


# ------------------------------------------------------------------------------------ crawler resolver
@implementer(IHostnameResolver)
class StubResolver:
    """Answers names from a table; each lookup takes the next answer (a rebinding DNS server)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    def resolveHostName(self, receiver, hostName, portNumber=0, addressTypes=None, transportSemantics="TCP"):  # noqa: N802, N803
        self.lookups.append(hostName)
        receiver.resolutionBegan(object())
        queue = self.answers.get(hostName) or [[]]
        for address in queue.pop(0) if len(queue) > 1 else queue[0]:
            cls = IPv6Address if ":" in address else IPv4Address
            receiver.addressResolved(cls("TCP", address, portNumber))
        receiver.resolutionComplete()


class FakeReactor:
    def __init__(self, resolver: StubResolver) -> None:
        self.nameResolver = resolver

    def installNameResolver(self, resolver):  # noqa: N802
        self.nameResolver = resolver


def resolved(resolver: GuardedResolver, host: str, port: int = 80) -> list[str]:
    found: list[str] = []

    @provider(IResolutionReceiver)
    class Receiver:
        @staticmethod
        def resolutionBegan(resolution):  # noqa: N802
            pass

        @staticmethod
        def addressResolved(address):  # noqa: N802
            found.append(address.host)

        @staticmethod
        def resolutionComplete():  # noqa: N802
            pass

    resolver.resolveHostName(Receiver, host, port)
    return found


class _Guard:
    def __init__(self, trusted) -> None:
        self.trusted = trusted
        self.refusals: list[str] = []

    def count_refusal(self, reason: str) -> None:
        self.refusals.append(reason)


def test_resolver_hands_over_only_public_addresses_of_each_lookup() -> None:
    """DNS rebinding: the answer checked is the answer connected to, lookup by lookup."""
    stub = StubResolver({"rebind.test": [["93.184.216.34"], ["127.0.0.1"]],
                         "mixed.test": [["10.0.0.1", "93.184.216.34"]],
                         "literal": [["127.0.0.1"]]})
    guard = GuardedResolver(FakeReactor(stub), allow_private=False)
    watcher = _Guard(set())
    guard.register(watcher)
    assert resolved(guard, "rebind.test") == ["93.184.216.34"]
    assert resolved(guard, "rebind.test") == []          # the second answer is internal: no address at all
    assert resolved(guard, "mixed.test") == ["93.184.216.34"]
    assert watcher.refusals == ["at_connect"]
    assert guard.refused_before("rebind.test") and not guard.refused_before("mixed.test")


def test_resolver_lets_trusted_host_and_port_through_and_nothing_else() -> None:
    stub = StubResolver({"127.0.0.1": [["127.0.0.1"]], "shop.test": [["10.0.0.5"]]})
    guard = GuardedResolver(FakeReactor(stub), allow_private=False)
    guard.register(_Guard({("127.0.0.1", 8001)}))
    assert resolved(guard, "127.0.0.1", 8001) == ["127.0.0.1"]
    assert resolved(guard, "127.0.0.1", 5432) == []
    assert resolved(guard, "shop.test", 80) == []
    assert resolved(GuardedResolver(FakeReactor(stub), allow_private=True), "shop.test", 80) == ["10.0.0.5"]


def test_middleware_refuses_literals_and_names_the_resolver_refused_without_its_own_lookup(monkeypatch) -> None:
    import asyncio
    import socket

    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest
    from scrapy.utils.test import get_crawler

    def no_dns(*args, **kwargs):
        raise AssertionError("the middleware must not resolve names: the resolver at connect time does")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    stub = StubResolver({"rebind.test": [["127.0.0.1"]]})
    resolver = GuardedResolver(FakeReactor(stub), allow_private=False)
    monkeypatch.setattr(GuardedResolver, "active", resolver)
    crawler = get_crawler(settings_dict={"LOOKALIKE_ALLOW_PRIVATE_NETWORK": False})

    class Spider:
        trusted_netlocs = {("127.0.0.1", 8000)}

    crawler.spider = Spider()
    middleware = PrivateNetworkGuard.from_crawler(crawler)
    middleware.spider_opened(crawler.spider)
    asyncio.run(middleware.process_request(Request("http://127.0.0.1:8000/ok")))
    asyncio.run(middleware.process_request(Request("https://shop.example/p/1")))  # left to the resolver
    assert resolved(resolver, "rebind.test") == []
    for url in ("http://100.100.100.200/latest/meta-data", "http://[::ffff:7f00:1]:8000/", "http://rebind.test/x",
                "ftp://shop.example/"):
        with pytest.raises(IgnoreRequest):
            asyncio.run(middleware.process_request(Request(url)))
    assert crawler.stats.get_value("netguard/refused/private_address") == 3
    assert crawler.stats.get_value("netguard/refused/at_connect") == 1
    assert crawler.stats.get_value("netguard/refused/scheme") == 1


def test_the_crawler_uses_the_guarded_resolver() -> None:
    from core.settings import load_settings
    from crawlers.settings import scrapy_settings

    assert scrapy_settings(load_settings())["TWISTED_DNS_RESOLVER"] == "crawlers.middlewares.netguard.GuardedResolver"
