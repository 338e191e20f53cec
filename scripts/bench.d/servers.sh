# shellcheck shell=bash
# The echo servers scripts/bench measures, in table-column order, and how to start each one on a
# port. Every server runs single-threaded: tokio servers on a current-thread runtime.
# Sourced by scripts/bench; expects $BIN (target/release).

SERVERS=(
    duplex-tokio
    duplex-smol
    duplex-mio
    tokio-tungstenite
    fastwebsockets
    tokio-websockets
    raw-tcp
)

server_cmd() { # label port -> command line
    local listen=127.0.0.1:$2
    case $1 in
    duplex-tokio) echo "$BIN/echo-server --runtime tokio --threads 1 --listen $listen" ;;
    duplex-smol) echo "$BIN/echo-server --runtime smol --listen $listen" ;;
    duplex-mio) echo "$BIN/echo-server --runtime mio --listen $listen" ;;
    tokio-tungstenite) echo "$BIN/examples/peer-tungstenite --listen $listen" ;;
    fastwebsockets) echo "$BIN/examples/peer-fastwebsockets --listen $listen" ;;
    tokio-websockets) echo "$BIN/examples/peer-tokio-websockets --listen $listen" ;;
    raw-tcp) echo "$BIN/examples/peer-raw --listen $listen" ;;
    *) return 1 ;;
    esac
}
