"""The MCP peer: FastMCP's `from_openapi` serving an OpenAPI document equivalent to the seed
operation, over streamable HTTP at /mcp, against the same upstream.

`UPSTREAM=http://127.0.0.1:PORT python bench/fastmcp_peer.py PORT`
"""

from __future__ import annotations

import os
import sys

import httpx2
from fastmcp import FastMCP
from serving import serve

OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "Cloudflare Workers AI API — AI Inference", "version": "1.0.0"},
    "servers": [{"url": os.environ.get("UPSTREAM", "http://127.0.0.1:8787") + "/client/v4"}],
    "paths": {
        "/accounts/{account_id}/ai/run/{model}": {
            "post": {
                "operationId": "cloudflare-execute-ai-model",
                "summary": "Cloudflare Execute Ai Model",
                "parameters": [
                    {
                        "name": "account_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {"name": "model", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        }
    },
}

if __name__ == "__main__":
    client = httpx2.AsyncClient(
        base_url=OPENAPI["servers"][0]["url"],
        headers={"Authorization": f"Bearer {os.environ.get('CLOUDFLARE_API_KEY', 'bench')}"},
        timeout=30,
    )
    server = FastMCP.from_openapi(openapi_spec=OPENAPI, client=client, name="workers-ai")
    serve(server.http_app(path="/mcp"), int(sys.argv[1]))
