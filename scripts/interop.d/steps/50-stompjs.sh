# shellcheck shell=bash
# Sourced by scripts/interop (uses its helpers: our_cmd, start_duplex_server, duplex_server_alive,
# bg_start/bg_stop, info/err, $HERE, $OUT, $ROOT, $PORT_BASE).
#
#   stompjs-duplex-server  @stomp/stompjs (Node, `ws` as WebSocket) -> target/release/duplex /ws
#                          on 127.0.0.1:BASE+7: scripts/interop.d/node/stompjs_client.mjs
#
# node_setup (also used by 60-browser.sh): `npm ci` (or `npm install` without a lock) in
# scripts/interop.d/node, once per run of the suite.

NODE_DIR="$HERE/node"

node_setup() {
    need_cmd node
    need_cmd npm
    local stamp="$OUT/node-setup.stamp" log="$OUT/node-setup.log" cmd=(npm install)
    # $$ is the suite's pid, also inside a step's subshell: once per run
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$$" && -d "$NODE_DIR/node_modules" ]]; then
        return 0
    fi
    [[ -f "$NODE_DIR/package-lock.json" ]] && cmd=(npm ci)
    info "${cmd[*]} in $NODE_DIR (log: $log)"
    local t0=$SECONDS rc=0
    (cd "$NODE_DIR" && timeout --foreground 600 "${cmd[@]}" --no-audit --no-fund --loglevel=error) \
        >"$log" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
        err "${cmd[*]} failed with status $rc; last lines of its log:"
        tail -n 20 "$log" >&2 || true
        return 1
    fi
    echo "$$" >"$stamp"
    local v
    v=$(cd "$NODE_DIR" && node -p 'const v = (p) => require(`./node_modules/${p}/package.json`).version;
        `@stomp/stompjs ${v("@stomp/stompjs")}, ws ${v("ws")}, playwright-core ${v("playwright-core")}`')
    info "node $(node --version): $v (${cmd[*]}: $((SECONDS - t0))s)"
}

step_stompjs_duplex_server() {
    local port=$((PORT_BASE + 7)) log="$OUT/stompjs-duplex-server.server.log" rc=0 reply=filter
    our_cmd duplex "" || return $?
    node_setup
    # /app/echo (reply to the sending session on /user/queue/echo) when the server has it,
    # else /app/filter -> /user/queue/ticks
    grep -q '"/app/echo"' "$ROOT/server/src/app.rs" && reply=echo
    start_duplex_server "$port" "$log" || return $?
    local server=$BG_PID
    timeout --foreground 120 node "$NODE_DIR/stompjs_client.mjs" \
        --url "ws://127.0.0.1:$port/ws" --user-reply "$reply" || rc=$?
    [[ $rc -eq 0 ]] || err "stompjs_client.mjs failed with status $rc"
    duplex_server_alive "$server" "$log" || rc=1
    bg_stop "$server"
    return "$rc"
}

STEPS+=(stompjs-duplex-server)
