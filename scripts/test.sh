#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what it needs, builds, starts a
# real PostgreSQL server on a loopback port in a temporary directory, and runs every test on
# both metadata backends (SQLite and PostgreSQL), and the web front-end's browser tests
# (headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/web-build.sh
# The Beacon v2 schema validator (ajv) used by the Beacon tests, exactly its lock file.
(cd tests/beacon && npm ci --no-audit --no-fund)

pgdir=$(mktemp -d /tmp/zengen-pg.XXXXXX)
cephdir=$(mktemp -d /tmp/zengen-ceph.XXXXXX)
slurmdir=$(mktemp -d /tmp/zengen-slurm.XXXXXX)
cleanup() {
  bash scripts/postgres-test-server.sh stop "$pgdir" >/dev/null 2>&1 || true
  bash scripts/ceph-test-server.sh stop "$cephdir" >/dev/null 2>&1 || true
  bash scripts/slurm-test-cluster.sh stop "$slurmdir" >/dev/null 2>&1 || true
  rm -rf "$slurmdir"
  rm -rf "$pgdir" "$cephdir"
}
trap cleanup EXIT

# True when nothing answers on any of the loopback ports FIRST..FIRST+COUNT-1.
ports_free() {
  local p
  for p in $(seq "$1" $(($1 + $2 - 1))); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then return 1; fi
  done
}

# PostgreSQL on a free loopback port. A port that looked free can still be taken (by a
# client's ephemeral port, for one): then another is tried.
url=""
for candidate in $(shuf -i 40000-60000 -n 20); do
  ports_free "$candidate" 1 || continue
  rm -rf "${pgdir:?}"/*
  if url=$(bash scripts/postgres-test-server.sh start "$pgdir" "$candidate" | tail -n 1); then
    break
  fi
  url=""
done
[[ -n "$url" ]] || { echo "test.sh: PostgreSQL could not start on a free port" >&2; exit 1; }
echo "test.sh: PostgreSQL for tests at $url"

# Ceph (gateway, monitor, OSD) on ten free loopback ports in a row, likewise.
s3=""
for candidate in $(shuf -i 20000-39990 -n 20); do
  ports_free "$candidate" 10 || continue
  bash scripts/ceph-test-server.sh stop "$cephdir" >/dev/null 2>&1 || true
  rm -rf "${cephdir:?}"/*
  if s3=$(bash scripts/ceph-test-server.sh start "$cephdir" "$candidate" | tail -n 1); then
    break
  fi
  s3=""
done
[[ -n "$s3" ]] || { echo "test.sh: Ceph could not start on free ports" >&2; exit 1; }
echo "test.sh: Ceph RGW for tests at ${s3%% *}"
export ZENGEN_TEST_S3="$s3"
export ZENGEN_REQUIRE_S3=1

# A single-node Slurm cluster (slurmctld, slurmd, munge) on two free loopback ports, for the
# analysis module's Slurm executor test (issue 16).
slurm_conf=""
for candidate in $(shuf -i 20000-39990 -n 20); do
  ports_free "$candidate" 2 || continue
  bash scripts/slurm-test-cluster.sh stop "$slurmdir" >/dev/null 2>&1 || true
  if slurm_conf=$(bash scripts/slurm-test-cluster.sh start "$slurmdir" "$candidate" | tail -n 1); then
    break
  fi
  slurm_conf=""
done
[[ -n "$slurm_conf" ]] || { echo "test.sh: Slurm could not start on free ports" >&2; exit 1; }
echo "test.sh: Slurm for tests with SLURM_CONF=$slurm_conf"
export ZENGEN_TEST_SLURM_CONF="$slurm_conf"
export ZENGEN_REQUIRE_SLURM=1

export ZENGEN_TEST_POSTGRES_URL="$url"
export ZENGEN_REQUIRE_POSTGRES=1
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600

# The fuzzers, each for a short bounded time under ASan + UBSan (scripts/fuzz.sh; issue 13).
bash scripts/fuzz.sh ci
# The kill -9 campaign's short mode (issue 13): 5 kills of a worker uploading, completing,
# importing and changing consent; 0 stuck runs, missing records, plaintext or unreferenced
# blobs after each recovery pass. STRICT=1: every module appends its audit record in the
# transaction of its change, so a change without its record fails the run.
TRIALS=5 STRICT=1 ZENGEN_BIN=build/zengen KILL9_DRIVER=build/bench/kill9/kill9_driver \
  bash scripts/kill9-campaign.sh
# The storage kill -9 campaign's short mode (issue 17): 4 kills of multipart ingests to the RGW
# and of migrations between the RGW and a local directory; after each recovery every object is
# fully stored with all its copies (read back byte for byte) or absent, and migrations resume
# to completion.
TRIALS=4 KILL9_HELPER=build/src/blobs/zengen_storage_kill9 bash scripts/kill9-storage.sh
