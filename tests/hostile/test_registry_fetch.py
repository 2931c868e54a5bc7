"""Finding 3 (registry side): the image fetch connects to the address it checked, sending the name it
was given in ``Host``; a name whose second DNS answer is internal (rebinding) cannot redirect it."""

from __future__ import annotations

import pytest
from hostile_support import Server

import core.netpolicy as netpolicy
from core.errors import LookalikeError
from core.netpolicy import UnsafeURL, fetch_bytes

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_the_fetch_connects_to_the_checked_address_with_the_original_host_header() -> None:
    lookups: list[str] = []

    def stub(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    with Server({"/p.png": lambda r: (200, {"Content-Type": "image/png"}, PNG)}) as site:
        body, content_type = fetch_bytes(f"http://images.test:{site.port}/p.png", max_bytes=10_000,
                                         user_agent="t", allow_private=True, resolver=stub)
    assert body == PNG and content_type == "image/png"
    assert lookups == ["images.test"]
    assert site.requests[0].headers["Host"] == f"images.test:{site.port}"


def test_a_rebinding_name_is_resolved_once_and_only_the_checked_address_is_dialled(monkeypatch) -> None:
    answers = [["93.184.216.34"], ["127.0.0.1"]]
    dialled: list[tuple[str, int]] = []

    def rebinding(host: str, port: int) -> list[str]:
        return answers.pop(0)

    def no_outside_traffic(address, timeout=None, *args, **kwargs):
        dialled.append(address)
        raise ConnectionRefusedError("test: not dialling out")

    monkeypatch.setattr(netpolicy.socket, "create_connection", no_outside_traffic)
    with Server() as internal:
        with pytest.raises(LookalikeError, match="cannot fetch"):
            fetch_bytes(f"http://rebind.test:{internal.port}/x.png", max_bytes=10_000, user_agent="t",
                        resolver=rebinding)
        assert internal.requests == []
    assert dialled == [("93.184.216.34", internal.port)]
    assert answers == [["127.0.0.1"]]  # the second (internal) answer was never asked for


@pytest.mark.parametrize("answer", [["127.0.0.1"], ["100.100.100.200"], ["::ffff:169.254.169.254"],
                                    ["2002:a9fe:a9fe::1"], ["64:ff9b::a00:1"]])
def test_a_name_with_only_internal_addresses_is_refused_before_connecting(monkeypatch, answer) -> None:
    monkeypatch.setattr(netpolicy.socket, "create_connection",
                        lambda *a, **k: pytest.fail("must not connect"))
    with pytest.raises(UnsafeURL, match="private"):
        fetch_bytes("http://inside.test/x.png", max_bytes=10_000, user_agent="t", resolver=lambda h, p: answer)


def test_redirects_are_checked_like_the_first_url_and_bounded() -> None:
    routes = {"/file": lambda r: (302, {"Location": "file:///etc/passwd"}, b""),
              "/loop": lambda r: (302, {"Location": "/loop"}, b"")}
    with Server(routes) as site:
        with pytest.raises(UnsafeURL, match="scheme 'file'"):
            fetch_bytes(f"{site.url}/file", max_bytes=10_000, user_agent="t", allow_private=True)
        with pytest.raises(LookalikeError, match="more than 3 redirects"):
            fetch_bytes(f"{site.url}/loop", max_bytes=10_000, user_agent="t", allow_private=True)
        assert len(site.requests) == 1 + 4
