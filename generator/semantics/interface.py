"""The inputs an exposed unit offers when the spec does not declare them (DEV-18, and the
REST equivalent): derived from the consumed operations it calls, after `with`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..ir import model as ir
from .naming import normalise
from .templates import TemplateError, collect_names


@dataclass(frozen=True)
class Derived:
    """One input offered to callers, described by the consumed parameter it feeds."""

    name: str
    location: str  # the consumed parameter's location
    type: str
    description: str | None
    required: bool
    whole_body: bool  # the only body parameter: the caller's whole JSON body is it
    constraints: dict[str, Any] | None = None


def derive(
    pairs: Sequence[tuple[ir.Operation, Sequence[ir.With]]],
    provided: Iterable[str],
    bind_names: frozenset[str],
) -> list[Derived]:
    """Inputs the calls need that `provided` (declared inputs, path variables) does not cover."""
    taken = {normalise(n) for n in provided}
    found: dict[str, Derived] = {}
    for operation, entries in pairs:
        by_key = {w.key: w for w in entries}
        body_params = [p for p in operation.parameters if p.location == "body"]
        for param in operation.arguments:  # what a caller may feed, template variables included
            names, as_is = _fed_by(param.name, by_key.get(param.name), bind_names)
            whole = param.location == "body" and len(body_params) == 1
            for name in names:
                if as_is:
                    _offer(found, taken, param, name, whole)
                else:
                    _offer(found, taken, param, name, False, description=None, type_="string")
    return list(found.values())


def feeds(
    pairs: Sequence[tuple[ir.Operation, Sequence[ir.With]]], bind_names: frozenset[str]
) -> dict[str, str]:
    """For each caller input (by normalised name) that fills a consumed path placeholder or a
    header, that location: the values the service can send there are restricted."""
    found: dict[str, str] = {}
    for operation, entries in pairs:
        by_key = {w.key: w for w in entries}
        for param in operation.parameters:
            if param.location not in ("path", "header"):
                continue
            if isinstance(param.value, str):  # a template: its variables go there
                names = _template_vars(param.value, bind_names)
            else:
                names, _ = _fed_by(param.name, by_key.get(param.name), bind_names)
            for name in names:
                if found.get(normalise(name)) != "path":  # a path's rule is the stricter
                    found[normalise(name)] = param.location
    return found


# header names whose values are credentials or session state: never mirrored in the clear
_PRIVATE_HEADER = re.compile(
    r"authorization|cookie|token|secret|password|passwd|credential|session|api-?key|signature",
    re.IGNORECASE,
)
_WHOLE = re.compile(r"^\{\{\s*[^{}\s]+\s*\}\}$")  # a template that is one variable
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an HTTP field name (RFC 9110 §5.6.2)


def mirrored_headers(
    pairs: Sequence[tuple[ir.Operation, Sequence[ir.With]]], bind_names: frozenset[str]
) -> dict[str, str]:
    """For each caller input (by normalised name) that is, as it is, the whole value of a
    consumed header, that header's name: an MCP tool announces it as the argument's
    `x-mcp-header` (SEP-2243), so a 2026-07-28 client also sends it as an `Mcp-Param-*`
    header that gateways can route on. A header carrying a credential is never announced
    (its value would travel in the clear), nor one an input fills only part of."""
    found: dict[str, str] = {}
    for operation, entries in pairs:
        by_key = {w.key: w for w in entries}
        for param in operation.parameters:
            if param.location != "header" or isinstance(param.value, str):
                continue
            if _PRIVATE_HEADER.search(param.name) or not _TOKEN.match(param.name):
                continue
            entry = by_key.get(param.name)
            names, as_is = _fed_by(param.name, entry, bind_names)
            if not as_is and entry is not None and len(names) == 1:  # `with: {{x}}`, nothing else
                as_is = _WHOLE.match(str(entry.value)) is not None
            if as_is:
                for name in names:
                    found.setdefault(normalise(name), param.name)
    return found


def _fed_by(name: str, entry: ir.With | None, bind_names: frozenset[str]) -> tuple[list[str], bool]:
    """The caller inputs that feed the consumed parameter `name`, and whether they feed it as
    they are: its own name, the input a `with` entry references, or (not as they are) the
    variables of a `with` template."""
    if entry is None:
        return [name], True
    if entry.ref is not None:
        return [entry.ref], True
    return _template_vars(entry.value, bind_names), False


def _offer(
    found: dict[str, Derived],
    taken: set[str],
    param: ir.Param,
    name: str,
    whole: bool,
    description: str | None = "",
    type_: str | None = None,
) -> None:
    key = normalise(name)
    if key in taken or name in found:
        return
    found[name] = Derived(
        name=name,
        location=param.location,
        type=type_ or param.type,
        description=param.description if description == "" else description,
        required=param.required or param.location == "path",
        whole_body=whole,
        constraints=param.constraints if type_ is None else None,
    )


def _template_vars(value: Any, bind_names: frozenset[str]) -> list[str]:
    try:
        used = collect_names(value)
    except TemplateError:
        return []
    return [
        n
        for n in used
        if n not in bind_names and n.split(".")[-1] not in bind_names and "." not in n
    ]
