"""Host and Origin patterns (hosts.py), read as the README states them."""

from __future__ import annotations

from capgen_runtime.settings import Settings
from capgen_runtime.web.hosts import HostPolicy, host_policy


def test_a_pattern_without_a_port_allows_any_port_and_wildcards_match_subdomains() -> None:
    policy = HostPolicy(("api.example.com", "*.internal", "10.0.0.7:8080", "[::1]"))
    assert policy.host_allowed("api.example.com")
    assert policy.host_allowed("API.Example.com:443")
    assert policy.host_allowed("svc.ns.internal:9090")
    assert policy.host_allowed("10.0.0.7:8080")
    assert not policy.host_allowed("10.0.0.7:8081")
    assert policy.host_allowed("[::1]:9090")
    assert not policy.host_allowed("api.example.com.evil.net")
    assert not policy.host_allowed("")


def test_origins_must_name_an_allowed_host_or_an_allowed_origin() -> None:
    policy = HostPolicy(("api.example.com",), ("https://app.example.org",))
    assert policy.origin_allowed("https://api.example.com")
    assert policy.origin_allowed("http://api.example.com:8080")
    assert policy.origin_allowed("https://app.example.org")
    assert not policy.origin_allowed("https://evil.example.net")
    assert not policy.origin_allowed("null")


def test_without_the_setting_only_mcp_on_loopback_is_checked() -> None:
    settings = Settings(env_prefix="X", base_urls={})
    assert host_policy(settings, "127.0.0.1", loopback_default=True) is not None
    assert host_policy(settings, "127.0.0.1", loopback_default=False) is None
    assert host_policy(settings, "0.0.0.0", loopback_default=True) is None
    star = Settings(env_prefix="X", base_urls={}, allowed_hosts=("*",))
    assert host_policy(star, "127.0.0.1", loopback_default=True) is None
