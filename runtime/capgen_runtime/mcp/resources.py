"""MCP resources (concrete, templates, static files from a `file://` folder) and prompts."""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

import mcp.types as types
from mcp import MCPError
from mcp.server import CacheHint, ServerRequestContext

from ..engine import Exchange, Service
from ..engine.prompts import local_path
from ..errors import CapabilityError
from ..formats import media_type
from ..model import McpAdapter, Prompt, Resource
from .binary import BinaryRule, binary_rule, is_text
from .caching import hinted

_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


def resource_handlers(adapter: McpAdapter, service: Service, hint: CacheHint) -> dict[str, Any]:
    """`resources/list`, `resources/templates/list` and `resources/read` of an adapter that
    declares resources."""
    resources = adapter.resources
    templates = [r for r in resources if "{" in r.uri]
    rules = {r.name: binary_rule(r.endpoint, adapter, forced=r.binary) for r in resources}
    static = binary_rule(None, adapter)  # static files: the adapter's limit
    cached = hinted(hint)

    async def list_resources(
        ctx: ServerRequestContext[Any], params: Any
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=_listed(r for r in resources if "{" not in r.uri), **cached
        )

    async def list_templates(
        ctx: ServerRequestContext[Any], params: Any
    ) -> types.ListResourceTemplatesResult:
        listed = [
            types.ResourceTemplate(
                name=r.name,
                uri_template=r.uri,
                title=r.title,
                description=r.description,
                mime_type=r.mime_type,
            )
            for r in templates
        ]
        return types.ListResourceTemplatesResult(resource_templates=listed, **cached)

    async def read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        for resource in resources:
            rule = static if resource.location else rules[resource.name]
            found = await _read(resource, uri, service, rule)
            if found is not None:
                return types.ReadResourceResult(contents=[found], **cached)
        raise MCPError(types.INVALID_PARAMS, f"Unknown resource: {uri}", {"uri": uri})

    return {
        "on_list_resources": list_resources,
        "on_list_resource_templates": list_templates,
        "on_read_resource": read_resource,
    }


def _listed(concrete: Iterable[Resource]) -> list[types.Resource]:
    """Concrete resources, and every file of a static (`location`) one."""
    listed: list[types.Resource] = []
    for r in concrete:
        if r.location:
            base = r.uri.rstrip("/")
            files = _static_files(r.location)
            listed += [
                types.Resource(name=r.name, uri=f"{base}/{f}", mime_type=_guess(f)) for f in files
            ]
        else:
            listed.append(
                types.Resource(
                    name=r.name,
                    uri=r.uri,
                    title=r.title or r.name,
                    description=r.description,
                    mime_type=r.mime_type,
                )
            )
    return listed


Contents = types.TextResourceContents | types.BlobResourceContents


async def _read(
    resource: Resource, uri: str, service: Service, rule: BinaryRule
) -> Contents | None:
    if resource.location:
        prefix = resource.uri.rstrip("/") + "/"
        if not uri.startswith(prefix):
            return None
        return _read_static(resource, uri, uri[len(prefix) :], rule)
    values = match_template(resource.uri, uri)
    if values is None:
        return None
    try:
        answer = await service.answer(resource, values, Exchange())
    except CapabilityError as exc:
        raise MCPError(
            types.INVALID_PARAMS, service.redactor.text(exc.message), {"uri": uri}
        ) from None
    if rule.is_binary(answer):
        mime = resource.mime_type or rule.advertised(answer)
        return _blob(uri, mime, service.redactor.binary(answer.content), rule)
    mime = resource.mime_type or rule.media_type or "application/json"
    return types.TextResourceContents(
        uri=uri, mime_type=mime, text=service.redactor.text(answer.text)
    )


def _blob(uri: str, mime: str, data: bytes, rule: BinaryRule) -> types.BlobResourceContents:
    """Bytes as a base64 blob; more than the limit is an error, never a cut blob."""
    refused = rule.refusal(len(data))
    if refused is not None:
        raise MCPError(types.INTERNAL_ERROR, refused, {"uri": uri})
    blob = base64.b64encode(data).decode()
    return types.BlobResourceContents(
        uri=uri, mime_type=mime or "application/octet-stream", blob=blob
    )


