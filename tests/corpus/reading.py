"""What the spec text says a call must send upstream: a small, independent reading of the YAML.

Nothing here comes from capgen (not its loader, IR, naming or runtime): the spec is read with
`yaml.safe_load`, and the rules are those of SEMANTICS.md with capgen's stated deviations
(§10) and the rules of issue #14 (spellings, placements, fragments). For each exposed REST
operation or MCP tool that calls one consumed operation, it gives sample inputs and the
request the upstream must then receive: method, path with its placeholders filled, query,
headers, body, and every credential the consumed side declares, in its declared place.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}#^/!]+?)\s*\}\}|\{([^{}]+)\}")
_MUSTACHE = re.compile(r"\{\{\s*([^{}#^/!]+?)\s*\}\}")
_NO_BODY = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
_SPELLINGS = {"que": "query", "qs": "query", "headers": "header"}


def normalise(name: str) -> str:
    """SEMANTICS §8.2: lower case, without `-`, `_`, `.` and whitespace."""
    return re.sub(r"[-_.\s]", "", name.lower())


def sample(name: str, kind: Any) -> Any:
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or "v"
    return {
        "integer": 7,
        "int": 7,
        "number": 1.5,
        "boolean": True,
        "bool": True,
        "array": [f"a-{slug}", f"b-{slug}"],
        "list": [f"a-{slug}", f"b-{slug}"],
        "object": {"sample": f"o-{slug}"},
    }.get(str(kind).lower() if kind else "string", f"s-{slug}")


def text(value: Any) -> str:
    """§2.2 rule 3 with DEV-3: booleans lower case, lists and dicts compact JSON, None empty."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def lookup(name: str, scopes: list[dict[str, Any]]) -> Any:
    """A dotted name: whole first, then as a path (§2.2); scopes in order (binds first, §2.1)."""
    for scope in scopes:
        if name in scope:
            return scope[name]
    head, _, tail = name.partition(".")
    for scope in scopes:
        if tail and isinstance(scope.get(head), dict):
            return lookup(tail, [scope[head]])
    return None


def render(template: str, scopes: list[dict[str, Any]]) -> str:
    return _MUSTACHE.sub(lambda m: text(lookup(m.group(1), scopes)), template)


def find(values: dict[str, Any], name: str) -> Any:
    """Exact name, then the same normalised name (§8.2 (3))."""
    if name in values:
        return values[name]
    wanted = normalise(name)
    return next((v for k, v in values.items() if normalise(k) == wanted), None)


@dataclass
class Expected:
    method: str
    path: str  # relative to the consumed namespace's base URL, placeholders filled
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    body_kind: str = ""  # "" (none expected), json, form, text
    credentials: list[str] = field(default_factory=list)  # each declared credential, described
    digest: tuple[str, str] | None = None  # username, password of a digest handshake
    output_format: str = "json"  # the consumed operation's `outputRawFormat`
    cookies: dict[str, str] = field(default_factory=dict)
    outputs: list[Any] = field(default_factory=list)  # the consumed operation's named outputs


@dataclass
class Unit:
    """One exposed operation or tool, the request to make, and what the upstream must see."""

    label: str
    namespace: str  # the consumed namespace called
    expected: Expected
    method: str = ""  # REST
    path: str = ""
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    tool: str = ""  # MCP
    arguments: dict[str, Any] = field(default_factory=dict)
    refused: str = ""  # the call, when it names nothing the spec consumes: refused, nothing sent
    outputs: list[Any] = field(default_factory=list)  # the unit's own `outputParameters`


