#!/usr/bin/env bash
# Storage sites on one Ceph RGW (issue 17), all figures from this one run:
#   1. PUT and GET of one SIZE_MIB object: Zengen's S3 adapter (s3::MultipartWriter, 64 MiB
#      parts with payload SHA-256, three in flight; S3Client::Get) against `curl --aws-sigv4`
#      alone (`-T FILE`; GET to /dev/null). Target: adapter ≥ 80 % of curl. The PUT anchor
#      sends what the adapter must send: the file's SHA-256 (openssl dgst, its time counted),
#      then curl's PUT with that payload hash, which the gateway verifies; the UNSIGNED-PAYLOAD
#      PUT (nothing verified) is printed beside it. OLD_BENCH=PATH also measures another
#      storage_bench binary (e.g. built from main) in the same run, for an A/B ratio.
#   2. Blob-store ingest of INGEST_MIB MiB (Writer → Commit, verified copies) to a local
#      directory plus the RGW, against two local directories. Target: ≥ 80 % of local.
#      (The blob-store stage of an ingest: FASTQ parsing and Crypt4GH encryption, which come
#      before it and are the same for both, are not in this figure.)
#   3. Migration of MIGRATE_N objects of MIGRATE_MIB MiB from a local directory to the RGW
#      (copy, read back, verify, record, retire): objects/s and MB/s.
#
#   bash bench/storage/run.sh                          # 1 GiB, as the issue asks
#   SIZE_MIB=256 INGEST_MIB=256 bash bench/storage/run.sh   # smaller, on a loaded machine
#   OLD_BENCH=/tmp/old/build/bench/storage/storage_bench bash bench/storage/run.sh   # A/B
#
# Environment: SIZE_MIB (default 1024), INGEST_MIB (default 1024), MIGRATE_N (default 50),
# MIGRATE_MIB (default 4), ZENGEN_TEST_S3 (a running gateway; unset: one is started with
# scripts/ceph-test-server.sh), BENCH (default build/bench/storage/storage_bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MIB=${SIZE_MIB:-1024}
INGEST_MIB=${INGEST_MIB:-1024}
MIGRATE_N=${MIGRATE_N:-50}
MIGRATE_MIB=${MIGRATE_MIB:-4}
BENCH=${BENCH:-build/bench/storage/storage_bench}
[[ -x $BENCH ]] || { echo "build the target storage_bench first" >&2; exit 2; }

work=$(mktemp -d /tmp/zengen-storage-bench.XXXXXX)
cephdir=""
cleanup() {
  if [[ -n $cephdir ]]; then bash scripts/ceph-test-server.sh stop "$cephdir" >/dev/null 2>&1 || true; rm -rf "$cephdir"; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [[ -z ${ZENGEN_TEST_S3:-} ]]; then
  cephdir=$(mktemp -d /tmp/zengen-bench-ceph.XXXXXX)
  ZENGEN_TEST_S3=$(CEPH_TEST_GC_WAIT=1 CEPH_TEST_GC_PERIOD=5 bash scripts/ceph-test-server.sh start "$cephdir" $((40000 + RANDOM % 20000)) | tail -n 1)
  export ZENGEN_TEST_S3
fi
read -r endpoint access secret <<<"$ZENGEN_TEST_S3"
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret")
empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
bucket="bench-$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
curl -fsS -X PUT "${sig[@]}" -H "x-amz-content-sha256: $empty_sha" "$endpoint/$bucket" >/dev/null

mbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1048576 / s }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 100 * a / b }'; }

head -c $((SIZE_MIB << 20)) /dev/urandom >"$work/object"
bytes=$((SIZE_MIB << 20))

# Deleted objects stay in the gateway's RAM store until its collector runs; wait for it (the
# gateway this script starts collects every 5 s) so a 1 GiB run fits in the 4 GiB store.
drop() {
  curl -fsS -X DELETE "${sig[@]}" -H "x-amz-content-sha256: $empty_sha" "$endpoint/$bucket/$1" >/dev/null
  [[ -n $cephdir ]] && sleep 12
  return 0
}

# 1. curl alone (-T streams the file: --data-binary @FILE refuses files of 1 GiB and more),
#    unsigned and with the payload hash; then the adapter(s). Each object deleted after.
t=$(curl -fsS -o /dev/null -w '%{time_total}' -X PUT "${sig[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
  -T "$work/object" "$endpoint/$bucket/curl-object")
curl_put=$(mbs $bytes "$t")
t=$(curl -fsS -o /dev/null -w '%{time_total}' "${sig[@]}" -H "x-amz-content-sha256: $empty_sha" "$endpoint/$bucket/curl-object")
curl_get=$(mbs $bytes "$t")
drop curl-object
# The fair anchor: the same PUT with the payload hash the adapter sends and the gateway then
# verifies (curl 7.88 does not compute it: it is hashed first with OpenSSL, the fastest SHA-256
# here, and that time counted).
t0=$(date +%s.%N); sha=$(openssl dgst -sha256 -r "$work/object" | cut -c1-64); t1=$(date +%s.%N)
t=$(curl -fsS -o /dev/null -w '%{time_total}' -X PUT "${sig[@]}" -H "x-amz-content-sha256: $sha" \
  -T "$work/object" "$endpoint/$bucket/curl-object")
curl_signed=$(mbs $bytes "$(awk -v a="$t0" -v b="$t1" -v c="$t" 'BEGIN { print b - a + c }')")
drop curl-object
adapter() {  # BENCH-BINARY LABEL
  read -r _ t _ < <("$1" put "$work/object" "$bucket" zengen-object)
  local put; put=$(mbs $bytes "$t")
  read -r _ t _ < <("$1" get "$bucket" zengen-object)
  local get; get=$(mbs $bytes "$t")
  drop zengen-object
  echo "PUT ${SIZE_MIB} MiB, $2: adapter $put MB/s = $(pct "$put" "$curl_signed") % of curl with the payload hash ($curl_signed MB/s; target ≥ 80 %), $(pct "$put" "$curl_put") % of unsigned curl ($curl_put MB/s)"
  echo "GET ${SIZE_MIB} MiB, $2: adapter $get MB/s = $(pct "$get" "$curl_get") % of curl ($curl_get MB/s; target ≥ 80 %)"
}
[[ -n ${OLD_BENCH:-} ]] && adapter "$OLD_BENCH" "old binary ($OLD_BENCH)"
adapter "$BENCH" "this binary"
rm -f "$work/object"

# 2. Blob-store ingest: two local directories, then a local directory plus the RGW.
for sites in local rgw; do
  d="$work/ingest-$sites"; mkdir -p "$d"; echo "$bucket" >"$d/bucket"
  read -r _ t _ < <("$BENCH" ingest "$d" $sites "$INGEST_MIB")
  declare "ingest_$sites=$(mbs $((INGEST_MIB << 20)) "$t")"
  rm -rf "$d"
done
echo "ingest ${INGEST_MIB} MiB into the blob store: two local dirs $ingest_local MB/s, local + RGW $ingest_rgw MB/s ($(pct "$ingest_rgw" "$ingest_local") % of local; target ≥ 80 %)"

# 3. Migration local → RGW.
d="$work/migrate"; mkdir -p "$d"; echo "$bucket" >"$d/bucket"
read -r _ t total n < <("$BENCH" migrate "$d" "$MIGRATE_N" "$MIGRATE_MIB")
echo "migrate $n objects of ${MIGRATE_MIB} MiB local → RGW: $(awk -v n="$n" -v s="$t" 'BEGIN { printf "%.1f", n / s }') objects/s, $(mbs "$total" "$t") MB/s"
