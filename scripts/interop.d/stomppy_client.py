#!/usr/bin/env python3
"""stomp.py (9.x, over WebSocket via websocket-client) against a STOMP-over-WebSocket server.

Scenario: CONNECT (host /), SUBSCRIBE /topic/x, SEND with a receipt -> RECEIPT and MESSAGE;
SUBSCRIBE /queue/y with ack=client-individual, SEND 2, ACK one, NACK the other -> the NACKed one is
redelivered (header `redelivered:true`), ACK it;
a transaction: BEGIN, 2 SENDs in it, nothing delivered before COMMIT, both after; BEGIN, SEND,
ABORT delivers nothing;
/app/chat {"kind":"say",...} -> /topic/chat with the sender's principal as nick (also when the
body claims another nick);
/app -> /user/queue: `--user-reply echo` (default): /app/echo -> /user/queue/echo reaches the
sending session only (not a client with another login, not a second session of the same login);
`--user-reply filter`: /app/filter -> /user/queue/ticks, two users get only their own symbols;
heart-beats: a connection offering 1000,1000 (opened first, silent while the rest runs) has,
after the negotiated intervals + 2 s, received and sent heart-beats, is still connected, and a
send/receive on it works;
DISCONNECT with a receipt.
Exit 0 when every step passes, 1 otherwise.
"""
import json
import argparse
import queue
import sys
import time
import threading
import uuid

import stomp

TIMEOUT = 10.0


class Listener(stomp.ConnectionListener):
    def __init__(self):
        self.messages = queue.Queue()
        self.receipts = queue.Queue()
        self.errors = []
        self.connected_headers = None
        self.heartbeats_in = 0
        self.heartbeats_out = 0
        self.disconnected = False

    def on_connected(self, frame):
        self.connected_headers = frame.headers

    def on_heartbeat(self):
        self.heartbeats_in += 1

    def on_send(self, frame):
        if frame.cmd is None:  # stomp.py sends a heart-beat as a frame without a command
            self.heartbeats_out += 1

    def on_disconnected(self):
        self.disconnected = True

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


def expect_none(lst, what, secs=0.8):
    try:
        extra = lst.messages.get(timeout=secs)
    except queue.Empty:
        return
    raise AssertionError(f"unexpected MESSAGE ({what}): {extra.headers} {extra.body!r}")


