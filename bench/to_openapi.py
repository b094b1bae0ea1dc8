"""A capability spec's consumed API as an OpenAPI 3.0 document, for the generator peers.

Read from the YAML directly (not through capgen): every consumed operation becomes a path
operation with its path, query and header parameters and a JSON body where it sends one, so
`openapi-python-client` and `openapi-mcp-generator` get the same work capgen gets.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

_TYPES = {
    "integer": "integer",
    "int": "integer",
    "number": "number",
    "boolean": "boolean",
    "bool": "boolean",
}
_PLACEHOLDER = re.compile(r"\{([^}/]+)\}")


def openapi(spec: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    consumes = (spec.get("capability") or {}).get("consumes") or []
    for consumed in consumes:
        for resource in consumed.get("resources") or []:
            path = "/" + str(resource.get("path", "")).split("?")[0].split("#")[0].lstrip("/")
            for operation in resource.get("operations") or []:
                method = str(operation.get("method", "GET")).lower()
                entry = paths.setdefault(path, {})
                if method in entry:
                    continue
                entry[method] = _operation(path, resource, operation, seen)
    info = spec.get("info") or {}
    title = info.get("label") or info.get("title") or "capability"
    return {
        "openapi": "3.0.3",
        "info": {"title": str(title), "version": "1.0.0"},
        "servers": (
            [{"url": str(consumes[0].get("baseUri", "http://localhost"))}] if consumes else []
        ),
        "paths": paths,
    }


def _operation(
    path: str, resource: dict[str, Any], operation: dict[str, Any], seen: set[str]
) -> dict[str, Any]:
    declared = [*(resource.get("inputParameters") or []), *(operation.get("inputParameters") or [])]
    parameters: dict[tuple[str, str], dict[str, Any]] = {}
    body = False
    for parameter in declared:
        where, name = parameter.get("in"), str(parameter.get("name") or "")
        if where == "body":
            body = True
        elif where in ("path", "query", "header") and name and "value" not in parameter:
            parameters[(where, name)] = {
                "name": name,
                "in": where,
                "required": where == "path" or bool(parameter.get("required")),
                "schema": {"type": _TYPES.get(str(parameter.get("type")), "string")},
            }
    for name in _PLACEHOLDER.findall(path):
        parameters.setdefault(
            ("path", name),
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}},
        )
    base = re.sub(r"\W+", "_", str(operation.get("name") or f"{operation.get('method')}_{path}"))
    operation_id, n = base, 1
    while operation_id in seen:
        n += 1
        operation_id = f"{base}_{n}"
    seen.add(operation_id)
    result: dict[str, Any] = {
        "operationId": operation_id,
        "summary": str(operation.get("label") or operation.get("description") or operation_id)[
            :200
        ],
        "parameters": list(parameters.values()),
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    }
    if body or str(operation.get("method", "")).upper() in ("POST", "PUT", "PATCH"):
        result["requestBody"] = {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "required": False,
        }
    return result


if __name__ == "__main__":
    document = openapi(yaml.safe_load(Path(sys.argv[1]).read_text(encoding="utf-8")))
    Path(sys.argv[2]).write_text(json.dumps(document, indent=1), encoding="utf-8")
