"""Diagnostics: stable codes, source spans, collection and printing.

Every user-facing problem is a `Diagnostic` with a code from `CODES`; the table in
docs/diagnostics.md is generated from it (a test keeps the two in step).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from capgen_runtime.adapters import KINDS

from .guess import did_you_mean

ADAPTER_KINDS = tuple(KINDS)  # the `exposes[].type`s capgen generates: the runtime's registry

Severity = Literal["error", "warning", "note"]


class Span(NamedTuple):
    file: str
    line: int
    col: int


class Code(NamedTuple):
    severity: Severity
    title: str
    hint: str


CODES: dict[str, Code] = {
    # -- reading the file
    "E001": Code("error", "spec file cannot be read", "check the path and permissions"),
    "E002": Code("error", "spec is not UTF-8", "save the file as UTF-8"),
    "E003": Code("error", "YAML syntax error", "fix the YAML at the marked position"),
    "E004": Code("error", "spec is empty", "a spec starts with `naftiko: 1.0.0-alpha2`"),
    "E005": Code("error", "several YAML documents in one spec", "keep one document per file"),
    "E006": Code("error", "recursive YAML alias", "replace the alias by a copy"),
    "E007": Code("error", "mapping key is not a scalar", "use plain text keys"),
    "E008": Code("error", "duplicate key", "YAML keeps only the last value; remove one"),
    "E009": Code(
        "error",
        "YAML value unusable (a tag it does not fit, or a document too deep or too large)",
        "see the message",
    ),
    # -- document shape
    "E010": Code(
        "error", "spec root is not a mapping", "a spec is a mapping with `naftiko` and `capability`"
    ),
    "E011": Code(
        "error",
        "unsupported spec format or version",
        "capgen reads `naftiko: 1.0.0-alpha*` and `ikanos: 1.0.0-alpha3` … `1.0.0-beta5` specs",
    ),
    "E012": Code("error", "required field missing", "add the field"),
    "E013": Code("error", "field has the wrong type", "see the expected type in the message"),
    "E014": Code("error", "value not allowed here", "use one of the listed values"),
    "E015": Code(
        "error",
        "unknown key that is a misspelling of a known one (nothing under it would be read)",
        "write the key as suggested",
    ),
    "E016": Code(
        "error",
        "`consumes`, `exposes` or `aggregates` at the root beside `capability`",
        "indent it under `capability:`",
    ),
    # -- consumes
    "E020": Code(
        "error",
        "`baseUri` ends with a slash",
        "remove the trailing `/` (the engine refuses it too)",
    ),
    "E021": Code(
        "error", "`baseUri` is not an absolute http(s) URL", "write e.g. https://api.example.com/v1"
    ),
    "E022": Code(
        "error", "namespace declared twice", "namespaces must be unique across consumes and exposes"
    ),
    "E023": Code("error", "malformed path template", "placeholders are `{name}` or `{{name}}`"),
    "E024": Code(
        "error",
        "imported file cannot be read",
        "check `location` (alpha2) or `from` (ikanos), relative to the spec",
    ),
    "E025": Code(
        "error", "imported namespace not found", "`import` must name a namespace of the source file"
    ),
    "E026": Code("error", "malformed template", "close every `{{` with `}}`"),
    # -- references between parts
    "E030": Code(
        "error", "malformed `call` reference", "write `call: <consumes-namespace>.<operation-name>`"
    ),
    "E031": Code(
        "error", "`call` names an unknown namespace", "declare it under `capability.consumes`"
    ),
    "E032": Code(
        "error", "`call` names an unknown operation", "check the operation names of that namespace"
    ),
    "E033": Code(
        "error",
        "`forward` targets an unknown namespace",
        "`targetNamespace` must be a consumes namespace",
    ),
    "E034": Code(
        "error", "`ref` names an unknown aggregate function", "write `ref: <aggregate>.<function>`"
    ),
    "E035": Code(
        "error",
        "an exposed operation or tool has no `call`, `steps` or `ref`, and nothing to mock",
        "add `call: <namespace>.<operation>` (or mock `value`s on its outputs)",
    ),
    # -- exposes
    "E040": Code(
        "error", "two REST operations share a method and path", "keep one or change the path"
    ),
    "E041": Code("error", "two MCP tools share a name", "tool names must be unique per adapter"),
    "E042": Code("error", "two adapters listen on the same port", "give each adapter its own port"),
    "E043": Code(
        "error", "REST path is malformed", "paths start with `/` and use `{name}` variables"
    ),
    "E044": Code("error", "MCP prompt or resource is malformed", "see the message"),
    # -- configuration and output
    "E050": Code(
        "error",
        "output directory is not capgen output",
        "choose an empty folder or one capgen wrote",
    ),
    "E051": Code("error", "invalid capgen configuration", "check [tool.capgen] in pyproject.toml"),
    "E052": Code(
        "error",
        "strict mode: spec does not follow the published schema",
        "fix the spec, or turn schema validation off (`--strict`, or `strict` in [tool.capgen])",
    ),
    # -- text that reaches deployment files
    "E060": Code(
        "error",
        "environment variable name is not portable",
        "use letters, digits and `_` only, not starting with a digit (`API_KEY`)",
    ),
    "E080": Code(
        "error",
        "strict mode: a template name nothing supplies (DEV-24)",
        "declare the input, add a `with` entry or a bind, or fix the name",
    ),
    "E081": Code(
        "error",
        "an API key placed in the body of an operation whose body cannot carry it (DEV-29)",
        "send a JSON object or a form body, or place the key in a header or the query",
    ),
    # -- spec eras (ikanos) and `capgen migrate`
    "E070": Code(
        "error",
        "`maxBinarySize` is not a size",
        "write a number and a unit: B, KiB, MiB or GiB (e.g. 512KiB)",
    ),
    "E071": Code(
        "error",
        "REST response contract malformed",
        "`responses` maps a status (200, 4XX) to `content` by media type; `responseBinary` "
        "needs `mediaType`",
    ),
    "E072": Code(
        "error",
        "cannot be expressed in the target era",
        "change the spec (or migrate to an era that holds it); nothing was written",
    ),
    "E073": Code("error", "migrated document cannot be written", "check the output folder"),
    # -- warnings: accepted, but capgen had to interpret or skip something
    "W100": Code("warning", "unknown key ignored", "remove it, or check its spelling"),
    "W101": Code(
        "warning",
        "spec version not given or not known; read as the closest one",
        "write `naftiko: 1.0.0-alpha2` or `ikanos: 1.0.0-beta5`",
    ),
    "W102": Code("warning", "recommended field missing", "add it for better generated docs"),
    "W140": Code(
        "warning",
        "field newer than the document's version; read anyway",
        "raise the version, or run `capgen migrate --to ikanos-1.0.0-beta5`",
    ),
    "W141": Code(
        "warning",
        "named entries written in the other era's shape; read anyway",
        "`capgen migrate` writes them in the document's era",
    ),
    "W142": Code(
        "warning",
        "key spelled as in the other era; read anyway",
        "use the spelling of the document's era (ikanos: display, flows, target, from)",
    ),
    "W143": Code(
        "warning",
        "consumes `tunnel` not opened; requests go to `baseUri` directly",
        "make the upstream reachable from where the service runs, or set <NAMESPACE>_BASE_URL",
    ),
    "W144": Code(
        "warning",
        "`info.version` is not a Python package version; the package is 0.1.0",
        "write a PEP 440 version such as 1.2.0",
    ),
    "W110": Code(
        "warning",
        "expose type not generated; skipped",
        f"capgen generates {' and '.join(ADAPTER_KINDS)} adapters",
    ),
    "W111": Code("warning", "consumes type not supported; skipped", "capgen consumes http APIs"),
    "W112": Code(
        "warning", "nothing is exposed", "the package holds the client and health endpoints only"
    ),
    "W120": Code("warning", "alternative spelling accepted", "use the spelling of the schema"),
    "W121": Code(
        "warning",
        "authentication kind not supported; requests go out unsigned",
        "sign requests yourself, or use a supported kind",
    ),
    "W122": Code("warning", "value interpreted", "see the message for what capgen does"),
    "W123": Code(
        "warning",
        "header or cookie name is not an HTTP token",
        "use letters, digits and !#$%&'*+-.^_`|~ only",
    ),
    "W124": Code(
        "warning",
        "package name shadows a standard-library or dependency module",
        "set `module` for this spec in [tool.capgen.options] to choose another import name",
    ),
    "W130": Code(
        "warning",
        "`with` refers to an input nobody provides",
        "declare the input, or fix the reference",
    ),
    "W131": Code(
        "warning",
        "declared twice; the first one wins (an operation: the caller's context chooses)",
        "rename or remove one of them",
    ),
    "W132": Code(
        "warning", "step kind not supported; the operation answers 501", "use call or lookup steps"
    ),
    "W133": Code(
        "warning",
        "bind variable not declared; read from the environment variable of that name",
        "declare it under `binds`",
    ),
    "W134": Code(
        "warning",
        "`call` names an operation this spec does not declare, nor anything close; it answers 501",
        "declare the operation under `consumes`, or fix the reference (an error with --strict "
        "or --warnings-as-errors)",
    ),
    "W150": Code(
        "warning",
        "optional parameter without a name dropped (DEV-28)",
        "give it a name, or remove it",
    ),
    "W151": Code(
        "warning",
        "a template name nothing supplies renders empty (DEV-24)",
        "declare the input, add a `with` entry or a bind, or fix the name (an error with "
        "--strict or --warnings-as-errors)",
    ),
}


def not_one_of(what: str, value: object, choices: Sequence[str]) -> str:
    """`<what> 'que' is not one of path, query, ...; did you mean 'query'?` (E014)."""
    return f"{what} {value!r} is not one of {', '.join(choices)}{did_you_mean(value, choices)}"


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    span: Span
    hint: str | None = None

    def render(self) -> str:
        kind = f"{self.severity}[{self.code}]" if self.code else self.severity
        head = f"{self.span.file}:{self.span.line}:{self.span.col}: {kind}: {self.message}"
        return f"{head}\n  hint: {self.hint}" if self.hint else head

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.col,
            "severity": self.severity,
            "code": self.code or None,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass
class Diagnostics:
    """Collects diagnostics; never raises for user problems."""

    items: list[Diagnostic] = field(default_factory=list)
    strict: bool = False

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self._add("error", code, message, span, hint)

    def warning(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self._add("warning", code, message, span, hint)

    def note(self, message: str, span: Span) -> None:
        """Information, not a problem: no code, never an error (the era a file is written in,
        what `capgen migrate` did)."""
        self.items.append(Diagnostic("note", "", message, span))

    def _add(
        self, severity: Severity, code: str, message: str, span: Span, hint: str | None
    ) -> None:
        entry = CODES[code]
        self.items.append(Diagnostic(severity, code, message, span, hint or entry.hint))

    def promote(self) -> None:
        """`--warnings-as-errors`: every warning becomes an error (once all are collected, so
        the checks that run after a first error still report theirs)."""
        self.items = [
            Diagnostic("error", d.code, d.message, d.span, d.hint) if d.severity == "warning" else d
            for d in self.items
        ]

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.sorted())

    def sorted(self) -> list[Diagnostic]:
        unique = dict.fromkeys(self.items)
        return sorted(
            unique, key=lambda d: (d.span.file, d.span.line, d.span.col, d.code, d.message)
        )


def render_text(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(d.render() for d in diagnostics)


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.as_json() for d in diagnostics], indent=2)


def codes_table() -> str:
    """The Markdown table of docs/diagnostics.md."""
    rows = ["| code | severity | meaning | what to do |", "|---|---|---|---|"]
    rows += [f"| `{code}` | {c.severity} | {c.title} | {c.hint} |" for code, c in CODES.items()]
    return "\n".join(rows)
