"""The floor: the seed operation proxied by a raw ASGI app (no framework, no checks), with one
of four HTTP clients, served exactly as the generated service is (uvicorn, uvloop, httptools).

`UPSTREAM=http://127.0.0.1:PORT python bench/floor.py aiohttp|httpx-aiohttp|httpx2|httpx PORT`
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from serving import serve

BASE = os.environ["UPSTREAM"] + "/client/v4"
TOKEN = os.environ.get("CLOUDFLARE_API_KEY", "bench")
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
Post = Callable[[str, bytes], Awaitable[tuple[int, str, bytes]]]


async def _client(kind: str) -> tuple[Post, Callable[[], Awaitable[None]]]:
    if kind == "aiohttp":
        import aiohttp

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))

        async def post(url: str, body: bytes) -> tuple[int, str, bytes]:
            async with session.post(url, data=body, headers=HEADERS) as response:
                return response.status, response.content_type, await response.read()

        return post, session.close
    if kind == "httpx-aiohttp":
        import httpx
        from httpx_aiohttp import AiohttpTransport

        client: Any = httpx.AsyncClient(transport=AiohttpTransport(), timeout=30)
    elif kind == "httpx2":
        import httpx2

        client = httpx2.AsyncClient(timeout=30)
    else:
        import httpx

        client = httpx.AsyncClient(timeout=30)

    async def send(url: str, body: bytes) -> tuple[int, str, bytes]:
        response = await client.post(url, content=body, headers=HEADERS)
        return response.status_code, response.headers.get("content-type", ""), response.content

    return send, client.aclose


def app_for(kind: str) -> Callable[..., Awaitable[None]]:
    state: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    state["post"], state["close"] = await _client(kind)
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await state["close"]()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status, media, content = await state["post"](BASE + scope["path"][3:], body)
        headers = [
            (b"content-type", media.encode()),
            (b"content-length", str(len(content)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return app


if __name__ == "__main__":
    serve(app_for(sys.argv[1]), int(sys.argv[2]))
