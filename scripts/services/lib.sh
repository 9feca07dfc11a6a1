# Helpers shared by the service scripts (sourced, bash only): a free loopback
# TCP port, and stopping a process a script started from its pidfile (TERM,
# up to 5 s or SECONDS, then KILL; the pidfile is removed).
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

stop_pid() {  # stop_pid PIDFILE [SECONDS]
  local f=$1 pid i
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    for i in $(seq 1 $((${2:-5} * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