def match_template(template: str, uri: str) -> dict[str, str] | None:
    """`data://users/{userId}/profile` against a URI; a variable never spans `/`."""
    if "{" not in template:
        return {} if template == uri else None
    pattern = "".join(
        f"(?P<v{i}>[^/]+)" if part.startswith("{") else re.escape(part)
        for i, part in enumerate(re.split(r"(\{[^{}]+\})", template))
    )
    match = re.fullmatch(pattern, uri)
    if match is None:
        return None
    names = [part[1:-1] for part in re.split(r"(\{[^{}]+\})", template) if part.startswith("{")]
    values = [v for k, v in sorted(match.groupdict().items(), key=lambda kv: int(kv[0][1:]))]
    return dict(zip(names, (unquote(v) for v in values), strict=True))


def _static_files(location: str) -> list[str]:
    root = local_path(location)
    if not root.is_dir():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _read_static(resource: Resource, uri: str, relative: str, rule: BinaryRule) -> Contents:
    parts = relative.split("/")
    if not relative or any(not _SEGMENT.match(p) or p in (".", "..") for p in parts):
        raise MCPError(types.INVALID_PARAMS, f"Invalid resource path: {uri}", {"uri": uri})
    root = local_path(resource.location or "")
    target = (root / relative).resolve()
    if root not in target.parents or not target.is_file():
        raise MCPError(types.INVALID_PARAMS, f"Unknown resource: {uri}", {"uri": uri})
    mime, data = _guess(relative), target.read_bytes()
    if is_text(media_type(mime)):  # text as text, anything else (an image, a PDF) as a blob
        return types.TextResourceContents(
            uri=uri, mime_type=mime, text=data.decode("utf-8", "replace")
        )
    return _blob(uri, mime, data, rule)


def _guess(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "text/plain"


def prompt_handlers(
    prompts: tuple[Prompt, ...], service: Service, hint: CacheHint
) -> dict[str, Any]:
    by_name = {p.name: p for p in prompts}
    cached = hinted(hint)

    listed = [_listed_prompt(p) for p in prompts]

    async def list_prompts(ctx: ServerRequestContext[Any], params: Any) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=listed, **cached)

    async def get_prompt(
        ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        prompt = by_name.get(params.name)
        if prompt is None:
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown prompt: {params.name}")
        arguments = {k: str(v) for k, v in (params.arguments or {}).items()}
        missing = [a.name for a in prompt.arguments if a.required and not arguments.get(a.name)]
        if missing:
            raise MCPError(
                code=types.INVALID_PARAMS,
                message=f"Missing required argument(s) of prompt {prompt.name}: {', '.join(missing)}",
            )
        messages = await service.messages(prompt, arguments)
        return types.GetPromptResult(
            description=prompt.description,
            messages=[
                types.PromptMessage(
                    role=role,
                    content=types.TextContent(type="text", text=text),
                )
                for role, text in messages
            ],
        )

    return {"on_list_prompts": list_prompts, "on_get_prompt": get_prompt}


def _listed_prompt(prompt: Prompt) -> types.Prompt:
    return types.Prompt(
        name=prompt.name,
        title=prompt.title,
        description=prompt.description,
        arguments=[
            types.PromptArgument(
                name=a.name, title=a.title, description=a.description, required=a.required
            )
            for a in prompt.arguments
        ],
    )


def completion_handler(adapter: McpAdapter) -> dict[str, Any]:
    """`completion/complete` for the arguments of prompts and the variables of resource
    templates: a spec lists no candidate values, so the answer is an empty list; an unknown
    prompt, template or argument is -32602."""
    arguments = {("ref/prompt", p.name): {a.name for a in p.arguments} for p in adapter.prompts}
    for resource in adapter.resources:
        variables = set(re.findall(r"\{([^{}]+)\}", resource.uri))
        if variables:
            arguments[("ref/resource", resource.uri)] = variables
    if not any(arguments.values()):
        return {}

    async def complete(
        ctx: ServerRequestContext[Any], params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        ref = params.ref
        key = (ref.type, ref.name if isinstance(ref, types.PromptReference) else ref.uri)
        if params.argument.name not in arguments.get(key, ()):
            raise MCPError(
                types.INVALID_PARAMS, f"Nothing to complete for {params.argument.name!r}"
            )
        return types.CompleteResult(completion=types.Completion(values=[], total=0, has_more=False))

    return {"on_completion": complete}
