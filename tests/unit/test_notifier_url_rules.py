"""Which URLs a subscription may target (the resolver is faked: no DNS)."""

from __future__ import annotations

import pytest

from services.notifier.url_rules import refusal

HOSTS = {
    "court.example.cn": ["36.110.0.10"],
    "internal.example.cn": ["10.20.1.5"],
    "meta.example.cn": ["169.254.169.254"],
    "localhost": ["127.0.0.1", "::1"],
    "mixed.example.cn": ["36.110.0.11", "192.168.1.1"],
}


def _resolve(host: str) -> list[str]:
    if host[0].isdigit():
        return [host]
    if host not in HOSTS:
        raise OSError("no such host")
    return HOSTS[host]


def _check(url: str, loopback: bool = False, cidrs: tuple[str, ...] = ()) -> str | None:
    return refusal(url, allow_loopback=loopback, allowed_cidrs=cidrs, resolver=_resolve)


def test_https_to_a_public_address_is_accepted() -> None:
    assert _check("https://court.example.cn/hooks/jsb") is None


@pytest.mark.parametrize(
    "url",
    [
        "http://court.example.cn/hook",  # not https
        "ftp://court.example.cn/hook",
        "https://internal.example.cn/hook",  # private
        "https://meta.example.cn/latest",  # link-local (cloud metadata)
        "https://mixed.example.cn/hook",  # one private address is enough
        "https://user:pw@court.example.cn/hook",
        "https://unknown.example.cn/hook",  # does not resolve
        "https://10.0.0.1/hook",
        "not a url",
    ],
)
def test_refused(url: str) -> None:
    assert _check(url) is not None


def test_loopback_only_when_configured() -> None:
    assert _check("http://127.0.0.1:8080/hook") is not None
    assert _check("http://127.0.0.1:8080/hook", loopback=True) is None
    assert _check("http://localhost:8080/hook", loopback=True) is None


def test_an_allow_listed_private_range_is_accepted() -> None:
    assert _check("https://internal.example.cn/hook", cidrs=("10.20.0.0/16",)) is None
    assert _check("https://internal.example.cn/hook", cidrs=("10.30.0.0/16",)) is not None
