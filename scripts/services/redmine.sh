#!/usr/bin/env bash
# A real Redmine 5 (Debian's `redmine` + `redmine-sqlite`) for stopgap's tracker
# tests: a private copy of the packaged SQLite database in DIR, REST API on,
# WEBrick on 127.0.0.1, admin's API key created and printed. Never touches the
# packaged database; one instance per DIR, so tests may run several.
#
#   scripts/services/redmine.sh install         install the packages when missing
#   scripts/services/redmine.sh start DIR [PORT] start (PORT 0/absent = a free one);
#        prints "URL APIKEY" and writes DIR/url, DIR/api_key (0600), DIR/server.pid
#   scripts/services/redmine.sh stop DIR        stop the instance started in DIR
#   scripts/services/redmine.sh restart DIR     stop then start again on the same
#        port and database (an outage in the middle of a test)
set -euo pipefail

REDMINE_ROOT=/usr/share/redmine
PACKAGED_DB=/var/lib/dbconfig-common/sqlite3/redmine/instances/default/redmine_default
PKGS=(redmine redmine-sqlite ruby-webrick)

die() { echo "redmine.sh: $*" >&2; exit 1; }

as_www() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u www-data -- "$@"; else "$@"; fi
}

cmd_install() {
  "$(dirname "${BASH_SOURCE[0]}")/../install-deps" --packages "${PKGS[@]}"
  [[ -f $PACKAGED_DB ]] || die "no packaged database at $PACKAGED_DB (did redmine-sqlite configure?)"
  # Rails writes caches and pids under tmp/; WEBrick runs as www-data.
  if [[ ! -d $REDMINE_ROOT/tmp ]] || [[ $(stat -c %U "$REDMINE_ROOT/tmp") != www-data ]]; then
    mkdir -p "$REDMINE_ROOT/tmp" && chown www-data:www-data "$REDMINE_ROOT/tmp"
  fi
}

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # free_port, stop_pid

launch() {  # DIR PORT: start WEBrick in the background and wait until it answers
  local dir=$1 port=$2
  (
    cd "$REDMINE_ROOT"
    exec runuser -u www-data -- env RAILS_ENV=production "DATABASE_URL=sqlite3:$dir/redmine.db" \
      RUBYOPT=-rwebrick ruby bin/rails server -e production -b 127.0.0.1 -p "$port" -u webrick \
      -P "$dir/server.pid"
  ) >>"$dir/server.log" 2>&1 &
  echo $! >"$dir/launcher.pid"
  local i
  for i in $(seq 1 300); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/issues.json?key=$(cat "$dir/api_key")" 2>/dev/null; then
      return 0
    fi
    kill -0 "$(cat "$dir/launcher.pid")" 2>/dev/null || { tail -20 "$dir/server.log" >&2; die "redmine exited"; }
    sleep 0.2
  done
  tail -20 "$dir/server.log" >&2
  die "redmine did not answer on port $port within 60 s"
}

cmd_start() {
  local dir=${1:?usage: redmine.sh start DIR [PORT]} port=${2:-0}
  cmd_install
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [[ $port == 0 ]] && port=$(free_port)
  chown www-data:www-data "$dir" 2>/dev/null || true
  install -m 0660 -o www-data -g www-data "$PACKAGED_DB" "$dir/redmine.db" 2>/dev/null ||
    cp "$PACKAGED_DB" "$dir/redmine.db"
  # REST on, no forced password change, and admin's API key (created on first read).
  local key
  key=$(cd "$REDMINE_ROOT" && as_www env RAILS_ENV=production "DATABASE_URL=sqlite3:$dir/redmine.db" \
    ruby bin/rails runner -e production '
      Setting.rest_api_enabled = "1"
      u = User.find_by_login("admin")
      u.must_change_passwd = false
      u.save!
      puts "APIKEY=" + u.api_key' 2>>"$dir/server.log" | sed -n 's/^APIKEY=//p')
  [[ -n $key ]] || { tail -20 "$dir/server.log" >&2; die "could not read admin's API key"; }
  (umask 077 && printf '%s' "$key" >"$dir/api_key")
  echo "http://127.0.0.1:$port" >"$dir/url"
  echo "$port" >"$dir/port"
  launch "$dir" "$port"
  echo "http://127.0.0.1:$port $key"
}

cmd_stop() {
  local dir=${1:?usage: redmine.sh stop DIR}
  stop_pid "$dir/server.pid" 10
  stop_pid "$dir/launcher.pid"
}

cmd_restart() {
  local dir=${1:?usage: redmine.sh restart DIR}
  cmd_stop "$dir"
  launch "$dir" "$(cat "$dir/port")"
}

case "${1:-}" in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  restart) shift; cmd_restart "$@" ;;
  *) die "usage: redmine.sh install | start DIR [PORT] | stop DIR | restart DIR" ;;
esac
