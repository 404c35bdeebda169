"""Which address a request is counted by."""

import pytest
from django.test import RequestFactory

from ratelimit.identity import UNKNOWN_ADDRESS, client_ip


def _ip(remote: str = "192.0.2.10", forwarded: str | None = None) -> str:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


def test_it_ignores_forwarded_for_when_no_proxy_is_trusted() -> None:
    assert _ip(forwarded="198.51.100.1") == "192.0.2.10"


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "203.0.113.5, 198.51.100.1", "198.51.100.1"),
        (2, "203.0.113.5, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (1, " 198.51.100.1 ", "198.51.100.1"),
        (1, "198.51.100.1:51234", "198.51.100.1"),
        (1, "[2001:db8::1]:443", "2001:db8::/64"),
    ],
)
def test_it_takes_the_entry_as_many_hops_from_the_right_as_there_are_proxies(
    settings, hops: int, forwarded: str, expected: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = hops

    assert _ip(remote="10.0.0.1", forwarded=forwarded) == expected


def test_a_header_shorter_than_the_proxy_chain_is_not_trusted(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 2

    assert _ip(remote="192.0.2.10", forwarded="198.51.100.1") == "192.0.2.10"
    assert _ip(remote="192.0.2.10", forwarded="") == "192.0.2.10"


def test_ipv6_clients_count_by_their_64() -> None:
    first = _ip(remote="2001:db8:1:2::1")
    same_subnet = _ip(remote="2001:db8:1:2:ffff:ffff:ffff:ffff")
    next_subnet = _ip(remote="2001:db8:1:3::1")

    assert first == same_subnet == "2001:db8:1:2::/64"
    assert next_subnet != first


def test_an_ipv4_mapped_address_counts_as_ipv4() -> None:
    assert _ip(remote="::ffff:192.0.2.33") == "192.0.2.33"


def test_a_garbage_address_shares_one_strict_bucket(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1

    assert _ip(remote="", forwarded=None) == UNKNOWN_ADDRESS
    assert _ip(remote="10.0.0.1", forwarded="not-an-ip") == UNKNOWN_ADDRESS
