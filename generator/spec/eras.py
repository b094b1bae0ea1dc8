"""Spec eras: which format a document is written in, and what that era can hold.

Two lineages (docs/eras.md): `naftiko: 1.0.0-alpha1 … alpha3` (named lists,
`label`, `functions`, `targetName`, consumes imports with `location`) and `ikanos: 1.0.0-alpha3
… beta5` (maps keyed by name, `display`, `flows`, `target`, `{from, import, as}` imports in every
section). Within the `ikanos` lineage only the version constant changes, except that beta1 added
binary content and beta4 the caching hints and `info.version`. capgen reads every era into the
one alpha2-shaped model (`normalise.py`); this module only names the eras and their features.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Diagnostics
from ..loader import Locations

NAFTIKO = "naftiko"
IKANOS = "ikanos"
NAFTIKO_VERSIONS = ("1.0.0-alpha1", "1.0.0-alpha2", "1.0.0-alpha3")
IKANOS_VERSIONS = (
    "1.0.0-alpha3",
    "1.0.0-alpha4",
    "1.0.0-beta1",
    "1.0.0-beta2",
    "1.0.0-beta3",
    "1.0.0-beta4",
    "1.0.0-beta5",
)
LATEST = IKANOS_VERSIONS[-1]

# feature -> the first ikanos version that has it
FEATURES = {
    "ikanos": "1.0.0-alpha3",  # imports in every section, tags, tunnels, standalone documents
    "binary": "1.0.0-beta1",
    "caching": "1.0.0-beta4",
    "version": "1.0.0-beta4",
}


@dataclass(frozen=True)
class Era:
    """`naftiko 1.0.0-alpha2`, `ikanos 1.0.0-beta5`: the root key and the version it says."""

    root: str
    version: str
    known: bool = True  # a version capgen knows; otherwise read as the closest one

    @property
    def maps(self) -> bool:
        """Named entries are maps keyed by name (ikanos), not lists with `name` (naftiko)."""
        return self.root == IKANOS

    @property
    def name(self) -> str:
        return f"{self.root} {self.version}"

    @property
    def target(self) -> str:
        """How `capgen migrate --to` names it: `ikanos-1.0.0-beta5`."""
        return f"{self.root}-{self.version}"

    @property
    def read_as(self) -> str:
        """The version whose rules apply: the version itself, or the closest capgen knows."""
        if self.root == NAFTIKO:
            return "1.0.0-alpha2"
        return self.version if self.known else LATEST

    def has(self, feature: str) -> bool:
        """Whether this era's schema holds `feature` (ikanos, binary, caching, version)."""
        if self.root != IKANOS:
            return False
        return IKANOS_VERSIONS.index(self.read_as) >= IKANOS_VERSIONS.index(FEATURES[feature])


# the root sections of a standalone document (ikanos; alpha2 has standalone consumes only)
STANDALONE = ("consumes", "exposes", "aggregates", "binds")

ALPHA2 = Era(NAFTIKO, "1.0.0-alpha2")
BETA5 = Era(IKANOS, LATEST)
TARGETS = {era.target: era for era in (BETA5, ALPHA2)}  # what `capgen migrate --to` writes


def detect(data: dict[str, Any]) -> Era | None:
    """The era a document's root says, None when it names no `naftiko` nor `ikanos` version.

    An `ikanos` version capgen does not know (`1.0.0-beta6`) is read as beta5, a `naftiko`
    one starting `1.0.0-alpha` as alpha2 (the caller warns); anything else is not `known`
    either, and the caller refuses it."""
    root = IKANOS if IKANOS in data else NAFTIKO if NAFTIKO in data else None
    if root is None:
        return None
    version = str(data[root]).strip() if isinstance(data[root], str | int | float) else ""
    versions = IKANOS_VERSIONS if root == IKANOS else NAFTIKO_VERSIONS
    return Era(root, version, version in versions)


def readable(era: Era) -> bool:
    """An era capgen reads (perhaps as its closest known version, with a warning)."""
    if era.known:
        return True
    return era.version.startswith("1.0.0-alpha" if era.root == NAFTIKO else "1.0.0-")


_VERSION = re.compile(r"\d+\.\d+(\.\d+)?(-[\w.]+)?")
_ROOT_KEYS = frozenset({"info", "binds", "capability", "consumes", "exposes", "aggregates"})
READS = "`naftiko: 1.0.0-alpha2` and `ikanos: 1.0.0-alpha3` … `1.0.0-beta5` specs"


def check(data: dict[str, Any], locations: Locations, diagnostics: Diagnostics) -> Era | None:
    """The era a document is read in, with a diagnostic when it is not plainly one capgen
    knows. None: a document of another format, refused with one error (not the structural
    errors of a different format)."""
    if NAFTIKO in data and IKANOS in data:
        diagnostics.error(
            "E011",
            "the document says both `naftiko` and `ikanos`; keep the one it is written in",
            locations.key_span((NAFTIKO,)),
        )
        return None
    era = detect(data)
    if era is None:
        other = _other_format(data)
        if other is not None:
            key, version = other
            diagnostics.error(
                "E011",
                f"the document says `{key}: {version}`: it is not a capability spec; capgen "
                f"reads {READS}",
                locations.key_span((key,)),
            )
            return None
        diagnostics.warning(
            "W101",
            "the spec does not say its version (`naftiko: 1.0.0-alpha2` or "
            "`ikanos: 1.0.0-beta5`); read as naftiko 1.0.0-alpha2",
            locations.span(()),
        )
        return ALPHA2
    where = locations.span((era.root,))
    if not readable(era):
        diagnostics.error("E011", f"unsupported {era.root} version {data[era.root]!r}", where)
    elif not era.known or era.version == "1.0.0-alpha1":
        diagnostics.warning("W101", f"spec version {era.version} read as {era.read_as}", where)
    return era


def _other_format(data: dict[str, Any]) -> tuple[str, str] | None:
    """`openapi: 3.1.0`, `asyncapi: 3.0.0`: a root key naming another format's version."""
    for key, value in data.items():
        given = str(value).strip() if isinstance(value, str | float) else ""
        if isinstance(key, str) and key not in _ROOT_KEYS and _VERSION.fullmatch(given):
            return key, given
    return None
