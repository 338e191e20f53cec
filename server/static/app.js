// The demo page: a chat room (/app/chat → /topic/chat) and a live dashboard whose filter goes up
// (/app/filter) while only the matching ticks come down (/user/queue/ticks).
"use strict";
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
const nick = params.get("nick") || "";

// `data` becomes data-* attributes: stable hooks for the browser test (scripts/interop.d/node).
function line(el, text, cls, data) {
  const div = document.createElement("div");
  div.textContent = text;
  if (cls) div.className = cls;
  Object.assign(div.dataset, data || {});
  el.appendChild(div);
  el.scrollTop = el.scrollHeight;
}

function makeClient(onConnect) {
  const login = { login: nick || "guest-" + Math.random().toString(36).slice(2, 8), passcode: "" };
  if (params.get("client") === "stompjs" && window.StompJs) {
    const c = new StompJs.Client({ brokerURL: url, connectHeaders: login, reconnectDelay: 0, heartbeatIncoming: 10000, heartbeatOutgoing: 10000 });
    c.onConnect = onConnect;
    c.onWebSocketClose = () => { $("status").textContent = "disconnected"; document.body.dataset.state = "disconnected"; };
    return { activate: () => c.activate(), subscribe: (d, cb) => c.subscribe(d, (m) => cb({ headers: m.headers, body: m.body })), publish: (m) => c.publish(m), kind: "@stomp/stompjs" };
  }
  const c = new MiniStomp(url, login);
  c.onConnect = onConnect;
  c.onClose = () => { $("status").textContent = "disconnected"; document.body.dataset.state = "disconnected"; };
  return Object.assign(c, { kind: "built-in client" });
}

let me = null;
let client = null;
function onConnected() {
  $("status").textContent = "connected (" + client.kind + ")";
  document.body.dataset.state = "connected";
  client.subscribe("/user/queue/ticks", (m) => {
    const t = JSON.parse(m.body);
    line($("ticks"), `${t.symbol} ${t.price.toFixed(2)}`, "tick " + t.symbol, { symbol: t.symbol, price: t.price });
  });
  if (nick) join(nick);
}

function join(name) {
  if (me) return;
  me = name;
  client.subscribe("/topic/chat", (m) => {
    const msg = JSON.parse(m.body);
    line($("log"), msg.kind === "say" ? `${msg.nick}: ${msg.text}` : `* ${msg.nick} ${msg.kind === "join" ? "joined" : "left"}`, msg.kind === "say" ? "say" : "sys", { kind: msg.kind, nick: msg.nick });
  });
  client.publish({ destination: "/app/chat", body: JSON.stringify({ kind: "join", nick: me }) });
  $("text").disabled = $("send").disabled = false;
  $("nick").value = me; $("nick").disabled = true;
}

$("join").onsubmit = (e) => { e.preventDefault(); if ($("nick").value.trim()) join($("nick").value.trim()); };
$("say").onsubmit = (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text || !me) return;
  client.publish({ destination: "/app/chat", body: JSON.stringify({ kind: "say", nick: me, text }) });
  $("text").value = "";
};
$("filter").onsubmit = (e) => {
  e.preventDefault();
  const symbols = $("symbols").value.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
  $("ticks").textContent = "";
  $("ticks").dataset.filter = symbols.join(",");
  client.publish({ destination: "/app/filter", body: JSON.stringify({ symbols }) });
};
window.addEventListener("beforeunload", () => { if (me) client.publish({ destination: "/app/chat", body: JSON.stringify({ kind: "leave", nick: me }) }); });
function start() {
  client = makeClient(onConnected);
  // which STOMP client the page runs (the browser test checks it): "@stomp/stompjs" or "built-in client"
  document.body.dataset.client = client.kind;
  client.activate();
}
if (params.get("client") === "stompjs") {
  const script = document.createElement("script");
  script.src = "/vendor/stomp.umd.min.js";
  script.onload = start;
  script.onerror = () => { $("status").textContent = "could not load @stomp/stompjs"; document.body.dataset.state = "no-stompjs"; };
  document.head.appendChild(script);
} else {
  start();
}
