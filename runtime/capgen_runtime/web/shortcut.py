"""The innermost middleware of an app: a request for one of its own endpoints (an operation,
the MCP endpoint) goes straight to that endpoint's ASGI app, past the framework's inner
layers (its HTTP-exception middleware, FastAPI's exit stack, the router), which do nothing
for those endpoints: they answer every outcome themselves, raise no HTTP exception and use
no dependency with an exit. Every middleware of the app, a user's included (Starlette adds
each one outside those already there), still sees the request; anything `pick` does not
claim takes the framework's way, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

Pick = Callable[[Scope], ASGIApp | None]


class Shortcut:
    def __init__(self, app: ASGIApp, pick: Pick) -> None:
        self.app, self.pick = app, pick

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = (
            self.pick(scope) if scope["type"] == "http" and not scope.get("root_path") else None
        )
        await (self.app if target is None else target)(scope, receive, send)


def install_shortcut(app: Starlette, pick: Pick) -> None:
    """`pick` (the endpoint's app for a request it claims, else None) as the app's innermost
    middleware."""
    app.user_middleware.append(Middleware(Shortcut, pick=pick))
