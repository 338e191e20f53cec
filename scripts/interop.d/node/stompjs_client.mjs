// @stomp/stompjs (over the `ws` package) against the duplex server's /ws endpoint.
//
//   node stompjs_client.mjs --url ws://127.0.0.1:PORT/ws [--user-reply echo|filter]
//
// Checks (one PASS/FAIL line each; exit 0 only when all pass):
//   connect            CONNECTED over a STOMP subprotocol, STOMP 1.2
//   topic              SUBSCRIBE /topic/..., SEND, MESSAGE with the same body
//   receipt            SEND with `receipt` -> RECEIPT with that receipt-id
//   queue-ack-nack     /queue/... with ack client-individual: ACK one, NACK the other -> the
//                      NACKed one comes again (redelivered:true), ACK it, nothing more
//   tx-commit          BEGIN, 2 SENDs in it: nothing delivered before COMMIT, both after
//   tx-abort           BEGIN, SEND, ABORT: nothing delivered
//   app-topic          /app/chat {"kind":"say",...} -> /topic/chat with the sender's principal
//                      as nick (a forged nick is replaced)
//   app-user-queue     echo:   /app/echo -> /user/queue/echo of the sending session only, same
//                              body and content-type; neither a client with another login nor a
//                              second session of the same login gets it
//                      filter: /app/filter -> /user/queue/ticks: each of two clients gets ticks
//                              of its own symbols only
//   heart-beats        a connection that offered 1000,1000 stays silent for the negotiated
//                      intervals + 2 s (it runs while the other checks do): heart-beats arrived
//                      from the server, ours went out, it is still open and a send/receive works
//   no-error-frames    no ERROR frame on any connection, none closed early
//   disconnect         DISCONNECT (receipt) and the WebSocket close of every client within 5 s
import { Client } from "@stomp/stompjs";
import WebSocket from "ws";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const URL_ = args.url;
const USER_REPLY = args["user-reply"] || "echo";
const TIMEOUT = 10_000;
const QUIET = 800; // how long "nothing arrives" is watched
if (!URL_) {
  console.error("usage: node stompjs_client.mjs --url ws://HOST:PORT/ws [--user-reply echo|filter]");
  process.exit(2);
}
const tag = Math.random().toString(36).slice(2, 10);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

// A queue of MESSAGEs (one per subscription) that a check can wait on.
class Inbox {
  constructor() { this.items = []; this.waiters = []; }
  push(m) {
    this.items.push(m);
    for (const w of this.waiters.splice(0)) w();
  }
  async next(what, ms = TIMEOUT) {
    const deadline = Date.now() + ms;
    while (this.items.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no MESSAGE (${what}) within ${ms} ms`);
      await withTimeout(new Promise((r) => this.waiters.push(r)), left, `MESSAGE (${what})`).catch(() => {});
    }
    return this.items.shift();
  }
  async none(what, ms = QUIET) {
    await sleep(ms);
    if (this.items.length) {
      const m = this.items[0];
      throw new Error(`unexpected MESSAGE (${what}): ${JSON.stringify(m.headers)} ${JSON.stringify(m.body)}`);
    }
  }
}

// One STOMP connection: the stompjs Client plus what the checks observe.
class Peer {
  constructor(name, login, heartbeat = 0) {
    this.name = name;
    this.login = login;
    this.errors = [];
    this.closed = null;
    this.pongs = [];
    this.pings = [];
    this.protocol = null;
    this.client = new Client({
      webSocketFactory: () => {
        const ws = new WebSocket(URL_, ["v12.stomp", "v11.stomp", "v10.stomp"]);
        ws.on("open", () => { this.protocol = ws.protocol; });
        return ws;
      },
      connectHeaders: { login, passcode: "x", host: "/" },
      reconnectDelay: 0,
      heartbeatIncoming: heartbeat,
      heartbeatOutgoing: heartbeat,
      debug: (s) => {
        if (s === "<<< PONG") this.pongs.push(Date.now());
        if (s === ">>> PING") this.pings.push(Date.now());
        if (process.env.STOMPJS_DEBUG) console.error(`[${name}] ${s}`);
      },
    });
    this.client.onStompError = (f) => {
      this.errors.push(`${f.headers.message || ""} ${f.body || ""}`.trim());
      console.error(`  [${name}] ERROR frame: ${JSON.stringify(f.headers)} ${JSON.stringify(f.body)}`);
    };
    this.client.onWebSocketClose = (e) => { this.closed = `code ${e.code}`; };
  }
  connect() {
    return withTimeout(new Promise((resolve) => {
      this.client.onConnect = (frame) => { this.connected = frame; resolve(frame); };
      this.client.activate();
    }), TIMEOUT, `CONNECTED (${this.name})`);
  }
  receipt(id) {
    return withTimeout(new Promise((r) => this.client.watchForReceipt(id, r)), TIMEOUT, `RECEIPT ${id} (${this.name})`);
  }
  // SUBSCRIBE with a receipt, so the subscription is in place when this resolves.
  async subscribe(destination, headers = {}) {
    const inbox = new Inbox();
    const rid = `sub-${destination}-${Math.random().toString(36).slice(2, 8)}`;
    const got = this.receipt(rid);
    inbox.sub = this.client.subscribe(destination, (m) => inbox.push(m), { ...headers, receipt: rid });
    await got;
    return inbox;
  }
  async send(destination, body, headers = {}) {
    const rid = `send-${Math.random().toString(36).slice(2, 10)}`;
    const got = this.receipt(rid);
    this.client.publish({ destination, body, headers: { ...headers, receipt: rid } });
    await got;
  }
  async stop() { await this.client.deactivate(); }
}

function expectEq(what, got, want) {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    results.push([name, true]);
    console.log(`PASS ${name}${note ? ` (${note})` : ""} [${Date.now() - t0} ms]`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}: ${e.message} [${Date.now() - t0} ms]`);
  }
}