class Reading:
    """The spec's consumed operations by `namespace.name`, and its binds' sample values."""

    def __init__(
        self, spec: dict[str, Any], binds: dict[str, Any], folder: Path | None = None
    ) -> None:
        self.spec = spec
        self.binds = binds  # {VAR: value, namespace: {VAR: value}}, as the harness set them
        capability = spec.get("capability") or {}
        self.consumes = [
            imported
            for c in capability.get("consumes") or []
            if isinstance(c, dict)
            for imported in _imported(c, folder)
        ]
        self.exposes = [e for e in capability.get("exposes") or [] if isinstance(e, dict)]
        # DEV-24: `{{tools.x}}`, `{{rest.x}}`, `{{<ns>.x}}`, `{{$this.<ns>.x}}` in a template
        # read the caller's input x (a bind namespace of that name wins, being first)
        self.callers = {"rest", "tools"} | {
            str(e.get("namespace"))
            for e in [*self.exposes, *(capability.get("aggregates") or [])]
            if isinstance(e, dict) and e.get("namespace")
        }

    def _scopes(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Binds first (a caller never shadows one, §2.1), then the caller's inputs, then the
        caller prefixes of DEV-24, each naming those same inputs."""
        prefixes: dict[str, Any] = {head: params for head in self.callers}
        prefixes["$this"] = {head: params for head in self.callers}
        return [self.binds, params, prefixes]

    # -- the consumed side ------------------------------------------------------------------

    def operation(
        self, call: str, method: str | None = None, path: str | None = None, order: int = 0
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
        """(adapter, resource, operation) of `ns.op`; among several of one name, the one of the
        calling method and path when that is unambiguous (#14 item 7)."""
        namespace, _, name = call.partition(".")
        found = [
            (adapter, resource, op)
            for adapter in self.consumes
            if adapter.get("namespace") == namespace
            for resource in adapter.get("resources") or []
            for op in resource.get("operations") or []
            if str(op.get("name") or op.get("id") or "") == name
        ]
        if len(found) > 1 and method:
            found = [f for f in found if str(f[2].get("method", "GET")).upper() == method] or found
        if len(found) > 1 and path is not None:
            # the one whose path shares the most literal segments with the caller's, then the
            # one with the fewest others
            mine = _literals(path)

            def score(entry: tuple[dict[str, Any], ...]) -> tuple[int, int]:
                theirs = _literals(str(entry[2].get("path") or entry[1].get("path", "")))
                return len(mine & theirs), -len(theirs - mine)

            found = sorted(found, key=score, reverse=True)
        elif len(found) > 1:  # no path to go by (a tool): the n-th caller of a name, the n-th
            found = found[order % len(found) :]
        return found[0] if found else None

    def expect(
        self,
        call: str,
        params: dict[str, Any],
        context: tuple[str, str] | None = None,
        order: int = 0,
    ) -> Expected | None:
        located = self.operation(call, *(context or (None, None)), order=order)
        if located is None:
            return None
        adapter, resource, op = located
        scopes = self._scopes(params)
        expected = Expected(str(op.get("method", "GET")).upper(), "")
        expected.output_format = str(op.get("outputRawFormat") or "json").lower()
        expected.outputs = [
            o for o in op.get("outputParameters") or [] if isinstance(o, dict) and o.get("name")
        ]
        body_values: dict[str, Any] = {}
        declared = _parameters(adapter, resource, op)
        for param in declared:
            name = str(param.get("name") or "")
            where = _SPELLINGS.get(str(param.get("in", "")), str(param.get("in", "")))
            if "value" in param and param["value"] is not None:
                value = param["value"]
                if isinstance(value, str):
                    value = render(value, scopes)
            else:
                value = lookup(name, [self.binds]) if name in self.binds else find(params, name)
            if value is None or (isinstance(value, str) and "{{" in value):
                continue
            params[name] = value
            if where == "query":
                for item in value if isinstance(value, list) else [value]:
                    expected.query.append((name, text(item)))
            elif where == "header":
                expected.headers[name.lower()] = text(value)
            elif where == "body":
                body_values[name] = value
        raw = str(op.get("path") or resource.get("path", ""))  # an operation's own path is whole
        raw, _, fragment = raw.partition("#")
        raw, _, written_query = raw.partition("?")
        expected.query[:0] = parse_qsl(render(written_query, scopes), keep_blank_values=True)
        if fragment.lower().startswith("x-amz-target="):
            expected.headers["x-amz-target"] = fragment.split("=", 1)[1]

        def fill(match: re.Match[str]) -> str:
            name = (match.group(1) or match.group(2)).strip()
            value = (
                lookup(name, [self.binds])
                if lookup(name, [self.binds]) is not None
                else find(params, name)
            )
            return text(value)

        expected.path = _PLACEHOLDER.sub(fill, raw)
        self._body(op.get("body"), body_values, scopes, expected)
        self._auth(adapter.get("authentication"), expected, scopes)
        return expected

    @staticmethod
    def _body(
        body: Any, values: dict[str, Any], scopes: list[dict[str, Any]], expected: Expected
    ) -> None:
        if body is None:
            if values:  # DEV-12
                single = next(iter(values.values())) if len(values) == 1 else None
                expected.body = single if isinstance(single, (dict, list)) else values
                expected.body_kind = "json"
            return
        if isinstance(body, str):
            expected.body, expected.body_kind = render(body, scopes), "text"
            return
        kind = str(body.get("type", "json")).lower()
        data = _structured(body.get("data"), scopes)
        if kind in ("form", "formurlencoded", "form-urlencoded"):
            expected.body, expected.body_kind = (
                {k: text(v) for k, v in (data or {}).items()},
                "form",
            )
        elif kind == "json" and isinstance(body.get("data"), str):  # the string is the JSON text
            expected.body, expected.body_kind = render(body["data"], scopes), "text"
        elif kind == "json":
            expected.body, expected.body_kind = data, "json"
        elif kind == "text" and isinstance(data, str):
            expected.body, expected.body_kind = data, "text"

    def _auth(self, auth: Any, expected: Expected, scopes: list[dict[str, Any]]) -> None:
        if not isinstance(auth, dict):
            return
        kind = str(auth.get("type", "")).lower()

        def field_(*names: str) -> str:
            value = next((auth[n] for n in names if auth.get(n) not in (None, "")), "")
            return render(str(value), scopes)

        if kind == "bearer":
            token = field_("token", "value")
            expected.headers["authorization"] = f"Bearer {token}"
            expected.credentials.append("bearer token in Authorization")
        elif kind == "basic":
            pair = f"{field_('username')}:{field_('password')}".encode()
            expected.headers["authorization"] = "Basic " + base64.b64encode(pair).decode()
            expected.credentials.append("basic credentials in Authorization")
        elif kind == "digest":
            expected.digest = (field_("username"), field_("password"))
            expected.credentials.append("digest response in Authorization")
        elif kind == "apikey":
            pairs: list[tuple[str, str]] = []
            headers = auth.get("headers")
            if isinstance(headers, dict):
                pairs = [(str(k), render(str(v), scopes)) for k, v in headers.items()]
            elif isinstance(headers, list):
                pairs = [
                    (str(h.get("name") or h.get("key")), render(str(h.get("value", "")), scopes))
                    for h in headers
                    if isinstance(h, dict)
                ]
            else:
                pairs = [(field_("key", "name") or "X-API-Key", field_("value", "token"))]
            placement = str(auth.get("placement") or auth.get("in") or "header").lower()
            for key, value in pairs:
                if placement == "query":
                    expected.query.append((key, value))
                elif placement == "body":
                    if expected.body_kind == "form" and isinstance(expected.body, dict):
                        expected.body[key] = value
                    else:
                        expected.body = {
                            **(expected.body if isinstance(expected.body, dict) else {}),
                            key: value,
                        }
                        expected.body_kind = "json"
                elif placement == "path":
                    continue  # fills its placeholder: already in the path
                elif placement == "cookie":
                    expected.cookies[key] = value
                else:
                    expected.headers[key.lower()] = value
                expected.credentials.append(f"api key {key} in {placement}")

    # -- the exposed side -------------------------------------------------------------------

    def rest_units(self, hidden: set[str]) -> list[tuple[str, Unit]]:
        """(adapter namespace, unit) for every REST operation with a single `call`; a second
        operation of one method on one path is never reached (the first one answers)."""
        units = []
        for adapter in (e for e in self.exposes if e.get("type") == "rest"):
            ns = str(adapter.get("namespace", ""))
            reached: set[str] = set()
            for resource in adapter.get("resources") or []:
                for op in resource.get("operations") or []:
                    unit = self._rest_unit(ns, adapter, resource, op, hidden)
                    if unit is not None and unit.label not in reached:
                        reached.add(unit.label)
                        units.append((ns, unit))
        return units

    def _rest_unit(
        self,
        ns: str,
        adapter: dict[str, Any],
        resource: dict[str, Any],
        op: dict[str, Any],
        hidden: set[str],
    ) -> Unit | None:
        call, call_with = _call(op)
        if (
            call is None
            or op.get("steps")
            or op.get("forward")
            or resource.get("forward")
            or op.get("ref")
        ):
            return None
        method = str(op.get("method", "GET")).upper()
        template = str(resource.get("path", ""))
        if op.get("path"):  # an exposed operation's own path is below its resource's
            template = template.rstrip("/") + "/" + str(op["path"]).lstrip("/")
        params: dict[str, Any] = {}
        path = template
        variables = re.findall(r"\{([^{}]+)\}", template)
        for name in variables:
            value = text(sample(name, "string"))
            params[name] = value
            path = path.replace("{" + name + "}", value)
        unit = Unit(f"REST {method} {template}", "", Expected("", ""), method=method, path=path)
        unit.outputs = list(op.get("outputParameters") or [])
        whole, fields = [], {}
        declared = _parameters(adapter, resource, op)
        if not [p for p in declared if p.get("name")]:
            declared = self._needed(
                call, [op.get("with"), call_with], ns, variables, (method, template)
            )
        for item in (p for p in declared if p.get("name")):
            name, kind = str(item["name"]), item.get("type")
            where = _SPELLINGS.get(str(item.get("in", "")), str(item.get("in", "")))
            if not where:  # where a caller can send it: its path variable, else query or body
                where = "path" if name in variables else "query" if method in _NO_BODY else "body"
            static = item.get("value")
            if isinstance(static, str) and not static.startswith("$"):
                params[name] = static
                continue
            if name.lower() in hidden or where in ("cookie", "environment"):
                continue
            if where == "path" and name in variables:
                continue
            value = sample(name, kind)
            if where in ("query", "path"):  # a path input the route lacks is a query (#14 item 6)
                unit.query[name] = value
                params[name] = value if isinstance(value, list) else text(value)
            elif where == "header":
                unit.headers[name] = text(value)
                params[name] = text(value)
            elif isinstance(static, str) and static.startswith("$."):
                fields[static[2:]] = value
                params[name] = value
            else:
                whole.append((name, kind))
        if len(whole) == 1 and not fields and str(whole[0][1]).lower() in ("object", "array"):
            unit.body = {"sample": "whole-body"}
            params[whole[0][0]] = unit.body
        elif whole or fields:
            for name, kind in whole:
                fields[name] = params[name] = sample(name, kind)
            unit.body = fields
        params = self._with(params, op.get("with"), ns, "rest")
        params = self._with(params, call_with, ns, "rest")
        expected = self.expect(call, params, (method, template))
        unit.namespace = call.partition(".")[0]
        if expected is None:  # calls what the spec does not consume: refused, nothing sent
            unit.refused = call
            return unit
        unit.expected = expected
        return unit

    def _needed(
        self, call: str, withs: list[Any], ns: str, variables: list[str], context: tuple[str, str]
    ) -> list[dict[str, Any]]:
        """README, How specs are read: a REST operation that declares no inputs offers what
        its consumed operation needs after `with`, read from the query, headers or body where
        the consumed operation sends them (a path value the route lacks: the query)."""
        located = self.operation(call, *context)
        if located is None:
            return []
        adapter, resource, op = located
        given: dict[str, Any] = {}
        for entries in withs:
            if isinstance(entries, dict):
                given.update({str(k): v for k, v in entries.items()})
        route = {normalise(v) for v in variables}
        prefixes = ("rest.", f"{ns}.", f"$this.{ns}.")
        needed = []
        consumed = _parameters(adapter, resource, op)
        for param in (p for p in consumed if p.get("name")):
            if param.get("value") is not None:
                continue
            name = str(param["name"])
            where = _SPELLINGS.get(str(param.get("in", "")), str(param.get("in", "")))
            if name in given:
                reference = given[name]
                prefix = next(
                    (p for p in prefixes if isinstance(reference, str) and reference.startswith(p)),
                    None,
                )
                if prefix is None:
                    continue  # a literal or a template: nothing to ask the caller
                name = reference[len(prefix) :]
            if normalise(name) in route or name in self.binds:
                continue
            if where == "path":
                where = "query"
            if where in ("query", "header", "body"):
                needed.append({"name": name, "in": where, "type": param.get("type")})
        path = str(op.get("path") or resource.get("path", "")).partition("?")[0]
        known = {normalise(str(p.get("name", ""))) for p in consumed}
        for match in _PLACEHOLDER.finditer(path):  # a placeholder no parameter declares
            name = (match.group(1) or match.group(2)).strip()
            if (
                normalise(name) in known | route
                or name in given
                or lookup(name, [self.binds]) is not None
            ):
                continue
            needed.append({"name": name, "in": "query", "type": "string"})
        return needed

    def _unfilled(self, call: str, params: dict[str, Any], order: int) -> list[str]:
        """The consumed path's placeholders that nothing fills: no parameter, no bind."""
        located = self.operation(call, order=order)
        if located is None:
            return []
        _, resource, op = located
        path = str(op.get("path") or resource.get("path", "")).partition("?")[0]
        names = [(m.group(1) or m.group(2)).strip() for m in _PLACEHOLDER.finditer(path)]
        return [n for n in names if find(params, n) is None and lookup(n, [self.binds]) is None]

    def mcp_units(self, schemas: dict[str, dict[str, Any]]) -> list[tuple[str, Unit]]:
        """(adapter namespace, unit) for every tool with a single `call`; `schemas` are the
        listed input schemas, used only to name arguments where the tool declares none."""
        units = []
        for adapter in (e for e in self.exposes if e.get("type") == "mcp"):
            ns = str(adapter.get("namespace", ""))
            callers: dict[str, int] = {}  # how many tools before this one call each name
            for tool in adapter.get("tools") or []:
                name = str(tool.get("name") or "").strip()
                call, call_with = _call(tool)
                if not name or call is None or tool.get("steps") or tool.get("ref"):
                    continue
                declared = [p for p in _parameters(tool) if p.get("name")]
                if declared:
                    arguments = {str(p["name"]): sample(p["name"], p.get("type")) for p in declared}
                else:
                    properties = (schemas.get(name) or {}).get("properties") or {}
                    arguments = {k: sample(k, (v or {}).get("type")) for k, v in properties.items()}
                params = self._with(dict(arguments), tool.get("with"), ns, "tools")
                params = self._with(params, call_with, ns, "tools")
                order = callers.get(call, 0)
                callers[call] = order + 1
                for missing in self._unfilled(call, params, order):  # DEV-18 (4)
                    arguments[missing] = params[missing] = sample(missing, "string")
                expected = self.expect(call, params, order=order)
                if expected is None:  # calls what the spec does not consume
                    refused = Unit(
                        f"MCP {ns} {name}", call.partition(".")[0], Expected("", ""), tool=name
                    )
                    refused.arguments, refused.refused = arguments, call
                    units.append((ns, refused))
                    continue
                unit = Unit(
                    f"MCP {ns} {name}",
                    call.partition(".")[0],
                    expected,
                    tool=name,
                    arguments=arguments,
                    outputs=list(tool.get("outputParameters") or []),
                )
                units.append((ns, unit))
        return units

    def _with(self, params: dict[str, Any], entries: Any, ns: str, kind: str) -> dict[str, Any]:
        """§2.4 with DEV-5: `rest.x`/`tools.x`/`<ns>.x`/`$this.<ns>.x` are references."""
        if not isinstance(entries, dict):
            return params
        result = dict(params)
        prefixes = (f"{kind}.", f"{ns}.", f"$this.{ns}.")
        for key, value in entries.items():
            if isinstance(value, str):
                prefix = next((p for p in prefixes if value.startswith(p)), None)
                if prefix is not None:
                    found = find(params, value[len(prefix) :])
                    if found is not None:
                        result[str(key)] = found
                    continue
                result[str(key)] = render(value, self._scopes(params))
            else:
                result[str(key)] = value
        return result


def _parameters(*levels: dict[str, Any]) -> list[dict[str, Any]]:
    """The `inputParameters` of an adapter, a resource and an operation, in that order."""
    return [
        p for level in levels for p in level.get("inputParameters") or [] if isinstance(p, dict)
    ]


def _literals(path: str) -> set[str]:
    """A path's segments that are not placeholders, normalised (`oauth.v2.access` is
    `oauth-v2-access`)."""
    segments = path.partition("?")[0].split("/")
    return {normalise(s) for s in segments if s and "{" not in s}


def _imported(entry: dict[str, Any], folder: Path | None) -> list[dict[str, Any]]:
    """§3.10: an entry with `location` is namespace `import` of that file, renamed `as`."""
    if "location" not in entry or folder is None:
        return [entry]
    try:
        loaded = yaml.safe_load((folder / str(entry["location"])).read_text(encoding="utf-8"))
    except OSError:
        return []
    consumes = (
        (loaded or {}).get("consumes") or (loaded or {}).get("capability", {}).get("consumes") or []
    )
    for adapter in consumes:
        if isinstance(adapter, dict) and adapter.get("namespace") == entry.get("import"):
            return [{**adapter, "namespace": entry.get("as") or adapter["namespace"]}]
    return []


def _call(unit: dict[str, Any]) -> tuple[str | None, Any]:
    call = unit.get("call")
    if isinstance(call, dict):
        return (str(call.get("operation")) if call.get("operation") else None), call.get("with")
    return (str(call) if isinstance(call, str) and call.count(".") == 1 else None), None


def _structured(data: Any, scopes: list[dict[str, Any]]) -> Any:
    """Templates rendered leaf by leaf; a string that is one placeholder keeps its value's type."""
    if isinstance(data, str):
        whole = _MUSTACHE.fullmatch(data.strip())
        if whole is not None:
            value = lookup(whole.group(1), scopes)
            return "" if value is None else value
        return render(data, scopes)
    if isinstance(data, list):
        return [_structured(item, scopes) for item in data]
    if isinstance(data, dict):
        return {str(k): _structured(v, scopes) for k, v in data.items()}
    return data
