"""MCP resources (concrete, templates, static files from a `file://` folder) and prompts."""

from __future__ import annotations

import mimetypes
import re
from typing import Any
from urllib.parse import unquote

import mcp.types as types
from mcp import MCPError
from mcp.server import ServerRequestContext

from ..engine import Exchange, Service
from ..engine.prompts import local_path
from ..errors import CapabilityError
from ..model import Prompt, Resource

_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


def resource_handlers(resources: tuple[Resource, ...], service: Service) -> dict[str, Any]:
    concrete = [r for r in resources if "{" not in r.uri]
    templates = [r for r in resources if "{" in r.uri]

    async def list_resources(
        ctx: ServerRequestContext[Any], params: Any
    ) -> types.ListResourcesResult:
        listed: list[types.Resource] = []
        for r in concrete:
            if r.location:
                listed.extend(
                    types.Resource(
                        name=r.name, uri=f"{r.uri.rstrip('/')}/{rel}", mime_type=_guess(rel)
                    )
                    for rel in _static_files(r.location)
                )
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
        return types.ListResourcesResult(resources=listed)

    async def list_templates(
        ctx: ServerRequestContext[Any], params: Any
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    name=r.name,
                    uri_template=r.uri,
                    title=r.title,
                    description=r.description,
                    mime_type=r.mime_type,
                )
                for r in templates
            ]
        )

    async def read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        for resource in resources:
            found = await _read(resource, uri, service)
            if found is not None:
                return types.ReadResourceResult(contents=[found])
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown resource: {uri}")

    return {
        "on_list_resources": list_resources,
        "on_list_resource_templates": list_templates,
        "on_read_resource": read_resource,
    }


async def _read(
    resource: Resource, uri: str, service: Service
) -> types.TextResourceContents | None:
    if resource.location:
        prefix = resource.uri.rstrip("/") + "/"
        if not uri.startswith(prefix):
            return None
        return _read_static(resource, uri, uri[len(prefix) :])
    values = match_template(resource.uri, uri)
    if values is None:
        return None
    try:
        answer = await service.answer(resource, values, Exchange())
    except CapabilityError as exc:
        raise MCPError(code=types.INVALID_PARAMS, message=exc.message) from None
    return types.TextResourceContents(
        uri=uri,
        mime_type=resource.mime_type or "application/json",
        text=service.redactor.text(answer.text),
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


def _read_static(resource: Resource, uri: str, relative: str) -> types.TextResourceContents:
    parts = relative.split("/")
    if not relative or any(not _SEGMENT.match(p) or p in (".", "..") for p in parts):
        raise MCPError(code=types.INVALID_PARAMS, message=f"Invalid resource path: {uri}")
    root = local_path(resource.location or "")
    target = (root / relative).resolve()
    if root not in target.parents or not target.is_file():
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown resource: {uri}")
    text = target.read_text(encoding="utf-8", errors="replace")
    return types.TextResourceContents(uri=uri, mime_type=_guess(relative), text=text)


def _guess(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "text/plain"


def prompt_handlers(prompts: tuple[Prompt, ...], service: Service) -> dict[str, Any]:
    by_name = {p.name: p for p in prompts}

    async def list_prompts(ctx: ServerRequestContext[Any], params: Any) -> types.ListPromptsResult:
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(
                    name=p.name,
                    title=p.title,
                    description=p.description,
                    arguments=[
                        types.PromptArgument(
                            name=a.name,
                            title=a.title,
                            description=a.description,
                            required=a.required,
                        )
                        for a in p.arguments
                    ],
                )
                for p in prompts
            ]
        )

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
