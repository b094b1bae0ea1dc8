"""When a prepared request may skip httpx's request objects, and how httpx would write it.

Building an `httpx.Request` (URL parsing, header merging, encoding detection) is a large part
of a proxied request's cost. For the common request — bytes or no body, no cookies, no auth
flow, a URL and headers that httpx would send unchanged — the client hands the transport the
exact header list httpx would have produced (its defaults for the base URL, worked out once by
httpx itself, then the request's own, then the length) and builds the httpx request only if
someone reads it. Anything else takes httpx's path, so odd input is treated exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from .request import PreparedRequest
from .transport import Direct, direct_timeout, writable_header

# what httpx leaves as it is after the base URL: RFC 3986 characters, percent-escapes whole
_SAFE_TAIL = re.compile(r"(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_UNESCAPED_TAIL = re.compile(r"[A-Za-z0-9\-._~:/?@!$&'()*+,;=]*")  # the same, without `%`: faster
_WRITTEN_BY_HTTPX = frozenset({"host", "content-length", "transfer-encoding"})
_EMPTY_BODY_LENGTH = frozenset({"POST", "PUT", "PATCH"})  # httpx sends `content-length: 0`
_REMEMBERED = 256  # header sets whose merge is kept (of at most 4 KiB of values each)


class DirectWriter:
    """The direct form of one client's requests (`direct`), or None when httpx must build it."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        probe = http.build_request("GET", base_url)
        self.base = base_url if str(probe.url) == base_url else None  # httpx would rewrite it
        self.defaults = probe.headers.multi_items()
        timeout = probe.extensions.get("timeout", {})
        self.timeout = direct_timeout(timeout)
        self.read_timeout = timeout.get("read")
        self._merges: dict[tuple[tuple[str, str], ...], list[tuple[str, str]]] = {}

    def direct(
        self, prepared: PreparedRequest, build: Callable[[], httpx.Request]
    ) -> Direct | None:
        if prepared.cookies or prepared.form is not None or prepared.files is not None:
            return None
        url = prepared.url
        if self.base is None or not url.startswith(self.base):
            return None
        start = len(self.base)
        if not (_UNESCAPED_TAIL.fullmatch(url, start) or _SAFE_TAIL.fullmatch(url, start)):
            return None
        headers = self._headers(prepared.headers)
        if headers is None:
            return None
        content = prepared.content
        if content:
            headers.append(("content-length", str(len(content))))
        elif prepared.method in _EMPTY_BODY_LENGTH:
            headers.insert(1, ("content-length", "0"))
        return Direct(
            prepared.method, url, headers, content or None, self.timeout, self.read_timeout, build
        )

    def _headers(self, given: dict[str, str]) -> list[tuple[str, str]] | None:
        """`_merged`, remembered for the header sets that recur (an operation's own: its
        content type, its bound credentials), at most `_REMEMBERED` of them."""
        key = tuple(given.items())
        found = self._merges.get(key)
        if found is None:
            found = self._merged(given)
            if found is None:
                return None
            if len(self._merges) < _REMEMBERED and sum(map(len, given.values())) <= 4096:
                self._merges[key] = found
        return list(found)

    def _merged(self, given: dict[str, str]) -> list[tuple[str, str]] | None:
        """httpx's merge: the defaults the request does not name, then the request's headers
        in their order (names lowered, as httpx hands them to the transport)."""
        named = set()
        own = []
        for name, value in given.items():
            lowered = name.lower()
            if lowered in _WRITTEN_BY_HTTPX or not name.isascii() or not value.isascii():
                return None
            if not writable_header(name.encode(), value.encode()):
                return None
            named.add(lowered)
            own.append((lowered, value))
        return [(k, v) for k, v in self.defaults if k not in named] + own
