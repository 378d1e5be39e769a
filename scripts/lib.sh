# Helpers the loopback scripts share (sourced, not run).
# free_port: a free TCP port on 127.0.0.1. wait_for FILE PATTERN: up to 30 s for PATTERN to appear
# in FILE, else print FILE and exit 1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "timed out waiting for $2 in $1"; cat "$1"; exit 1; }
