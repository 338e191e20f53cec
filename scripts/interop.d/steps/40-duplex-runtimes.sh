# shellcheck shell=bash
# Sourced by scripts/interop (uses its helpers: our_cmd, check_port_free, duplex_server_alive,
# missing_is_ok, bg_start/bg_stop, wait_port, need_cmd, info/err, $HERE, $OUT, $PY, $PORT_BASE,
# $RUNTIMES).
#
# The duplex server on the other runtimes (`duplex --runtime RT`; tokio is covered by
# stomp-duplex-server and stomppy-duplex-server), for each RT of DUPLEX_RUNTIMES but tokio:
#   stomp-duplex-server-RT    /healthz, /metrics, / on target/release/duplex --runtime RT, then
#                             stomp-interop (tokio client) on its /ws
#   stomppy-duplex-server-RT  Python stomp.py (WebSocket) -> duplex --runtime RT /ws, with the
#                             /app/echo reply, then again with /app/filter -> the ticker
# Ports: 127.0.0.1:BASE+31, BASE+32 for the first such runtime, BASE+33, BASE+34 for the next…
# A runtime the binary was built without (it exits saying "not available") is a SKIP with
# DUPLEX_ALLOW_MISSING=1, else a failure.

# Start target/release/duplex --runtime RT on PORT (BG_PID, log LOG) and wait until it accepts.
start_duplex_server_rt() {
    local rt=$1 port=$2 log=$3
    our_cmd duplex "" || return $?
    # (called under `||`, where `set -e` does not stop on failures: say it)
    check_port_free "$port" || return 1
    bg_start "duplex-$rt" "$log" "${CMD[@]}" --runtime "$rt" --listen "127.0.0.1:$port"
    wait_port "$port" "$BG_PID" 30 && return 0
    if grep -q "not available" "$log"; then
        echo "SKIP: duplex --runtime $rt: $(grep -m1 "not available" "$log")"
        missing_is_ok && return 77
        echo "(counted as a failure; set DUPLEX_ALLOW_MISSING=1 to allow)"
        return 78
    fi
    tail -n 20 "$log" >&2 || true
    return 1
}

# The page side of the port: /healthz says ok, /metrics has duplex_connections, / is HTML.
duplex_page_checks() {
    local url=$1 name=$2 rc=0 body
    body=$(curl -fsS --max-time 10 "$url/healthz") || rc=1
    if [[ $rc -eq 0 && "$body" == *ok* ]]; then
        info "/healthz: $body"
    else
        err "/healthz did not say ok: ${body:-(request failed)}"
        rc=1
    fi
    if body=$(curl -fsS --max-time 10 "$url/metrics") && grep -q '^duplex_connections' <<<"$body"; then
        info "/metrics: $(grep '^duplex_connections' <<<"$body" | head -n 3 | tr '\n' ' ')"
    else
        err "/metrics has no duplex_connections"
        rc=1
    fi
    if body=$(curl -fsS --max-time 10 -D "$OUT/$name.index.headers" "$url/") &&
        grep -qi '^content-type: *text/html' "$OUT/$name.index.headers" &&
        grep -qi '<html' <<<"$body"; then
        info "/: HTML page, ${#body} bytes"
    else
        err "/ did not return an HTML page"
        rc=1
    fi
    return "$rc"
}

stomp_duplex_server_rt() {
    local rt=$1 port=$2 name="stomp-duplex-server-$1" rc=0
    need_cmd curl
    local log="$OUT/$name.server.log"
    start_duplex_server_rt "$rt" "$port" "$log" || return $?
    local server=$BG_PID
    duplex_page_checks "http://127.0.0.1:$port" "$name" || rc=1
    our_cmd stomp-interop "" || return $?
    local src=0
    timeout --foreground 120 "${CMD[@]}" --runtime tokio --ws "ws://127.0.0.1:$port/ws" \
        --hold-secs 3 || src=$?
    [[ $src -eq 0 ]] || { err "stomp-interop failed with status $src"; rc=1; }
    duplex_server_alive "$server" "$log" || rc=1
    bg_stop "$server"
    return "$rc"
}

stomppy_duplex_server_rt() {
    local rt=$1 port=$2 name="stomppy-duplex-server-$1" rc=0 reply
    local log="$OUT/$name.server.log"
    start_duplex_server_rt "$rt" "$port" "$log" || return $?
    local server=$BG_PID
    for reply in echo filter; do
        info "stomppy_client.py --user-reply $reply"
        local prc=0
        timeout --foreground 120 "$PY" "$HERE/stomppy_client.py" --host 127.0.0.1 --port "$port" \
            --path /ws --user-reply "$reply" || prc=$?
        [[ $prc -eq 0 ]] || { err "stomppy_client.py --user-reply $reply failed with status $prc"; rc=1; }
    done
    duplex_server_alive "$server" "$log" || rc=1
    bg_stop "$server"
    return "$rc"
}

_duplex_rt_k=0
for _duplex_rt in "${RUNTIMES[@]}"; do
    [[ "$_duplex_rt" != tokio ]] || continue
    eval "step_stomp_duplex_server_$_duplex_rt() { stomp_duplex_server_rt $_duplex_rt $((PORT_BASE + 31 + _duplex_rt_k)); }"
    eval "step_stomppy_duplex_server_$_duplex_rt() { stomppy_duplex_server_rt $_duplex_rt $((PORT_BASE + 32 + _duplex_rt_k)); }"
    STEPS+=("stomp-duplex-server-$_duplex_rt" "stomppy-duplex-server-$_duplex_rt")
    _duplex_rt_k=$((_duplex_rt_k + 2))
done
unset _duplex_rt _duplex_rt_k
