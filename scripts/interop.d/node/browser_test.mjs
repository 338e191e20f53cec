// Headless Chromium (driven by playwright-core) on the duplex demo page with the real
// @stomp/stompjs (the server must run with DUPLEX_STOMPJS=<.../bundles/stomp.umd.min.js>).
//
//   node browser_test.mjs --base http://127.0.0.1:PORT --stompjs FILE --out DIR [--chromium /usr/bin/chromium]
//
// Two browser contexts (two nicks, each its own cookies and storage) load /?client=stompjs&nick=...
// Checks (one PASS/FAIL line each; exit 0 only when all pass):
//   page-loads-stompjs  both pages connect, say they run "@stomp/stompjs" (body[data-client]),
//                       window.StompJs.Client exists, /vendor/stomp.umd.min.js was served with the
//                       bytes of FILE, and the CONNECT on the wire is stompjs' (accept-version
//                       1.2,1.1,1.0; the built-in client offers 1.2 only)
//   chat                each page sends a line through the form; the other page shows it with the
//                       sender's nick (and its own page too)
//   dashboard-filter    each page applies its own symbol filter in the form; after ticks arrive,
//                       every tick shown matches that page's filter, and both pages got ticks
//   no-page-errors      no uncaught exception, no HTTP error, no error logged in either page,
//                       and both are still connected
// Screenshots of both pages go to DIR (<nick>.png), with each page's console log.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const BASE = args.base;
const OUT = args.out;
const STOMPJS = args.stompjs;
const CHROMIUM = args.chromium || "/usr/bin/chromium";
if (!BASE || !OUT || !STOMPJS) {
  console.error("usage: node browser_test.mjs --base http://HOST:PORT --stompjs FILE --out DIR [--chromium PATH]");
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });
const TIMEOUT = 15_000;
const tag = Math.random().toString(36).slice(2, 7);

const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    results.push([name, true]);
    console.log(`PASS ${name}${note ? ` (${note})` : ""} [${Date.now() - t0} ms]`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}: ${e.message.split("\n")[0]} [${Date.now() - t0} ms]`);
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  // playwright gives the browser a fresh, empty --user-data-dir (a temp dir) of its own
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-features=LocalNetworkAccessChecks", "--disable-quic", "--disable-component-update", "--disable-sync",
  ],
  timeout: 60_000,
});

// One user: a browser context of its own, the page, and what was seen on the way.
async function openUser(nick, symbols) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 560 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const user = { nick, symbols, context, page, console: [], pageErrors: [], sent: [], vendor: null, httpErrors: [] };
  page.on("console", (m) => user.console.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => user.pageErrors.push(String(e)));
  page.on("websocket", (ws) => ws.on("framesent", (f) => user.sent.push(String(f.payload))));
  page.on("response", async (r) => {
    if (r.status() >= 400) user.httpErrors.push(`${r.status()} ${r.url()}`);
    if (new URL(r.url()).pathname === "/vendor/stomp.umd.min.js") {
      user.vendor = { status: r.status(), body: await r.body().catch(() => null) };
    }
  });
  await page.goto(`${BASE}/?client=stompjs&nick=${encodeURIComponent(nick)}`);
  return user;
}

const alice = await openUser(`alice-${tag}`, ["ACME", "HOOLI"]);
const bob = await openUser(`bob-${tag}`, ["GLOBEX"]);
const users = [alice, bob];

await check("page-loads-stompjs", async () => {
  const bundle = readFileSync(STOMPJS);
  for (const u of users) {
    await u.page.waitForSelector("body[data-state]");
    const state = await u.page.getAttribute("body", "data-state");
    if (state !== "connected") throw new Error(`${u.nick}: page state ${state}, status "${await u.page.textContent("#status")}"`);
    const kind = await u.page.getAttribute("body", "data-client");
    if (kind !== "@stomp/stompjs") throw new Error(`${u.nick}: page runs ${kind}`);
    const hasStompJs = await u.page.evaluate(() => typeof window.StompJs?.Client === "function");
    if (!hasStompJs) throw new Error(`${u.nick}: no window.StompJs.Client`);
    if (!u.vendor || u.vendor.status !== 200) throw new Error(`${u.nick}: /vendor/stomp.umd.min.js: ${u.vendor?.status}`);
    if (!u.vendor.body || !bundle.equals(u.vendor.body)) throw new Error(`${u.nick}: served bundle differs from ${STOMPJS}`);
    const connect = u.sent.find((f) => f.startsWith("CONNECT\n"));
    if (!connect) throw new Error(`${u.nick}: no CONNECT frame seen on the WebSocket`);
    if (!/\naccept-version:1\.2,1\.1,1\.0\n/.test(connect)) throw new Error(`${u.nick}: CONNECT is not stompjs': ${JSON.stringify(connect)}`);
  }
  return `status: "${await alice.page.textContent("#status")}", bundle ${bundle.length} bytes`;
});

