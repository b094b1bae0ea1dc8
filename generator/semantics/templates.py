"""Build-time reading of Mustache templates and path templates."""

from __future__ import annotations

import re

_MUSTACHE = re.compile(r"\{\{\s*[#^/&]?\s*([^{}!]+?)\s*\}\}")
_BRACES = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}|\{\s*([^{}]+?)\s*\}")


class TemplateError(ValueError):
    pass


def normalise_path(path: str) -> tuple[str, tuple[str, ...]]:
    """`/a/{{x}}/{y}` → (`/a/{x}/{y}`, (x, y)); DEV-8 makes both forms placeholders."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in names:
            names.append(name)
        return "{" + name + "}"

    normalised = _BRACES.sub(replace, path)
    leftover = _BRACES.sub("", path)
    if "{" in leftover or "}" in leftover:
        raise TemplateError(f"unbalanced braces in {path!r}")
    return normalised, tuple(names)


def names(template: str) -> tuple[str, ...]:
    """Variable names used by a Mustache template (sections included), in order."""
    if "{{" in template and template.count("{{") != len(_MUSTACHE.findall(template)):
        raise TemplateError(f"unclosed '{{{{' in {template!r}")
    return tuple(dict.fromkeys(m.group(1) for m in _MUSTACHE.finditer(template)))


def collect_names(data: object) -> tuple[str, ...]:
    """Template variables anywhere inside a structure of strings, lists and mappings."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.extend(names(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return tuple(dict.fromkeys(found))
