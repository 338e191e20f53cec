# shellcheck shell=bash
# Helpers shared by scripts/interop and .ci/run. Source it; it defines functions only.
#
#   section TITLE            print a section header
#   bg_start NAME LOG CMD... start CMD in the background (stdout+stderr to LOG), set BG_PID;
#                            every process started this way is stopped by bg_stop_all
#   bg_stop PID              stop one background process: TERM, wait up to 10 s, then KILL
#   bg_stop_all              stop every process started with bg_start (install as an EXIT trap)
#   port_busy PORT           true if something accepts on 127.0.0.1:PORT
#   wait_port PORT PID [SECS] wait until 127.0.0.1:PORT accepts; fail early if PID dies
#   wait_exit PID SECS       wait up to SECS for PID to exit by itself; returns its status,
#                            or 124 if it is still running
#   need_cmd CMD             fail with a message if CMD is not on PATH

if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
    _B=$'\e[1m' _R=$'\e[31m' _G=$'\e[32m' _Y=$'\e[33m' _N=$'\e[0m'
else
    _B='' _R='' _G='' _Y='' _N=''
fi

section() {
    printf '\n%s==================== %s ====================%s\n' "$_B" "$*" "$_N"
}

info() { printf '%s-- %s%s\n' "$_B" "$*" "$_N"; }
warn() { printf '%sWARN: %s%s\n' "$_Y" "$*" "$_N" >&2; }
err() { printf '%sERROR: %s%s\n' "$_R" "$*" "$_N" >&2; }

need_cmd() {
    command -v "$1" >/dev/null 2>&1 || { err "required command not found: $1"; return 1; }
}

BG_PIDS=()

bg_start() {
    local name=$1 log=$2
    shift 2
    info "starting $name: $* (log: $log)"
    "$@" >"$log" 2>&1 </dev/null &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
    info "$name pid $BG_PID"
}

bg_stop() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "pid $pid did not stop on TERM, sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

bg_stop_all() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        bg_stop "$pid"
    done
    BG_PIDS=()
}

port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port() {
    local port=$1 pid=$2 secs=${3:-30} i
    for ((i = 0; i < secs * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            err "process $pid exited before 127.0.0.1:$port accepted connections"
            return 1
        fi
        if port_busy "$port"; then
            return 0
        fi
        sleep 0.1
    done
    err "127.0.0.1:$port did not accept connections within ${secs}s"
    return 1
}

wait_exit() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            local rc=0
            wait "$pid" || rc=$?
            return "$rc"
        fi
        sleep 0.1
    done
    return 124
}
