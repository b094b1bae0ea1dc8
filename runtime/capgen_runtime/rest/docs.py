"""The API documentation of a REST adapter: Swagger UI at /docs and ReDoc at /redoc, with their
scripts served by the service itself (no CDN: they work offline, behind a firewall and under a
strict Content-Security-Policy), and the OpenAPI document at /openapi.json.

They reveal no secret, so they are open without credentials unless `<PREFIX>_DOCS=false`
turns them off. Swagger UI's "Authorize" offers the adapter's real security schemes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..schemas import PATH_SEGMENT, PATH_TAIL

OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"
REDIRECT_PATH = "/docs/oauth2-redirect"
REDOC_PATH = "/redoc"
ASSETS = "/docs/assets"  # Swagger UI 5 and ReDoc, from the fastapi-offline distribution
DOCS_PATHS = frozenset({DOCS_PATH, REDIRECT_PATH, REDOC_PATH, OPENAPI_PATH})
READER_VIEW = "docs"  # /openapi.json?view=docs: what the pages show
_RULES = frozenset({PATH_SEGMENT, PATH_TAIL})


def for_readers(document: dict[str, Any]) -> dict[str, Any]:
    """The document the pages show: the same, without the path rules' regular expressions
    (each path parameter's description says its rule in words); /openapi.json keeps them."""
    shown = copy.deepcopy(document)
    for item in shown.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", ()) if isinstance(operation, dict) else ():
                value = parameter.get("schema", {})
                rules = [r for r in value.get("allOf", ()) if r.get("pattern") not in _RULES]
                if "allOf" in value and not rules:
                    del value["allOf"]
                elif "allOf" in value:
                    value["allOf"] = rules
    return shown


def install_docs(app: FastAPI, title: str, document: Callable[[], dict[str, Any]]) -> None:
    """The documentation routes, ahead of the operations (which may catch every path).
    `document` gives the OpenAPI document (built once, when first asked for)."""
    assets = str(files("fastapi_offline") / "static")

    readers: list[dict[str, Any]] = []

    async def openapi(request: Request) -> Response:
        if request.query_params.get("view") != READER_VIEW:
            return JSONResponse(document())
        if not readers:
            readers.append(for_readers(document()))
        return JSONResponse(readers[0])

    async def swagger(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{OPENAPI_PATH}?view={READER_VIEW}",
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=root + REDIRECT_PATH,
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    async def redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{OPENAPI_PATH}?view={READER_VIEW}",
            title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    routes = [
        Route(OPENAPI_PATH, openapi, methods=["GET"], include_in_schema=False),
        Route(DOCS_PATH, swagger, methods=["GET"], include_in_schema=False),
        Route(REDIRECT_PATH, redirect, methods=["GET"], include_in_schema=False),
        Route(REDOC_PATH, redoc, methods=["GET"], include_in_schema=False),
        Mount(ASSETS, app=StaticFiles(directory=assets), name="docs-assets"),
    ]
    app.router.routes[0:0] = routes
