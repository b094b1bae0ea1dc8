"""The structure both spec eras share, and where they differ: which lists of named entries an
`ikanos` document writes as maps keyed by the name, and which keys it spells differently.

One table serves reading (`normalise.py`, any era into the alpha2 shape the parser reads) and
writing (`generator/migrate/`, one era into another), so the two can never disagree. Keys are
the alpha2 spellings; `RENAMES` gives the `ikanos` one per kind of node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..diagnostics import ADAPTER_KINDS


@dataclass(frozen=True)
class Child:
    kind: str
    # one: a node | list: a list of nodes | named: alpha2 list with `name`, ikanos map by name
    # map: a mapping of nodes in both eras | outputs: `outputParameters` of an exposed endpoint
    # (a list for a `call`, named for steps and mock values)
    container: str


_PARAM = Child("param", "named")
_ENDPOINT = {
    "inputParameters": _PARAM,
    "steps": Child("step", "named"),
    "mappings": Child("mapping", "list"),
    "outputParameters": Child("orchestrated-output", "outputs"),
}

SHAPE: dict[str, dict[str, Child]] = {
    "root": {
        "info": Child("info", "one"),
        "binds": Child("bind", "list"),
        "capability": Child("capability", "one"),
        "consumes": Child("consumes", "list"),
        "exposes": Child("exposes", "list"),
        "aggregates": Child("aggregate", "list"),
    },
    "capability": {
        "consumes": Child("consumes", "list"),
        "exposes": Child("exposes", "list"),
        "aggregates": Child("aggregate", "list"),
        "binds": Child("bind", "list"),
    },
    "consumes": {"inputParameters": _PARAM, "resources": Child("consumed-resource", "named")},
    "consumed-resource": {
        "inputParameters": _PARAM,
        "operations": Child("consumed-operation", "named"),
    },
    "consumed-operation": {
        "inputParameters": _PARAM,
        "outputParameters": Child("consumed-output", "named"),
    },
    "rest": {"inputParameters": _PARAM, "resources": Child("rest-resource", "named")},
    "rest-resource": {"inputParameters": _PARAM, "operations": Child("rest-operation", "named")},
    "rest-operation": _ENDPOINT,
    "mcp": {
        "tools": Child("tool", "named"),
        "resources": Child("mcp-resource", "named"),
        "prompts": Child("prompt", "named"),
    },
    "tool": _ENDPOINT,
    "mcp-resource": _ENDPOINT,
    "prompt": {"arguments": Child("prompt-argument", "named")},
    "aggregate": {"functions": Child("flow", "named")},
    "flow": _ENDPOINT,
    "skill": {"skills": Child("skill-entry", "named")},
    "skill-entry": {"tools": Child("skill-tool", "named")},
    "orchestrated-output": {
        "items": Child("orchestrated-output", "named"),
        "properties": Child("orchestrated-output", "map"),
    },
    "step": {"mappings": Child("mapping", "list")},
}

_DISPLAY = {"label": "display"}
RENAMES: dict[str, dict[str, str]] = {
    "info": _DISPLAY,
    "consumed-resource": _DISPLAY,
    "consumed-operation": _DISPLAY,
    "rest-resource": _DISPLAY,
    "rest-operation": _DISPLAY,
    "tool": _DISPLAY,
    "mcp-resource": _DISPLAY,
    "prompt": _DISPLAY,
    "prompt-argument": _DISPLAY,
    "aggregate": {"label": "display", "functions": "flows"},
    "mapping": {"targetName": "target"},
    "import": {"location": "from"},
}
SECTIONS = ("consumes", "exposes", "aggregates", "binds")  # what `{from, import, as}` imports
_EXPOSES = {
    **{kind: kind for kind in ADAPTER_KINDS},
    "skill": "skill",
}  # adapter kinds: the runtime's


def entry_kind(kind: str, node: Any) -> str:
    """The kind of one entry of a section: an import, or an exposes adapter by its `type`."""
    if not isinstance(node, Mapping):
        return kind
    if kind in ("consumes", "exposes", "aggregate", "bind") and "import" in node:
        return "import"
    if kind == "exposes":
        return _EXPOSES.get(str(node.get("type")), "other")
    return kind


def spelled(kind: str, maps: bool) -> dict[str, str]:
    """{key as the era writes it: alpha2 key} for the renamed keys of `kind`."""
    renames = RENAMES.get(kind, {})
    return {new: old for old, new in renames.items()} if maps else {}


def outputs_named(node: Mapping[str, Any]) -> bool:
    """Whether an endpoint's `outputParameters` are named (steps, mock values) rather than a
    list (a `call` or a `ref`) in the ikanos shape."""
    if "steps" in node:
        return True
    return "call" not in node and "ref" not in node


def single_output(node: Any) -> bool:
    """An orchestrated array's `items` is one output (a mapping with a scalar `type`) rather
    than a map of named ones."""
    return isinstance(node, Mapping) and not isinstance(node.get("type", {}), Mapping)


# (kind, key) -> the era feature (`eras.FEATURES`) a document needs to hold that key
FEATURE_KEYS: dict[tuple[str, str], str] = {
    ("info", "version"): "version",
    ("mcp", "ttlMs"): "caching",
    ("mcp", "cacheScope"): "caching",
    ("mcp", "maxBinarySize"): "binary",
    ("rest", "maxBinarySize"): "binary",
    ("consumed-operation", "maxBinarySize"): "binary",
    ("consumed-operation", "outputMediaType"): "binary",
    ("flow", "outputMediaType"): "binary",
    ("rest-operation", "responses"): "binary",
    ("rest-operation", "responseBinary"): "binary",
    ("mcp-resource", "binary"): "binary",
    ("consumes", "tunnel"): "ikanos",
    **{
        (kind, "tags"): "ikanos"
        for kind in (
            "consumed-resource",
            "consumed-operation",
            "rest-resource",
            "rest-operation",
            "tool",
            "flow",
        )
    },
}
