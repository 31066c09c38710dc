#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL 15 server for tests.
#
#   postgres-test-server.sh start DIR PORT   initialise DIR if needed, start the server on
#                                            127.0.0.1:PORT, wait until it accepts connections
#                                            and print the admin URL
#   postgres-test-server.sh stop DIR         stop the server (fast shutdown)
#
# The server trusts every loopback connection and runs with fsync off: it is for tests only.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

usage() {
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
}

# initdb and postgres refuse to run as root, so as root run them as the postgres user.
as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cmd="${1:-}"
case "$cmd" in
  start)
    [[ $# -eq 3 ]] || usage
    dir="$2"
    port="$3"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    data="$dir/data"
    sock="$dir/socket"
    mkdir -p "$sock"
    if [[ "$(id -u)" -eq 0 ]]; then
      chown -R postgres: "$dir"
    fi
    url="postgres://postgres@127.0.0.1:${port}/postgres"

    if [[ -f "$data/postmaster.pid" ]] && as_owner "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      echo "$url"
      exit 0
    fi

    if [[ ! -f "$data/PG_VERSION" ]]; then
      as_owner "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
      }
      cat >"$data/pg_hba.conf" <<HBA
# Test server: trust loopback and the private unix socket only.
local all all trust
host  all all 127.0.0.1/32 trust
HBA
      if [[ "$(id -u)" -eq 0 ]]; then
        chown postgres: "$data/pg_hba.conf"
      fi
    fi

    as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${sock} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null || {
      cat "$dir/server.log" >&2
      exit 1
    }

    for _ in $(seq 1 120); do
      if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
        echo "$url"
        exit 0
      fi
      sleep 0.5
    done
    echo "postgres did not become ready on 127.0.0.1:${port}; see $dir/server.log" >&2
    exit 1
    ;;
  stop)
    [[ $# -eq 2 ]] || usage
    data="$(cd "$2" && pwd)/data"
    if [[ -f "$data/postmaster.pid" ]]; then
      as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop
    else
      echo "no server running in $2" >&2
    fi
    ;;
  *)
    usage
    ;;
esac
