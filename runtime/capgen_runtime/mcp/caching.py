"""Caching hints of MCP 2026-07-28 (SEP-2549): `ttlMs` and `cacheScope` on the results of
`tools/list`, `prompts/list`, `resources/list`, `resources/templates/list` and
`resources/read`.

The values are the adapter's `ttlMs` and `cacheScope` (ikanos beta4 on); where the spec says
nothing, `ttlMs` is 0 (a client asks again every time: a resource is read from a live
upstream, and what is listed changes with the service's settings and its next deployment)
and `cacheScope` is `private` (a result may depend on who asks: inbound authentication, a
caller's forwarded credentials). Each handler puts them on the SDK result it returns, so any
serialiser of that result carries them; the SDK drops them on the 2025-11-25 wire, which has
no such fields.
"""

from __future__ import annotations

from typing import Any, Literal

from mcp.server import CacheHint
from mcp.server.caching import CacheableMethod

from ..model import McpAdapter

DEFAULT_TTL_MS = 0
DEFAULT_SCOPE: Literal["private"] = "private"
CACHED_METHODS: tuple[CacheableMethod, ...] = (
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
)


def cache_hint(adapter: McpAdapter) -> CacheHint:
    """The adapter's hint, or the defaults for what it does not say."""
    ttl = DEFAULT_TTL_MS if adapter.ttl_ms is None else adapter.ttl_ms
    scope: Literal["public", "private"] = (
        "public" if adapter.cache_scope == "public" else DEFAULT_SCOPE
    )
    return CacheHint(ttl_ms=ttl, scope=scope)


def hinted(hint: CacheHint) -> dict[str, Any]:
    """The result fields that carry `hint`."""
    return {"ttl_ms": hint.ttl_ms, "cache_scope": hint.scope}
