# shellcheck shell=bash
# Sourced by scripts/interop after 50-stompjs.sh (uses its node_setup).
#
#   browser-duplex-server  headless Chromium (Debian's chromium, installed with apt-get when
#                          missing) driven by playwright-core: the duplex page on 127.0.0.1:BASE+8
#                          with the real @stomp/stompjs (DUPLEX_STOMPJS), two users chatting and
#                          filtering ticks: scripts/interop.d/node/browser_test.mjs. Screenshots
#                          and console logs in $OUT/browser/.

CHROMIUM=${DUPLEX_CHROMIUM:-/usr/bin/chromium}

chromium_setup() {
    [[ -x "$CHROMIUM" ]] && return 0
    if [[ -n "${DUPLEX_CHROMIUM:-}" ]]; then
        err "DUPLEX_CHROMIUM=$CHROMIUM is not an executable"
        return 1
    fi
    need_cmd apt-get
    local log="$OUT/chromium-install.log" sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
    info "installing chromium with apt-get (log: $log)"
    local t0=$SECONDS
    {
        "${sudo[@]}" apt-get update -qq &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    } >"$log" 2>&1 || {
        err "apt-get install chromium failed; last lines of its log:"
        tail -n 20 "$log" >&2 || true
        return 1
    }
    info "installed in $((SECONDS - t0))s"
    [[ -x "$CHROMIUM" ]] || { err "$CHROMIUM still missing after installing chromium"; return 1; }
}

step_browser_duplex_server() {
    local port=$((PORT_BASE + 8)) log="$OUT/browser-duplex-server.server.log" rc=0
    our_cmd duplex "" || return $?
    node_setup
    chromium_setup
    info "$("$CHROMIUM" --version 2>/dev/null || echo "chromium: version unknown")"
    local bundle="$NODE_DIR/node_modules/@stomp/stompjs/bundles/stomp.umd.min.js"
    [[ -f "$bundle" ]] || { err "no stompjs bundle at $bundle"; return 1; }
    rm -rf "$OUT/browser"
    mkdir -p "$OUT/browser"
    # the server hands this file out as /vendor/stomp.umd.min.js (server/src/http.rs)
    export DUPLEX_STOMPJS="$bundle"
    start_duplex_server "$port" "$log" || return $?
    local server=$BG_PID
    timeout --foreground 180 node "$NODE_DIR/browser_test.mjs" --base "http://127.0.0.1:$port" \
        --stompjs "$bundle" --chromium "$CHROMIUM" --out "$OUT/browser" || rc=$?
    [[ $rc -eq 0 ]] || err "browser_test.mjs failed with status $rc"
    info "screenshots: $(cd "$OUT/browser" && echo *.png)"
    duplex_server_alive "$server" "$log" || rc=1
    bg_stop "$server"
    return "$rc"
}

STEPS+=(browser-duplex-server)
