#!/usr/bin/env python3
"""Echo server built on the Python `websockets` library, for our clients to talk to.

Usage: py_echo_server.py --listen 127.0.0.1:9003

Echoes every text and binary message back unchanged (same type), logs what it sees, and accepts
permessage-deflate if the client offers it. Runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from websockets.asyncio.server import serve


async def echo(ws) -> None:
    peer = ws.remote_address
    ext = ws.response.headers.get("Sec-WebSocket-Extensions") if ws.response else None
    print(f"connection from {peer} path={ws.request.path!r} extensions={ext!r}", flush=True)
    try:
        async for message in ws:
            kind = "text" if isinstance(message, str) else "binary"
            size = len(message.encode() if isinstance(message, str) else message)
            print(f"  {kind} message, {size} bytes", flush=True)
            await ws.send(message)
    except Exception as e:  # noqa: BLE001 - log and drop the connection
        print(f"  connection error: {e!r}", flush=True)
    print(f"closed {peer}: code={ws.close_code} reason={ws.close_reason!r}", flush=True)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:9003")
    args = ap.parse_args()
    host, port = args.listen.rsplit(":", 1)
    async with serve(echo, host, int(port), max_size=64 * 2**20, ping_interval=None) as server:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.close)
        print(f"listening on ws://{host}:{port}", flush=True)
        await server.wait_closed()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(main())
