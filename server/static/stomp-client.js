// A small STOMP 1.2 client over WebSocket, enough for this page. The browser tests load the real
// @stomp/stompjs instead (see app.js: ?client=stompjs).
"use strict";
class MiniStomp {
  constructor(url, headers) {
    this.url = url; this.headers = headers || {}; this.subs = {}; this.next = 0; this.buf = "";
    this.onConnect = () => {}; this.onClose = () => {};
  }
  activate() {
    this.ws = new WebSocket(this.url, ["v12.stomp"]);
    this.ws.onopen = () => this._frame("CONNECT", Object.assign({"accept-version": "1.2", host: location.hostname, "heart-beat": "10000,10000"}, this.headers), "");
    this.ws.onmessage = (e) => this._input(e.data);
    this.ws.onclose = () => { clearInterval(this.beat); this.onClose(); };
  }
  _frame(command, headers, body) {
    let s = command + "\n";
    for (const [k, v] of Object.entries(headers)) s += k + ":" + String(v).replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/:/g, "\\c").replace(/\r/g, "\\r") + "\n";
    this.ws.send(s + "\n" + (body || "") + "\0");
  }
  _input(data) {
    this.buf += data;
    for (;;) {
      this.buf = this.buf.replace(/^(\r?\n)+/, "");
      const end = this.buf.indexOf("\0");
      if (end < 0) return;
      const raw = this.buf.slice(0, end); this.buf = this.buf.slice(end + 1);
      const split = raw.search(/\r?\n\r?\n/);
      const head = (split < 0 ? raw : raw.slice(0, split)).split(/\r?\n/);
      const body = split < 0 ? "" : raw.slice(raw.indexOf("\n", raw.indexOf("\n", split) + 1) + 1);
      const headers = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(":");
        const k = line.slice(0, i);
        if (!(k in headers)) headers[k] = line.slice(i + 1).replace(/\\c/g, ":").replace(/\\n/g, "\n").replace(/\\r/g, "\r").replace(/\\\\/g, "\\");
      }
      this._dispatch(head[0], headers, body);
    }
  }
  _dispatch(command, headers, body) {
    if (command === "CONNECTED") {
      const [sx, sy] = (headers["heart-beat"] || "0,0").split(",").map(Number);
      const every = Math.max(10000, sy);
      if (sy > 0) this.beat = setInterval(() => this.ws.send("\n"), every);
      this.onConnect(headers);
    } else if (command === "MESSAGE") {
      const cb = this.subs[headers.subscription];
      if (cb) cb({headers, body});
    } else if (command === "ERROR") {
      console.error("STOMP ERROR", headers.message, body);
    }
  }
  subscribe(destination, cb) {
    const id = "sub-" + this.next++;
    this.subs[id] = cb;
    this._frame("SUBSCRIBE", {id, destination}, "");
    return id;
  }
  publish({destination, body}) {
    this._frame("SEND", {destination, "content-type": "text/plain"}, body);
  }
}