await check("chat", async () => {
  // each page joins itself on connect (nick from the URL); wait until each sees its own join,
  // so both are subscribed to /topic/chat before anyone speaks
  for (const u of users) await u.page.waitForSelector(`#log [data-kind="join"][data-nick="${u.nick}"]`);
  const lines = { [alice.nick]: `hello bob, from alice ${tag}`, [bob.nick]: `hi alice, bob here ${tag}` };
  for (const u of users) {
    await u.page.fill("#text", lines[u.nick]);
    await u.page.click("#send");
  }
  for (const u of users) {
    for (const from of users) {
      const want = `${from.nick}: ${lines[from.nick]}`;
      await u.page.waitForFunction(
        (w) => [...document.querySelectorAll("#log .say")].some((d) => d.textContent === w),
        want,
        { timeout: TIMEOUT },
      ).catch(() => { throw new Error(`${u.nick} does not show "${want}"`); });
    }
  }
  return "each page shows both lines with the sender's nick";
});

await check("dashboard-filter", async () => {
  for (const u of users) {
    // lower case and spaces on purpose: the page normalises the list
    await u.page.fill("#symbols", u.symbols.map((s) => s.toLowerCase()).join(" , "));
    await u.page.click("#filter button");
    await u.page.waitForSelector(`#ticks[data-filter="${u.symbols.join(",")}"]`);
  }
  // the ticker quotes one of 6 symbols every 250 ms: ~3 ticks/s spread over them
  const want = { [alice.nick]: 6, [bob.nick]: 3 };
  for (const u of users) {
    await u.page.waitForFunction((n) => document.querySelectorAll("#ticks .tick").length >= n, want[u.nick], { timeout: 30_000 })
      .catch(async () => { throw new Error(`${u.nick}: only ${await u.page.locator("#ticks .tick").count()} ticks in 30 s`); });
  }
  const notes = [];
  for (const u of users) {
    const ticks = await u.page.$$eval("#ticks > div", (ds) => ds.map((d) => ({ text: d.textContent, symbol: d.dataset.symbol, cls: d.className })));
    const wrong = ticks.filter((t) => !u.symbols.includes(t.symbol) || !t.text.startsWith(`${t.symbol} `) || !/^\S+ \d+\.\d\d$/.test(t.text));
    if (wrong.length) throw new Error(`${u.nick} (filter ${u.symbols}) shows ${JSON.stringify(wrong.slice(0, 3))}`);
    const seen = [...new Set(ticks.map((t) => t.symbol))].sort();
    notes.push(`${u.nick}: ${ticks.length} ticks, all in {${u.symbols}}, seen {${seen}}`);
  }
  return notes.join("; ");
});

for (const u of users) {
  await u.page.screenshot({ path: join(OUT, `${u.nick.replace(/-.*/, "")}.png`), fullPage: true });
  writeFileSync(join(OUT, `${u.nick.replace(/-.*/, "")}.console.log`), u.console.join("\n") + "\n");
}

await check("no-page-errors", async () => {
  for (const u of users) {
    if (u.pageErrors.length) throw new Error(`${u.nick}: ${u.pageErrors.join("; ")}`);
    if (u.httpErrors.length) throw new Error(`${u.nick}: HTTP ${u.httpErrors.join("; ")}`);
    const bad = u.console.filter((l) => /STOMP ERROR|^error:/.test(l));
    if (bad.length) throw new Error(`${u.nick}: ${bad.join("; ")}`);
    const state = await u.page.getAttribute("body", "data-state");
    if (state !== "connected") throw new Error(`${u.nick}: page state ${state} at the end`);
  }
});

await browser.close();
const failed = results.filter(([, ok]) => !ok).map(([n]) => n);
console.log(failed.length ? `browser_test: ${failed.length} of ${results.length} checks FAILED: ${failed.join(", ")}`
  : `browser_test: all ${results.length} checks passed; screenshots in ${OUT}`);
process.exit(failed.length ? 1 : 0);
