#!/usr/bin/env bash
# Audit-log append throughput: group commit against one durable transaction per record.
#
#   bash bench/audit/run.sh                          # SQLite (synchronous=FULL) in $TMPDIR
#   ZENGEN_BENCH_POSTGRES=1 bash bench/audit/run.sh  # also a throwaway PostgreSQL 15 server
#   DATABASE=postgres://user@host:5432/db bash bench/audit/run.sh   # also this server
#   THREADS=64 RECORDS=20000 bash bench/audit/run.sh
#   AUDIT_BENCH_BIN=path/to/audit_bench bash bench/audit/run.sh     # skip the build
#
# It builds the audit_bench target (scripts/build.sh), then runs it: for each backend, RECORDS
# records (default 4000) are appended from THREADS threads (default 8) to an empty log, first
# with group commit, then with one transaction per record; the chain is verified after each
# run. SQLite uses a fresh database file under $TMPDIR (set TMPDIR to measure another disk).
# PostgreSQL runs in a fresh database that is dropped afterwards. ZENGEN_BENCH_POSTGRES=1
# starts a server with scripts/postgres-test-server.sh on a free 127.0.0.1 port and stops it on
# exit; that server runs with fsync=off, so its figures show transaction and round-trip costs,
# not disk flushes (point DATABASE at a durable server for those).
set -euo pipefail
cd "$(dirname "$0")/../.."

THREADS=${THREADS:-8}
RECORDS=${RECORDS:-4000}
DATABASE=${DATABASE:-}
ZENGEN_BENCH_POSTGRES=${ZENGEN_BENCH_POSTGRES:-0}

die() { echo "bench/audit: $*" >&2; exit 1; }
int_in() { [[ $1 =~ ^[0-9]+$ ]] && (($1 >= $2 && $1 <= $3)); }
int_in "$THREADS" 1 512 || die "THREADS must be 1-512, got '$THREADS'"
int_in "$RECORDS" 1 10000000 || die "RECORDS must be 1-10000000, got '$RECORDS'"
if [[ -n $DATABASE && ! $DATABASE =~ ^postgres(ql)?:// ]]; then
  die "DATABASE must be a postgres:// URL (leave it unset for SQLite only)"
fi
if [[ -n $DATABASE && $ZENGEN_BENCH_POSTGRES == 1 ]]; then
  die "set either DATABASE or ZENGEN_BENCH_POSTGRES=1, not both"
fi

BIN=${AUDIT_BENCH_BIN:-}
if [[ -z $BIN ]]; then
  bash scripts/build.sh --target audit_bench ||
    die "build failed (is add_subdirectory(bench) in the top-level CMakeLists.txt?)"
  BIN=build/bench/audit/audit_bench
fi
[[ -x $BIN ]] || die "no executable at $BIN"

PG_DIR=""
cleanup() {
  if [[ -n $PG_DIR ]]; then
    bash scripts/postgres-test-server.sh stop "$PG_DIR" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
trap cleanup EXIT INT TERM

# A port below the kernel's ephemeral range (which outgoing connections use) that nothing
# listens on; the server start is retried on another port if the bind still fails.
free_port() {
  local low port
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  for _ in $(seq 1 50); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

if [[ $ZENGEN_BENCH_POSTGRES == 1 ]]; then
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/zengen-audit-bench-pg.XXXXXX")
  for attempt in 1 2 3 4 5; do
    port=$(free_port) || die "no free loopback port found"
    if DATABASE=$(bash scripts/postgres-test-server.sh start "$PG_DIR" "$port" 2>"$PG_DIR/start.err"); then
      break
    fi
    ((attempt < 5)) || { cat "$PG_DIR/start.err" >&2; die "could not start PostgreSQL"; }
  done
fi

echo "audit bench (bench/audit/run.sh), $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
  "$(awk '/MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo);"\
  "SQLite in ${TMPDIR:-/tmp} on $(df -P "${TMPDIR:-/tmp}" | awk 'NR == 2 {print $1}')"
DATABASE=$DATABASE "$BIN" --threads="$THREADS" --records="$RECORDS"
