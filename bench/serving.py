"""Serve an ASGI app with uvicorn exactly as generated services do: a TCP socket created with
IPPROTO_TCP and TCP_NODELAY (uvicorn.run's own socket leaves Nagle on, which costs a delayed
ACK, about 40 ms, on most keep-alive responses), access log off, warnings only."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn


def serve(app: Any, port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_keep_alive=5, server_header=False
    )
    uvicorn.Server(config).run(sockets=[sock])
