"""Deterministic Python names for spec names; wire names are never changed."""

from __future__ import annotations

import builtins
import functools
import hashlib
import keyword
import re
import sys
import unicodedata
from collections.abc import Container, Iterable

_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_")) | {"self", "cls"}
# Attributes of a generated client besides its operations (capgen_runtime.client.OperationsClient)
CLIENT_RESERVED = frozenset({"aclose", "stream"})
# Attributes of a generated service besides its methods (capgen_runtime.engine.Service)
SERVICE_RESERVED = frozenset(
    {"UPSTREAMS", "answer", "bind_scope", "call", "client", "clients", "consume", "draining"}
    | {"messages", "metrics", "ready", "redactor", "replaced", "run", "running", "settings"}
    | {"upstreams"}
)
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
_IGNORED = re.compile(r"[-_.\s]")  # what `normalise` leaves out
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z0-9]+|[A-Z]+|[0-9]+")


def ascii_text(name: str) -> str:
    """Latin letters without their accents (`café` → `cafe`, `Straße` → `Strasse`); other
    scripts are dropped, and `unique` numbers whatever then collides."""
    if name.isascii():
        return name
    decomposed = unicodedata.normalize("NFKD", name.replace("ß", "ss").replace("ẞ", "SS"))
    return "".join(c for c in decomposed if c.isascii())


def words(name: str) -> list[str]:
    """`listStories` → [list, stories]; `filter[x]` → [filter, x]; `$top` → [top]."""
    return list(_words(name))


@functools.lru_cache(maxsize=65536)  # a large spec asks for the same names many times
def _words(name: str) -> tuple[str, ...]:
    return tuple(
        w.lower() for chunk in _SEPARATORS.split(ascii_text(name)) for w in _WORD.findall(chunk)
    )


@functools.lru_cache(maxsize=65536)
def snake(name: str, fallback: str = "value") -> str:
    text = "_".join(words(name)) or fallback
    return f"_{text}" if text[0].isdigit() else text


@functools.lru_cache(maxsize=65536)
def identifier(name: str, fallback: str = "value") -> str:
    """A safe argument or variable name: keywords and builtins get a trailing underscore, a
    leading digit gets `fallback` in front (a leading underscore would read as private)."""
    text = snake(name, fallback)
    if text[0] == "_":
        text = fallback + text
    if keyword.iskeyword(text) or keyword.issoftkeyword(text) or text in _BUILTINS:
        return text + "_"
    return text


@functools.lru_cache(maxsize=65536)
def constant(name: str, fallback: str = "VALUE") -> str:
    """`get-article` → `GET_ARTICLE`; a name that starts with a digit gets `fallback` in front."""
    text = "_".join(words(name)).upper()
    if not text:
        return fallback
    return f"{fallback}_{text}" if text[0].isdigit() else text


def base_url_env(namespace: str) -> str:
    """The variable that overrides a consumed API's base URL, by one rule for every namespace:
    the namespace upper-cased, each character other than an ASCII letter or digit replaced by
    `_` (one for one, nothing dropped or added), then `_BASE_URL`: `billing-api` →
    `BILLING_API_BASE_URL`, `1factory` → `1FACTORY_BASE_URL`, `radar--radar` →
    `RADAR__RADAR_BASE_URL`, `myApi` → `MYAPI_BASE_URL`."""
    return re.sub(r"[^A-Za-z0-9]", "_", namespace).upper() + "_BASE_URL"


def pascal(name: str, fallback: str = "Generated") -> str:
    text = "".join(w.capitalize() for w in words(name)) or fallback
    return f"N{text}" if text[0].isdigit() else text


# Top-level modules a generated package must not shadow: the standard library of every Python
# capgen supports (listed, not read from this interpreter, so output is the same everywhere)
# and what generated services import at run time.
_STDLIB_ELSEWHERE = frozenset(
    [
        "aifc",
        "annotationlib",
        "asynchat",
        "asyncore",
        "audioop",
        "cgi",
        "cgitb",
        "chunk",
        "compression",
        "crypt",
        "distutils",
        "imghdr",
        "imp",
        "lib2to3",
        "mailcap",
        "msilib",
        "nis",
        "nntplib",
        "ossaudiodev",
        "pipes",
        "smtpd",
        "sndhdr",
        "spwd",
        "sunau",
        "telnetlib",
        "tomllib",
        "uu",
        "xdrlib",
        "zoneinfo",
    ]
)
_DEPENDENCIES = frozenset(
    [
        "annotated_types",
        "anyio",
        "capgen_runtime",
        "certifi",
        "click",
        "cryptography",
        "fastapi",
        "h11",
        "httpcore",
        "httptools",
        "httpx",
        "httpx2",
        "idna",
        "jsonschema",
        "jwt",
        "mcp",
        "mcp_types",
        "multipart",
        "pydantic",
        "pydantic_core",
        "python_multipart",
        "sniffio",
        "sse_starlette",
        "starlette",
        "typing_extensions",
        "uvicorn",
        "uvloop",
        "yaml",
    ]
)
SHADOWED = frozenset(sys.stdlib_module_names) | _STDLIB_ELSEWHERE | _DEPENDENCIES
PACKAGE_SUFFIX = "_capability"
MAX_MODULE = 64


def package_module(name: str, *, given: bool = False) -> tuple[str, bool]:
    """The import name for a package called `name` (a spec's file stem, or with `given` an
    import name the user chose, kept as it is), and whether it had to avoid shadowing."""
    text = name if given else module_name(name)
    if not given and len(text) > MAX_MODULE:  # a file name has at most 255 bytes
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        text = f"{text[: MAX_MODULE - 9].rstrip('_')}_{digest}"
    if text in SHADOWED:
        return f"{text}{PACKAGE_SUFFIX}", True
    return text, False


def module_name(name: str) -> str:
    text = snake(name, "capability")
    if keyword.iskeyword(text) or text[0] == "_":
        text = f"cap{text}" if text[0] == "_" else f"{text}_"
    return text


def dist_name(name: str) -> str:
    return "-".join(words(name)) or "capability"


def unique(names: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
    """One collision pass in declaration order: later duplicates get `_2`, `_3`, …"""
    seen = set(taken)
    return [claim(name, seen) for name in names]


def claim(name: str, taken: set[str], *reserved: Container[str]) -> str:
    """`name`, or `name_2`, `name_3`, … : the first that neither `taken` nor any of `reserved`
    holds, added to `taken` (the sets of a large spec are not copied per name)."""
    candidate, n = name, 2
    while candidate in taken or any(candidate in names for names in reserved):
        candidate = f"{name}_{n}"
        n += 1
    taken.add(candidate)
    return candidate


@functools.lru_cache(maxsize=65536)
def normalise(name: str) -> str:
    """The matching key of SEMANTICS §8.2: `account-id` ≈ `account_id` ≈ `accountId`."""
    return _IGNORED.sub("", name).lower()
