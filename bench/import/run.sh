#!/usr/bin/env bash
# Clinical bulk-import throughput, with the databases' own bulk loaders as anchors.
#
#   bash bench/import/run.sh                          # SQLite only, 100,000 rows of specimen
#   ZENGEN_BENCH_POSTGRES=1 bash bench/import/run.sh  # also a throwaway PostgreSQL 15 server
#   DATABASE=postgres://user@host:5432/postgres bash bench/import/run.sh   # also this server
#   ROWS=20000 CATEGORY=treatment bash bench/import/run.sh
#   IMPORT_BENCH_BIN=path/to/import_bench bash bench/import/run.sh         # skip the build
#
# import_bench generates ROWS valid synthetic rows (data dictionary v1, one per synthetic
# participant), registers the participants in a fresh database and imports the file through
# ClinicalStore::Import (the whole file parsed and validated, then written as submitted
# versions in one transaction). As an anchor, the same CSV file is then bulk-loaded into a
# scratch table of text columns with the database's own tool: `sqlite3 .import` (into a fresh
# file) and `psql \copy` (into a fresh database). The anchor does no validation, no JSON and no
# versioning, so the ratio is the price of those.
# ZENGEN_BENCH_POSTGRES=1 starts a server with scripts/postgres-test-server.sh on a free
# 127.0.0.1 port (fsync=off: transaction and CPU costs, not disk flushes) and stops it on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-100000}
CATEGORY=${CATEGORY:-specimen}
DATABASE=${DATABASE:-}
ZENGEN_BENCH_POSTGRES=${ZENGEN_BENCH_POSTGRES:-0}

die() { echo "bench/import: $*" >&2; exit 1; }
[[ $ROWS =~ ^[0-9]+$ ]] && ((ROWS >= 1 && ROWS <= 1000000)) || die "ROWS must be 1-1000000"
[[ $CATEGORY =~ ^[a-z_]+$ ]] || die "CATEGORY must be a category code"
if [[ -n $DATABASE && ! $DATABASE =~ ^postgres(ql)?:// ]]; then
  die "DATABASE must be a postgres:// URL (leave it unset for SQLite only)"
fi
if [[ -n $DATABASE && $ZENGEN_BENCH_POSTGRES == 1 ]]; then
  die "set either DATABASE or ZENGEN_BENCH_POSTGRES=1, not both"
fi

if ! command -v sqlite3 >/dev/null; then
  echo "bench/import: installing the sqlite3 command-line tool for the anchor" >&2
  if [[ $(id -u) == 0 ]]; then apt-get install -y -q sqlite3 >/dev/null
  else sudo apt-get install -y -q sqlite3 >/dev/null; fi
fi

BIN=${IMPORT_BENCH_BIN:-}
if [[ -z $BIN ]]; then
  bash scripts/build.sh --target import_bench || die "build failed"
  BIN=build/bench/import/import_bench
fi
[[ -x $BIN ]] || die "no executable at $BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/zengen-import-bench.XXXXXX")
PG_DIR=""
ANCHOR_DB=""
cleanup() {
  if [[ -n $ANCHOR_DB && -n $DATABASE ]]; then
    psql "$DATABASE" -q -c "DROP DATABASE IF EXISTS $ANCHOR_DB" >/dev/null 2>&1 || true
  fi
  if [[ -n $PG_DIR ]]; then
    bash scripts/postgres-test-server.sh stop "$PG_DIR" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

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
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/zengen-import-bench-pg.XXXXXX")
  for attempt in 1 2 3 4 5; do
    port=$(free_port) || die "no free loopback port found"
    if DATABASE=$(bash scripts/postgres-test-server.sh start "$PG_DIR" "$port" 2>"$PG_DIR/start.err"); then
      break
    fi
    ((attempt < 5)) || { cat "$PG_DIR/start.err" >&2; die "could not start PostgreSQL"; }
  done
fi

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

echo "clinical import bench (bench/import/run.sh), $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
  "$(awk '/MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo);"\
  "SQLite in ${TMPDIR:-/tmp} on $(df -P "${TMPDIR:-/tmp}" | awk 'NR == 2 {print $1}')"
CSV=$WORK/$CATEGORY.csv
OUT=$WORK/out.txt
DATABASE=$DATABASE "$BIN" --rows="$ROWS" --category="$CATEGORY" --csv="$CSV" | tee "$OUT"

# Anchors: the same bytes through the databases' own loaders, into text columns.
cols=$(head -1 "$CSV" | sed 's/,/ TEXT, /g; s/$/ TEXT/')
t0=$(now)
sqlite3 "$WORK/anchor.db" "PRAGMA journal_mode=WAL;" "CREATE TABLE t ($cols);" \
  ".import --csv --skip 1 $CSV t" >/dev/null
t1=$(now)
s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
n=$(sqlite3 "$WORK/anchor.db" "SELECT COUNT(*) FROM t")
zen=$(awk '/^sqlite / {print $(NF-1)}' "$OUT")
echo "sqlite   anchor (sqlite3 .import): $n rows in $s s = $(rate "$n" "$s") rows/s;" \
  "zengen import is $(awk -v a="$zen" -v b="$(rate "$n" "$s")" 'BEGIN { printf "%.1f", b / a }')x slower"
if [[ -n $DATABASE ]]; then
  ANCHOR_DB=zbench_anchor_$$
  psql "$DATABASE" -q -c "CREATE DATABASE $ANCHOR_DB" >/dev/null
  url=$(echo "$DATABASE" | sed -E "s#/[^/?]*(\?|$)#/$ANCHOR_DB\1#")
  psql "$url" -q -c "CREATE TABLE t ($cols)" >/dev/null
  t0=$(now)
  psql "$url" -q -c "\\copy t FROM '$CSV' WITH (FORMAT csv, HEADER true)" >/dev/null
  t1=$(now)
  s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  n=$(psql "$url" -tAq -c "SELECT COUNT(*) FROM t")
  zen=$(awk '/^postgres / {print $(NF-1)}' "$OUT")
  echo "postgres anchor (psql \\copy): $n rows in $s s = $(rate "$n" "$s") rows/s;" \
    "zengen import is $(awk -v a="$zen" -v b="$(rate "$n" "$s")" 'BEGIN { printf "%.1f", b / a }')x slower"
fi
