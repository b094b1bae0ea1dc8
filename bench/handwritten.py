"""A minimal hand-written FastAPI + httpx passthrough of the seed operation: the baseline a
generated REST adapter is compared with. Same route, same upstream call, same server settings.

`UPSTREAM=http://127.0.0.1:PORT python bench/handwritten.py PORT`
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request, Response
from serving import serve

BASE = os.environ["UPSTREAM"] + "/client/v4"
TOKEN = os.environ.get("CLOUDFLARE_API_KEY", "bench")
client: httpx.AsyncClient


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    global client
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, connect=5), limits=limits) as client:
        yield


app = FastAPI(lifespan=lifespan)


@app.post("/v1/accounts/{account_id}/ai/run/{model:path}")
async def run_model(account_id: str, model: str, request: Request) -> Response:
    upstream = await client.post(
        f"{BASE}/accounts/{account_id}/ai/run/{model}",
        content=await request.body(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    return Response(
        upstream.content, upstream.status_code, media_type=upstream.headers.get("content-type")
    )


if __name__ == "__main__":
    serve(app, int(sys.argv[1]))
