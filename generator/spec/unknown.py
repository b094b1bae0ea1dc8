"""Keys capgen does not read: each is reported where it is written, with a did-you-mean.

A key that is a near miss of a key the same mapping can hold (`methd`, `inputParamters`) is
taken for a misspelling: an error (E015), since what is under it would silently be lost. Any
other unknown key (extensions real specs carry, such as `personas`) is a warning (W100), with
a guess when one is close. A `consumes`/`exposes`/`aggregates` list at the root of a document
that has `capability` is never read, and is an error (E016).
"""

from __future__ import annotations

from typing import Any

from pydantic.alias_generators import to_camel

from ..diagnostics import Diagnostics
from ..guess import NAME_GUESS, did_you_mean, typo_of
from ..loader import Locations, Pointer
from . import eras
from . import models as m

CAPABILITY_KEYS = ("consumes", "exposes", "aggregates", "binds")
SECTIONS = ("consumes", "exposes", "aggregates")

MODEL_NAMES = {
    "ConsumedOperation": "a consumed operation",
    "ConsumedResource": "a consumed resource",
    "HttpConsumes": "a consumes entry",
    "ExposedOperation": "an exposed operation",
    "ExposedResource": "an exposed resource",
    "RestExposes": "a REST adapter",
    "McpExposes": "an MCP adapter",
    "InputParameter": "an input parameter",
    "OutputParameter": "an output parameter",
    "Authentication": "authentication",
    "Info": "info",
    "Document": "the spec root",
}


def known_keys(model: str) -> list[str]:
    """The keys a mapping read as `model` can hold (alpha2 spellings)."""
    cls = getattr(m, model, None)
    if not isinstance(cls, type) or not issubclass(cls, m.SpecModel):
        return []
    found: set[str] = set()
    for name, info in cls.model_fields.items():
        found.add(info.alias or to_camel(name))
    return sorted(found)


def report(
    unknown: dict[tuple[str, str], list[Pointer]], locations: Locations, diagnostics: Diagnostics
) -> None:
    for (model, key), listed in unknown.items():
        pointers = list(dict.fromkeys(listed))  # a mapping read twice is one place
        owner = pointers[0][:-1]
        choices = [locations.term(k, owner) for k in known_keys(model)]
        place = MODEL_NAMES.get(model, model)
        more = f" ({len(pointers)} places)" if len(pointers) > 1 else ""
        _one(key, f"{place}{more}", choices, locations.key_span(pointers[0]), diagnostics)


def _one(key: str, place: str, choices: list[str], span: Any, diagnostics: Diagnostics) -> None:
    typo = typo_of(key, choices)
    if typo is not None:
        message = f"unknown key `{key}` in {place}; did you mean `{typo}`? nothing under it is read"
        diagnostics.error("E015", message, span)
        return
    diagnostics.warning(
        "W100",
        f"unknown key `{key}` in {place} ignored{did_you_mean(key, choices, NAME_GUESS)}",
        span,
    )


def capability_keys(
    cap: dict[str, Any], era: eras.Era, locations: Locations, diagnostics: Diagnostics
) -> None:
    for key in cap:
        span = locations.key_span(("capability", key))
        if key == "binds" and not era.maps:
            diagnostics.warning(
                "W100", "`capability.binds` is ignored; binds belong at the root", span
            )
        elif key not in CAPABILITY_KEYS:
            _one(key, "`capability`", list(CAPABILITY_KEYS), span, diagnostics)


def misplaced_sections(
    data: dict[str, Any], locations: Locations, diagnostics: Diagnostics
) -> None:
    """`exposes:` written at the root beside `capability` (indented one level too little)."""
    if not isinstance(data.get("capability"), dict):
        return
    for key in SECTIONS:
        if key in data:
            diagnostics.error(
                "E016",
                f"`{key}` at the root is not read: it belongs under `capability`",
                locations.key_span((key,)),
            )