const a = new Peer("a", `js-a-${tag}`);
const b = new Peer("b", `js-b-${tag}`);
const hb = new Peer("hb", `js-hb-${tag}`, 1000);
let hbStart = 0;
let hbInbox = null;

await check("connect", async () => {
  const [fa] = await Promise.all([a.connect(), b.connect()]);
  expectEq("CONNECTED version", fa.headers.version, "1.2");
  if (!/^v1[012]\.stomp$/.test(a.protocol || "")) throw new Error(`WebSocket subprotocol ${a.protocol}`);
  return `version ${fa.headers.version}, subprotocol ${a.protocol}, server ${fa.headers.server || "-"}`;
});
if (!a.connected || !b.connected) {
  console.log("FAIL: cannot go on without a connection");
  process.exit(1);
}

// The heart-beat connection: connect now, subscribe, then leave it silent while the rest runs.
const hbReady = (async () => {
  await hb.connect();
  hbInbox = await hb.subscribe(`/topic/hb-${tag}`);
  hbStart = Date.now();
})().catch((e) => { hb.setupError = e; });

await check("topic", async () => {
  const inbox = await a.subscribe(`/topic/t-${tag}`);
  a.client.publish({ destination: `/topic/t-${tag}`, body: "hello topic" });
  const m = await inbox.next("topic");
  expectEq("body", m.body, "hello topic");
  expectEq("destination", m.headers.destination, `/topic/t-${tag}`);
  inbox.sub.unsubscribe();
});

await check("receipt", async () => {
  const got = a.receipt("r-42");
  a.client.publish({ destination: `/topic/r-${tag}`, body: "x", headers: { receipt: "r-42" } });
  const f = await got;
  expectEq("receipt-id", f.headers["receipt-id"], "r-42");
});

await check("queue-ack-nack", async () => {
  const q = `/queue/q-${tag}`;
  const inbox = await a.subscribe(q, { ack: "client-individual" });
  await a.send(q, "one");
  await a.send(q, "two");
  const got = {};
  for (let i = 0; i < 2; i++) {
    const m = await inbox.next("queue");
    got[m.body] = m;
  }
  expectEq("bodies", Object.keys(got).sort().join(","), "one,two");
  const r1 = a.receipt("r-ack");
  got.one.ack({ receipt: "r-ack" });
  await r1;
  const r2 = a.receipt("r-nack");
  got.two.nack({ receipt: "r-nack" });
  await r2;
  const again = await inbox.next("redelivery after NACK");
  expectEq("redelivered body", again.body, "two");
  expectEq("redelivered header", again.headers.redelivered, "true");
  const r3 = a.receipt("r-ack2");
  again.ack({ receipt: "r-ack2" });
  await r3;
  await inbox.none("after the last ACK");
  inbox.sub.unsubscribe();
});