def open_conn(args, login, heartbeats=(0, 0)):
    conn = stomp.WSConnection([(args.host, args.port)], ws_path=args.path, vhost=args.vhost,
                              heartbeats=heartbeats, reconnect_attempts_max=1,
                              header=["Sec-WebSocket-Protocol: v12.stomp"])
    lst = Listener()
    conn.set_listener("interop", lst)
    conn.connect(login, args.passcode, wait=True, with_connect_command=True)
    if not conn.is_connected():
        raise AssertionError(f"{login}: not connected after CONNECT")
    return conn, lst


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/ws")
    ap.add_argument("--vhost", default="/")
    ap.add_argument("--login", default="guest")
    ap.add_argument("--passcode", default="guest")
    ap.add_argument("--user-reply", choices=["echo", "filter"], default="echo",
                    help="the /app handler that replies on /user/queue: /app/echo or /app/filter")
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

    others = []
    hb = {}

    def open_hb():
        # the heart-beat connection: opened now, silent until checked at the end
        try:
            hb["conn"], hb["lst"] = open_conn(args, f"py-hb-{tag}", heartbeats=(1000, 1000))
            hb["conn"].subscribe(f"/topic/hb-{tag}", id="hb", ack="auto", receipt="r-hb-sub")
            expect_receipt(hb["lst"], "r-hb-sub")
            hb["start"] = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - reported by the heart-beat step
            hb["error"] = exc

    hb_thread = threading.Thread(target=open_hb, daemon=True)
    try:
        hb_thread.start()
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

        txd = f"/topic/tx-{tag}"
        conn.subscribe(txd, id="tx", ack="auto", receipt="r-sub-tx")
        expect_receipt(lst, "r-sub-tx")
        tx = conn.begin(receipt="r-begin")
        expect_receipt(lst, "r-begin")
        conn.send(txd, "tx-1", transaction=tx, receipt="r-tx1")
        conn.send(txd, "tx-2", transaction=tx, receipt="r-tx2")
        expect_receipt(lst, "r-tx1")
        expect_receipt(lst, "r-tx2")
        expect_none(lst, "transactional SEND before COMMIT")
        conn.commit(tx, receipt="r-commit")
        expect_receipt(lst, "r-commit")
        bodies = [expect_message(lst, "tx", "after COMMIT").body for _ in range(2)]
        if bodies != ["tx-1", "tx-2"]:
            raise AssertionError(f"after COMMIT got {bodies}, expected ['tx-1', 'tx-2']")
        ok("transaction: nothing before COMMIT, both SENDs after")
        tx = conn.begin()
        conn.send(txd, "aborted", transaction=tx)
        conn.abort(tx, receipt="r-abort")
        expect_receipt(lst, "r-abort")
        expect_none(lst, "SEND of an aborted transaction")
        conn.send(txd, "after-abort", receipt="r-after-abort")
        expect_receipt(lst, "r-after-abort")
        if expect_message(lst, "tx", "plain SEND after ABORT").body != "after-abort":
            raise AssertionError("plain SEND after ABORT not delivered as sent")
        conn.unsubscribe("tx")
        ok("transaction: ABORT delivers nothing")

        conn.subscribe("/topic/chat", id="chat", ack="auto", receipt="r-sub-chat")
        expect_receipt(lst, "r-sub-chat")
        conn.send("/app/chat", json.dumps({"kind": "join", "nick": args.login}), receipt="r-join")
        expect_receipt(lst, "r-join")
        joined = json.loads(expect_message(lst, "chat", "join").body)
        if (joined.get("kind"), joined.get("nick")) != ("join", args.login):
            raise AssertionError(f"join reply {joined}")
        said = {"kind": "say", "nick": args.login, "text": f"hi from stomp.py {tag}"}
        conn.send("/app/chat", json.dumps(said), content_type="application/json")
        got = json.loads(expect_message(lst, "chat", "say").body)
        if got != said:
            raise AssertionError(f"/topic/chat got {got}, expected {said}")
        conn.send("/app/chat", json.dumps({"kind": "say", "nick": "someone-else", "text": "forged"}))
        got = json.loads(expect_message(lst, "chat", "forged say").body)
        if got.get("nick") != args.login:
            raise AssertionError(f"forged nick not replaced by the principal: {got}")
        conn.unsubscribe("chat")
        ok("/app/chat -> /topic/chat (nick = principal)")

        if args.user_reply == "echo":
            # b: another login; a2: a second session of our login. Neither may see our echo.
            b, lb = open_conn(args, f"py-b-{tag}")
            others.append(b)
            a2, la2 = open_conn(args, args.login)
            others.append(a2)
            for c, l, name in ((conn, lst, "a"), (b, lb, "b"), (a2, la2, "a2")):
                c.subscribe("/user/queue/echo", id="echo", ack="auto", receipt=f"r-echo-{name}")
                expect_receipt(l, f"r-echo-{name}")
            body = json.dumps({"echo": tag})
            conn.send("/app/echo", body, content_type="application/json")
            f = expect_message(lst, "echo", "echo reply")
            if f.body != body or f.headers.get("destination") != "/user/queue/echo":
                raise AssertionError(f"echo reply {f.headers} {f.body!r}")
            if f.headers.get("content-type") != "application/json":
                raise AssertionError(f"echo reply content-type {f.headers.get('content-type')!r}")
            expect_none(lb, "our echo at another login")
            expect_none(la2, "our echo at a second session of our login", 0.2)
            b.send("/app/echo", "from b")
            if expect_message(lb, "echo", "b's echo").body != "from b":
                raise AssertionError("b's echo has another body")
            expect_none(lst, "b's echo at a")
            expect_none(la2, "b's echo at a2", 0.2)
            conn.unsubscribe("echo")
            ok("/app/echo -> /user/queue/echo of the sending session only")
        else:
            b, lb = open_conn(args, f"py-b-{tag}")
            others.append(b)
            want = {"a": {"ACME", "GLOBEX", "INITECH"}, "b": {"HOOLI"}}
            for c, l, name in ((conn, lst, "a"), (b, lb, "b")):
                c.subscribe("/user/queue/ticks", id="ticks", ack="auto", receipt=f"r-ticks-{name}")
                expect_receipt(l, f"r-ticks-{name}")
                c.send("/app/filter", json.dumps({"symbols": sorted(want[name])}),
                       receipt=f"r-filter-{name}")
                expect_receipt(l, f"r-filter-{name}")
            seen = {"a": set(), "b": set()}
            deadline = time.monotonic() + 15
            while (len(seen["a"]) < 2 or not seen["b"]) and time.monotonic() < deadline:
                for l, name in ((lst, "a"), (lb, "b")):
                    try:
                        f = l.messages.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    symbol = json.loads(f.body)["symbol"]
                    if symbol not in want[name]:
                        raise AssertionError(f"{name} got a tick for {symbol}, filter {want[name]}")
                    seen[name].add(symbol)
            if len(seen["a"]) < 2 or not seen["b"]:
                raise AssertionError(f"too few ticks: {seen}")
            for c in (conn, b):
                c.send("/app/filter", json.dumps({"symbols": []}))
                c.unsubscribe("ticks")
            time.sleep(0.3)
            while not lst.messages.empty():
                lst.messages.get()
            ok(f"/app/filter -> /user/queue/ticks, each user only its symbols ({seen})")

        hb_thread.join(TIMEOUT)
        if "error" in hb or "start" not in hb:
            raise AssertionError(f"heart-beat connection: {hb.get('error', 'not ready')}")
        hconn, hl = hb["conn"], hb["lst"]
        sx, sy = (int(v) for v in (hl.connected_headers or {}).get("heart-beat", "0,0").split(","))
        if not sx or not sy:
            raise AssertionError(f"server offers no heart-beats: heart-beat:{sx},{sy}")
        from_server, to_server = max(1000, sx), max(1000, sy)
        hold = max(from_server, to_server) / 1000 + 2
        time.sleep(max(0.0, hb["start"] + hold - time.monotonic()))
        silent = time.monotonic() - hb["start"]
        if hl.disconnected or not hconn.is_connected():
            raise AssertionError(f"heart-beat connection closed while silent ({silent:.1f}s)")
        if hl.heartbeats_in == 0 or hl.heartbeats_out == 0:
            raise AssertionError(f"after {silent:.1f}s silent: {hl.heartbeats_in} heart-beats in, "
                                 f"{hl.heartbeats_out} out")
        hconn.send(f"/topic/hb-{tag}", "still here", receipt="r-hb")
        expect_receipt(hl, "r-hb")
        if expect_message(hl, "hb", "after the silence").body != "still here":
            raise AssertionError("send/receive after the silence: wrong body")
        if hl.errors:
            raise AssertionError(f"heart-beat connection: {len(hl.errors)} ERROR frame(s)")
        hconn.disconnect(receipt="r-hb-bye")
        ok(f"heart-beats held (negotiated {from_server}/{to_server} ms; silent {silent:.1f}s: "
           f"{hl.heartbeats_in} in, {hl.heartbeats_out} out; send/receive after)")

        if lst.errors:
            raise AssertionError(f"{len(lst.errors)} ERROR frame(s)")
        conn.disconnect(receipt="r-bye")
        ok("disconnect")
    except Exception as exc:  # noqa: BLE001 - report any failure as a failed step
        print(f"  FAIL after {len(steps)} step(s): {type(exc).__name__}: {exc}", file=sys.stderr)
        for c in [conn, *others, hb.get("conn")]:
            try:
                if c is not None and c.is_connected():
                    c.disconnect()
            except Exception:  # noqa: BLE001
                pass
        return 1
    for c in others:
        c.disconnect()
    print(f"stomppy_client: all {len(steps)} steps OK "
          f"(stomp.py {getattr(stomp, '__version__', '?')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
