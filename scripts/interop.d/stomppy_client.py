#!/usr/bin/env python3
"""stomp.py (9.x, over WebSocket via websocket-client) against a STOMP-over-WebSocket server.

Scenario: CONNECT (host /), SUBSCRIBE /topic/x, SEND with a receipt -> RECEIPT and MESSAGE;
SUBSCRIBE /queue/y with ack=client-individual, SEND 2, ACK one, NACK the other -> the NACKed one is
redelivered (header `redelivered:true`), ACK it; DISCONNECT with a receipt.
Exit 0 when every step passes, 1 otherwise.
"""
import argparse
import queue
import sys
import time
import uuid

import stomp

TIMEOUT = 10.0


class Listener(stomp.ConnectionListener):
    def __init__(self):
        self.messages = queue.Queue()
        self.receipts = queue.Queue()
        self.errors = []

    def on_message(self, frame):
        self.messages.put(frame)

    def on_receipt(self, frame):
        self.receipts.put(frame.headers.get("receipt-id"))

    def on_error(self, frame):
        self.errors.append(frame)
        print(f"  ERROR frame: {frame.headers} {frame.body!r}", file=sys.stderr)


def expect_receipt(lst, rid):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            got = lst.receipts.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if got == rid:
            return
    raise AssertionError(f"no RECEIPT {rid} within {TIMEOUT}s")


def expect_message(lst, sub_id, what):
    try:
        frame = lst.messages.get(timeout=TIMEOUT)
    except queue.Empty:
        raise AssertionError(f"no MESSAGE ({what}) within {TIMEOUT}s") from None
    if frame.headers.get("subscription") != sub_id:
        raise AssertionError(f"MESSAGE for subscription {frame.headers.get('subscription')!r}, "
                             f"expected {sub_id!r}: {frame.headers}")
    return frame


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/ws")
    ap.add_argument("--vhost", default="/")
    ap.add_argument("--login", default="guest")
    ap.add_argument("--passcode", default="guest")
    args = ap.parse_args()

    tag = uuid.uuid4().hex[:8]
    conn = stomp.WSConnection([(args.host, args.port)], ws_path=args.path, vhost=args.vhost,
                              heartbeats=(0, 0), reconnect_attempts_max=1,
                              header=["Sec-WebSocket-Protocol: v12.stomp"])
    lst = Listener()
    conn.set_listener("interop", lst)
    steps = []

    def ok(name):
        steps.append(name)
        print(f"  ok: {name}")

    try:
        conn.connect(args.login, args.passcode, wait=True, with_connect_command=True)
        if not conn.is_connected():
            raise AssertionError("not connected after CONNECT")
        ok("connect")

        topic = f"/topic/x-{tag}"
        conn.subscribe(topic, id="t1", ack="auto")
        # a receipt on SUBSCRIBE is not sent by stomp.py's subscribe() unless asked; make sure the
        # subscription is in place before sending by sending it with one
        conn.send(topic, "hello topic", receipt="r-topic")
        expect_receipt(lst, "r-topic")
        ok("send with receipt")
        frame = expect_message(lst, "t1", "topic")
        if frame.body != "hello topic":
            raise AssertionError(f"topic body {frame.body!r}")
        ok("topic subscribe/receive")

        q = f"/queue/y-{tag}"
        conn.subscribe(q, id="q1", ack="client-individual", receipt="r-sub-q")
        expect_receipt(lst, "r-sub-q")
        conn.send(q, "one", receipt="r-q1")
        conn.send(q, "two", receipt="r-q2")
        expect_receipt(lst, "r-q1")
        expect_receipt(lst, "r-q2")
        got = {}
        for _ in range(2):
            f = expect_message(lst, "q1", "queue")
            got[f.body] = f
        if set(got) != {"one", "two"}:
            raise AssertionError(f"queue bodies {sorted(got)}")
        ack_id = got["one"].headers.get("ack")
        nack_id = got["two"].headers.get("ack")
        if not ack_id or not nack_id:
            raise AssertionError(f"MESSAGE without ack header: {got['one'].headers}")
        conn.ack(ack_id, receipt="r-ack")
        expect_receipt(lst, "r-ack")
        conn.nack(nack_id, receipt="r-nack")
        expect_receipt(lst, "r-nack")
        f = expect_message(lst, "q1", "redelivery after NACK")
        if f.body != "two":
            raise AssertionError(f"redelivered body {f.body!r}, expected 'two'")
        if f.headers.get("redelivered") != "true":
            raise AssertionError(f"redelivered message without redelivered:true: {f.headers}")
        conn.ack(f.headers["ack"], receipt="r-ack2")
        expect_receipt(lst, "r-ack2")
        try:
            extra = lst.messages.get(timeout=0.5)
            raise AssertionError(f"unexpected extra MESSAGE: {extra.headers} {extra.body!r}")
        except queue.Empty:
            pass
        ok("client-individual ACK, NACK -> redelivery (redelivered:true)")

        if lst.errors:
            raise AssertionError(f"{len(lst.errors)} ERROR frame(s)")
        conn.disconnect(receipt="r-bye")
        ok("disconnect")
    except Exception as exc:  # noqa: BLE001 - report any failure as a failed step
        print(f"  FAIL after {len(steps)} step(s): {type(exc).__name__}: {exc}", file=sys.stderr)
        try:
            conn.disconnect()
        except Exception:  # noqa: BLE001
            pass
        return 1
    print(f"stomppy_client: all {len(steps)} steps OK "
          f"(stomp.py {getattr(stomp, '__version__', '?')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