await check("tx-commit", async () => {
  const d = `/topic/tx-${tag}`;
  const inbox = await b.subscribe(d);
  const tx = a.client.begin(`tx-c-${tag}`);
  await a.send(d, "tx-1", { transaction: tx.id });
  await a.send(d, "tx-2", { transaction: tx.id });
  await inbox.none("before COMMIT");
  // stompjs' commit()/abort() take no headers, so no receipt: a SEND with a receipt right
  // after it tells us the broker has handled the COMMIT (frames of a session are in order)
  tx.commit();
  await a.send(`/topic/sync-${tag}`, "sync");
  const m1 = await inbox.next("1st after COMMIT");
  const m2 = await inbox.next("2nd after COMMIT");
  expectEq("bodies in order", `${m1.body},${m2.body}`, "tx-1,tx-2");
  inbox.sub.unsubscribe();
});

await check("tx-abort", async () => {
  const d = `/topic/txa-${tag}`;
  const inbox = await b.subscribe(d);
  const tx = a.client.begin(`tx-a-${tag}`);
  await a.send(d, "aborted", { transaction: tx.id });
  tx.abort();
  await a.send(`/topic/sync-${tag}`, "sync");
  await inbox.none("after ABORT");
  // the destination still works: a plain SEND gets through
  await a.send(d, "after-abort");
  expectEq("body after abort", (await inbox.next("after abort")).body, "after-abort");
  inbox.sub.unsubscribe();
});

await check("app-topic", async () => {
  const inA = await a.subscribe("/topic/chat");
  const inB = await b.subscribe("/topic/chat");
  a.client.publish({ destination: "/app/chat", body: JSON.stringify({ kind: "join", nick: a.login }) });
  for (const inbox of [inA, inB]) {
    const j = JSON.parse((await inbox.next("join")).body);
    expectEq("join", `${j.kind} ${j.nick}`, `join ${a.login}`);
  }
  a.client.publish({ destination: "/app/chat", body: JSON.stringify({ kind: "say", nick: a.login, text: "hi from stompjs" }) });
  for (const inbox of [inA, inB]) {
    const m = JSON.parse((await inbox.next("say")).body);
    expectEq("say", JSON.stringify(m), JSON.stringify({ kind: "say", nick: a.login, text: "hi from stompjs" }));
  }
  // a forged nick: the server puts the sender's principal instead
  a.client.publish({ destination: "/app/chat", body: JSON.stringify({ kind: "say", nick: b.login, text: "forged" }) });
  const f = JSON.parse((await inB.next("forged say")).body);
  expectEq("nick of a forged say", f.nick, a.login);
  inA.sub.unsubscribe();
  inB.sub.unsubscribe();
  return "join + say seen by both clients, nick = principal";
});

