#!/usr/bin/env python3
"""Round trip from a Python `websockets` client to one of our echo servers.

Usage: py_client.py --url ws://127.0.0.1:9004
       py_client.py --url wss://127.0.0.1:9009 --cafile cert.pem

Sends text (including non-ASCII), empty and fragmented messages, binary (small and 1 MiB), a ping,
then closes with 1000; checks every echo is byte-exact and of the same type, the pong matches the
ping, and the server answers the close with 1000. A second connection offers permessage-deflate
(the server may accept or decline it) and repeats a short exchange. Exit 0 when every check passed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys

from websockets.asyncio.client import connect

TIMEOUT = 15.0
results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    results.append((name, ok, detail))
    print(f"  {'PASS' if ok else 'FAIL'}  {name}{(': ' + detail) if detail else ''}", flush=True)


def describe(msg) -> str:
    if isinstance(msg, str):
        return f"text({len(msg.encode())} bytes) {msg[:40]!r}"
    return f"binary({len(msg)} bytes) {bytes(msg[:16]).hex()}"


async def echo(ws, name: str, payload) -> None:
    """Send one message (or a list of fragments) and expect the exact echo."""
    if isinstance(payload, list):
        expected = "".join(payload) if isinstance(payload[0], str) else b"".join(payload)
        await asyncio.wait_for(ws.send(iter(payload)), TIMEOUT)
    else:
        expected = payload
        await asyncio.wait_for(ws.send(payload), TIMEOUT)
    try:
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
    except Exception as e:  # noqa: BLE001
        check(name, False, f"no echo: {e!r}")
        raise
    same_type = isinstance(got, str) == isinstance(expected, str)
    check(name, same_type and got == expected,
          "" if same_type and got == expected else f"sent {describe(expected)}, got {describe(got)}")


async def session(url: str, compression: str | None, full: bool,
                  ssl_context: ssl.SSLContext | None) -> None:
    label = "deflate offered" if compression else "no extensions"
    print(f"connection ({label}) to {url}", flush=True)
    extra = {"ssl": ssl_context} if ssl_context is not None else {}
    async with connect(url, compression=compression, proxy=None, max_size=64 * 2**20, **extra,
                       ping_interval=None, open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions")
        print(f"  negotiated extensions: {ext!r}", flush=True)
        if compression is None:
            check(f"[{label}] server accepted no unrequested extension", ext is None, repr(ext))
        await echo(ws, f"[{label}] text with non-ASCII", "hello ✓ — ünïcödé 日本語 🎉")
        await echo(ws, f"[{label}] binary 1 KiB", bytes(range(256)) * 4)
        if full:
            await echo(ws, f"[{label}] empty text", "")
            await echo(ws, f"[{label}] empty binary", b"")
            await echo(ws, f"[{label}] fragmented text (3 frames)",
                       ["frag", "mented ✓", " done"])
            await echo(ws, f"[{label}] binary 1 MiB", os.urandom(2**20))
            pong = await ws.ping(b"duplex-ping")
            try:
                await asyncio.wait_for(pong, TIMEOUT)
                check(f"[{label}] ping answered by pong", True)
            except Exception as e:  # noqa: BLE001
                check(f"[{label}] ping answered by pong", False, repr(e))
            await echo(ws, f"[{label}] text after ping", "still here")
        await ws.close(1000, "bye")
        check(f"[{label}] server answered close with 1000", ws.close_code == 1000,
              f"close_code={ws.close_code} reason={ws.close_reason!r}")


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="ws://127.0.0.1:9004")
    ap.add_argument("--cafile", help="PEM certificate to trust for wss:// (self-signed)")
    args = ap.parse_args()
    ssl_context = None
    if args.cafile:
        ssl_context = ssl.create_default_context(cafile=args.cafile)
    for compression, full in ((None, True), ("deflate", False)):
        try:
            await session(args.url, compression, full, ssl_context)
        except Exception as e:  # noqa: BLE001
            check(f"session ({compression or 'no extensions'}) completed", False, repr(e))
    failed = [r for r in results if not r[1]]
    print(f"python client round trip: {len(results) - len(failed)} passed, {len(failed)} failed",
          flush=True)
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
