#!/usr/bin/env bash
# A real Prometheus Alertmanager 0.25 (Debian's `prometheus-alertmanager`) for
# stopgap's end-to-end tests and demos: 127.0.0.1 only, no gossip port (the
# empty --cluster.listen-address=), state in DIR, short group_wait (1s) and
# group_interval (2s) so a test takes seconds, one webhook receiver.
#
#   scripts/services/alertmanager.sh install
#   scripts/services/alertmanager.sh start DIR WEBHOOK_URL [TOKEN_FILE] [PORT] [REPEAT]
#       PORT 0/absent = a free one; REPEAT = repeat_interval (default 1h).
#       Prints the URL; writes DIR/url, DIR/alertmanager.yml, DIR/alertmanager.pid.
#   scripts/services/alertmanager.sh stop DIR
set -euo pipefail

BIN=/usr/bin/prometheus-alertmanager
die() { echo "alertmanager.sh: $*" >&2; exit 1; }

cmd_install() {
  [[ -x $BIN ]] && return 0
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "alertmanager.sh: installing prometheus-alertmanager" >&2
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    prometheus-alertmanager >/dev/null || {
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      prometheus-alertmanager >/dev/null
  }
  [[ -x $BIN ]] || die "install failed"
}

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # free_port, stop_pid

cmd_start() {
  local dir=${1:?usage: alertmanager.sh start DIR WEBHOOK_URL [TOKEN_FILE] [PORT] [REPEAT]}
  local webhook=${2:?webhook url required} token_file=${3:-} port=${4:-0} repeat=${5:-1h}
  cmd_install
  mkdir -p "$dir/data"
  [[ $port == 0 ]] && port=$(free_port)
  local auth=""
  if [[ -n $token_file ]]; then
    auth="
        http_config:
          authorization:
            type: Bearer
            credentials_file: $token_file"
  fi
  cat >"$dir/alertmanager.yml" <<YAML
route:
  receiver: stopgap
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: $repeat
receivers:
  - name: stopgap
    webhook_configs:
      - url: $webhook
        send_resolved: true
        max_alerts: 0$auth
YAML
  "$BIN" --config.file="$dir/alertmanager.yml" --storage.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
    --web.external-url="http://127.0.0.1:$port" --log.level=info \
    >>"$dir/alertmanager.log" 2>&1 &
  echo $! >"$dir/alertmanager.pid"
  local i
  for i in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/-/ready" 2>/dev/null; then
      echo "http://127.0.0.1:$port" | tee "$dir/url"
      return 0
    fi
    kill -0 "$(cat "$dir/alertmanager.pid")" 2>/dev/null || { tail -20 "$dir/alertmanager.log" >&2; die "alertmanager exited"; }
    sleep 0.1
  done
  tail -20 "$dir/alertmanager.log" >&2
  die "alertmanager did not become ready on port $port"
}

cmd_stop() {
  local dir=${1:?usage: alertmanager.sh stop DIR}
  stop_pid "$dir/alertmanager.pid"
}

case "${1:-}" in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) die "usage: alertmanager.sh install | start DIR WEBHOOK_URL [TOKEN_FILE] [PORT] [REPEAT] | stop DIR" ;;
esac