await check(`app-user-queue`, async () => {
  if (USER_REPLY === "echo") {
    // a2: a second session with a's login; b: another login. Neither may see a's echo.
    const a2 = new Peer("a2", a.login);
    await a2.connect();
    try {
      const inA = await a.subscribe("/user/queue/echo");
      const inA2 = await a2.subscribe("/user/queue/echo");
      const inB = await b.subscribe("/user/queue/echo");
      const body = JSON.stringify({ echo: `me ${tag}` });
      a.client.publish({ destination: "/app/echo", body, headers: { "content-type": "application/json" } });
      const m = await inA.next("echo reply");
      expectEq("echo body", m.body, body);
      expectEq("echo destination", m.headers.destination, "/user/queue/echo");
      expectEq("echo content-type", m.headers["content-type"], "application/json");
      await Promise.all([inB.none("a's echo at b (other login)"), inA2.none("a's echo at a2 (same login)")]);
      b.client.publish({ destination: "/app/echo", body: "from b" });
      expectEq("echo body (b)", (await inB.next("echo reply (b)")).body, "from b");
      await Promise.all([inA.none("b's echo at a"), inA2.none("b's echo at a2")]);
      if (a2.errors.length) throw new Error(`a2 got ERROR frame(s): ${a2.errors.join("; ")}`);
    } finally {
      await a2.stop();
    }
    return "/app/echo -> /user/queue/echo of the sending session only (not another login, not another session of the same login)";
  }
  const wantA = ["ACME", "GLOBEX", "INITECH"];
  const wantB = ["HOOLI"];
  const inA = await a.subscribe("/user/queue/ticks");
  const inB = await b.subscribe("/user/queue/ticks");
  await a.send("/app/filter", JSON.stringify({ symbols: wantA }));
  await b.send("/app/filter", JSON.stringify({ symbols: wantB }));
  const seen = { a: new Set(), b: new Set() };
  const deadline = Date.now() + 15_000;
  while ((seen.a.size < 2 || seen.b.size < 1) && Date.now() < deadline) {
    for (const [who, inbox, want] of [["a", inA, wantA], ["b", inB, wantB]]) {
      while (inbox.items.length) {
        const t = JSON.parse(inbox.items.shift().body);
        if (!want.includes(t.symbol)) throw new Error(`${who} got a tick for ${t.symbol}, filter ${want}`);
        seen[who].add(t.symbol);
      }
    }
    await sleep(100);
  }
  if (seen.a.size < 2 || seen.b.size < 1) throw new Error(`too few ticks: a ${[...seen.a]}, b ${[...seen.b]}`);
  await a.send("/app/filter", JSON.stringify({ symbols: [] }));
  await b.send("/app/filter", JSON.stringify({ symbols: [] }));
  inA.sub.unsubscribe();
  inB.sub.unsubscribe();
  return `/app/filter -> /user/queue/ticks: a saw ${[...seen.a]}, b saw ${[...seen.b]}`;
});

await check("heart-beats", async () => {
  await hbReady;
  if (hb.setupError) throw hb.setupError;
  const [sx, sy] = (hb.connected.headers["heart-beat"] || "0,0").split(",").map(Number);
  if (!sx || !sy) throw new Error(`server offers no heart-beats: heart-beat:${sx},${sy}`);
  const fromServer = Math.max(1000, sx); // STOMP 1.2: max(cy, sx)
  const toServer = Math.max(1000, sy);
  const hold = Math.max(fromServer, toServer) + 2000;
  const left = hbStart + hold - Date.now();
  if (left > 0) await sleep(left);
  if (hb.closed) throw new Error(`connection closed while silent (${hb.closed})`);
  if (hb.pongs.length === 0) throw new Error(`no heart-beat from the server in ${Date.now() - hbStart} ms`);
  if (hb.pings.length === 0) throw new Error(`stompjs sent no heart-beat in ${Date.now() - hbStart} ms`);
  await hb.send(`/topic/hb-${tag}`, "still here");
  expectEq("body after silence", (await hbInbox.next("after silence")).body, "still here");
  return `negotiated server->client ${fromServer} ms, client->server ${toServer} ms; ` +
    `silent ${Date.now() - hbStart} ms: ${hb.pongs.length} in, ${hb.pings.length} out, then send/receive ok`;
});

await check("no-error-frames", async () => {
  const errs = [...a.errors, ...b.errors, ...hb.errors];
  if (errs.length) throw new Error(`${errs.length} ERROR frame(s): ${errs.join("; ")}`);
  if (a.closed || b.closed) throw new Error(`closed early: a ${a.closed}, b ${b.closed}`);
});

await check("disconnect", async () => {
  // stompjs' deactivate(): DISCONNECT with a receipt, then the WebSocket close handshake
  await withTimeout(Promise.all([a.stop(), b.stop(), hb.stop()]), 5000, "DISCONNECT + close of 3 clients");
  const open = [a, b, hb].filter((p) => !p.closed).map((p) => p.name);
  if (open.length) throw new Error(`still open: ${open.join(", ")}`);
});
const failed = results.filter(([, ok]) => !ok).map(([n]) => n);
console.log(failed.length ? `stompjs_client: ${failed.length} of ${results.length} checks FAILED: ${failed.join(", ")}`
  : `stompjs_client: all ${results.length} checks passed`);
process.exit(failed.length ? 1 : 0);
