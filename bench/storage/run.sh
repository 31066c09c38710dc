#!/usr/bin/env bash
# Storage sites on one Ceph RGW (issue 17), all figures from this one run, measured in
# alternating turns so that a gateway or machine that drifts during the run weighs on every
# contender alike:
#   1. PUT and GET of one SIZE_MIB object, REPS rounds. Each round runs, in an order that
#      reverses every other round (anchor, old, new; then new, old, anchor; …):
#        curl-unsigned  curl -T FILE with x-amz-content-sha256: UNSIGNED-PAYLOAD (nothing
#                       verified by the gateway), then curl GET to /dev/null;
#        curl-signed    the fair anchor: `openssl dgst -sha256` of FILE (its time counted) and
#                       curl --aws-sigv4 -T FILE with that payload hash, which the gateway
#                       verifies (curl 7.88's --aws-sigv4 does not hash the payload itself, and
#                       RGW refuses a signed PUT without it);
#        old            OLD_BENCH's adapter (e.g. main's storage_bench), when given;
#        new            BENCH's adapter (s3::MultipartWriter, 64 MiB parts with their payload
#                       SHA-256, three in flight; S3Client::Get hashing as scrub does); with
#                       PARTS="64 32" and/or IN_FLIGHTS="1 2 3" one contender per part size
#                       and parts in flight (new-64x1, new-64x2, …, new-32x3).
#      A warm-up PUT comes first and is not counted. Between two turns the object is deleted and the gateway's garbage is collected at once
#      (`radosgw-admin gc process --include-all` on the gateway this script starts), so every
#      turn starts from the same empty memory store. Printed: each turn, then per contender the
#      median MB/s with the spread (min–max), and the ratios of medians. Targets: adapter PUT
#      and GET ≥ 80 % of curl (the PUT against curl-signed; curl-unsigned is printed beside).
#   2. Blob-store ingest of INGEST_MIB MiB (Writer → Commit, verified copies): a local
#      directory plus the RGW against two local directories, INGEST_REPS alternating rounds,
#      the bucket emptied and collected between turns. Target: ≥ 80 % of local.
#      (The blob-store stage of an ingest: FASTQ parsing and Crypt4GH encryption, which come
#      before it and are the same for both, are not in this figure.)
#   2b. Ingest of a FASTQ_READS-read FASTQ.gz (default 10 M reads) through the upload
#      completion's pass (validation, QC, Crypt4GH) into the blob store: local + RGW against two
#      local directories, alternating as in 2. Target: ≥ 80 % of local.
#   3. Migration of MIGRATE_N objects of MIGRATE_MIB MiB from a local directory to the RGW
#      (copy, read back, verify, record, retire): objects/s and MB/s (one turn).
#
#   bash bench/storage/run.sh                          # 1 GiB, 3 rounds, as the issue asks
#   OLD_BENCH=../old/build/bench/storage/storage_bench bash bench/storage/run.sh   # A/B in the same run
#   SIZE_MIB=256 INGEST_MIB=256 REPS=5 bash bench/storage/run.sh      # smaller, more rounds
#
# Environment: SIZE_MIB (default 1024), REPS (rounds, default 3), PARTS (the new adapter's part
# sizes in MiB, default 64), IN_FLIGHTS (its parts in flight, default 3), INGEST_MIB (default 1024), INGEST_REPS (default 3), MIGRATE_N
# (default 50), MIGRATE_MIB (default 4), FASTQ_READS (default 10000000; 0 skips 2b), ZENGEN_TEST_S3 (a running gateway: then garbage is
# not collected between turns, only waited for; unset: one is started with
# scripts/ceph-test-server.sh), BENCH (default build/bench/storage/storage_bench; built when
# absent and the default).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MIB=${SIZE_MIB:-1024}
REPS=${REPS:-3}
PARTS=${PARTS:-64}
IN_FLIGHTS=${IN_FLIGHTS:-3}
FASTQ_READS=${FASTQ_READS:-10000000}
INGEST_MIB=${INGEST_MIB:-1024}
INGEST_REPS=${INGEST_REPS:-3}
MIGRATE_N=${MIGRATE_N:-50}
MIGRATE_MIB=${MIGRATE_MIB:-4}
BENCH=${BENCH:-build/bench/storage/storage_bench}
if [[ ! -x $BENCH && $BENCH == build/bench/storage/storage_bench ]]; then
  bash scripts/build.sh --target storage_bench >&2
fi
[[ -x $BENCH ]] || { echo "build the target storage_bench first ($BENCH)" >&2; exit 2; }

work=$(mktemp -d /tmp/zengen-storage-bench.XXXXXX)
cephdir=""
cleanup() {
  if [[ -n $cephdir ]]; then bash scripts/ceph-test-server.sh stop "$cephdir" >/dev/null 2>&1 || true; rm -rf "$cephdir"; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [[ -z ${ZENGEN_TEST_S3:-} ]]; then
  cephdir=$(mktemp -d /tmp/zengen-bench-ceph.XXXXXX)
  # The bench gateway: see ceph-test-server.sh for CEPH_TEST_BENCH's settings.
  ZENGEN_TEST_S3=$(CEPH_TEST_BENCH=1 CEPH_TEST_GC_WAIT=1 CEPH_TEST_GC_PERIOD=3600 \
    bash scripts/ceph-test-server.sh start "$cephdir" $((40000 + RANDOM % 20000)) | tail -n 1)
  export ZENGEN_TEST_S3
fi
read -r endpoint access secret <<<"$ZENGEN_TEST_S3"
sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret")
empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
bucket="bench-$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
curl -fsS -X PUT "${sig[@]}" -H "x-amz-content-sha256: $empty_sha" "$endpoint/$bucket" >/dev/null

mbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1048576 / s }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 100 * a / b }'; }
# median, min and max of the numbers given
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f %.1f", m, v[1], v[NR] }'; }

# Deleted objects stay in the gateway's RAM store until its collector runs: collect them now.
collect() {
  if [[ -n $cephdir ]]; then
    timeout 120 radosgw-admin -c "$cephdir/ceph.conf" -n client.rgw gc process --include-all \
      >/dev/null 2>&1 || true
  else
    sleep 5
  fi
}
drop() {
  curl -fsS -X DELETE "${sig[@]}" -H "x-amz-content-sha256: $empty_sha" "$endpoint/$bucket/$1" >/dev/null
}
empty_bucket() {
  local keys
  keys=$(curl -fsS "${sig[@]}" -H "x-amz-content-sha256: $empty_sha" "$endpoint/$bucket" |
    grep -o '<Key>[^<]*</Key>' | sed 's/<Key>\(.*\)<\/Key>/\1/' || true)
  for k in $keys; do drop "$k"; done
  collect
}

head -c $((SIZE_MIB << 20)) /dev/urandom >"$work/object"
bytes=$((SIZE_MIB << 20))
cat "$work/object" >/dev/null  # in the page cache for every contender alike

declare -A put get
turn() {  # CONTENDER → appends "MB/s" to put[CONTENDER] and get[CONTENDER]
  local c=$1 t p g
  case $c in
    curl-unsigned)
      t=$(curl -fsS -o /dev/null -w '%{time_total}' -X PUT "${sig[@]}" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$work/object" "$endpoint/$bucket/obj")
      p=$(mbs $bytes "$t") ;;
    curl-signed)
      local t0 t1 sha
      t0=$(date +%s.%N); sha=$(openssl dgst -sha256 -r "$work/object" | cut -c1-64); t1=$(date +%s.%N)
      t=$(curl -fsS -o /dev/null -w '%{time_total}' -X PUT "${sig[@]}" \
        -H "x-amz-content-sha256: $sha" -T "$work/object" "$endpoint/$bucket/obj")
      p=$(mbs $bytes "$(awk -v a="$t0" -v b="$t1" -v c="$t" 'BEGIN { print b - a + c }')") ;;
    old|new*)
      local bin=$BENCH part=64 flight=3
      [[ $c == old ]] && bin=$OLD_BENCH
      if [[ $c == new-* ]]; then part=${c#new-}; flight=${part#*x}; part=${part%x*}; fi
      read -r _ t _ < <(PART_MIB=$part IN_FLIGHT=$flight "$bin" put "$work/object" "$bucket" obj)
      p=$(mbs $bytes "$t") ;;
  esac
  if [[ $c == curl-* ]]; then
    t=$(curl -fsS -o /dev/null -w '%{time_total}' "${sig[@]}" -H "x-amz-content-sha256: $empty_sha" \
      "$endpoint/$bucket/obj")
  else
    local bin=$BENCH
    [[ $c == old ]] && bin=$OLD_BENCH
    read -r _ t _ < <("$bin" get "$bucket" obj)
  fi
  g=$(mbs $bytes "$t")
  put[$c]+="$p "
  get[$c]+="$g "
  echo "  round $r, $c: PUT $p MB/s, GET $g MB/s"
  drop obj
  collect
}

contenders=(curl-unsigned curl-signed)
[[ -n ${OLD_BENCH:-} ]] && contenders+=(old)
read -r -a parts <<<"$PARTS"
read -r -a flights <<<"$IN_FLIGHTS"
if ((${#parts[@]} == 1 && ${#flights[@]} == 1)) && [[ ${parts[0]} == 64 && ${flights[0]} == 3 ]]; then
  contenders+=(new)
else
  for p in "${parts[@]}"; do for f in "${flights[@]}"; do contenders+=("new-${p}x$f"); done; done
fi
echo "PUT/GET of ${SIZE_MIB} MiB, $REPS rounds"
collect
# A warm-up turn, not counted: the first write to a fresh gateway is the slowest.
curl -fsS -o /dev/null -X PUT "${sig[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
  -T "$work/object" "$endpoint/$bucket/obj"
drop obj
collect
for ((r = 1; r <= REPS; r++)); do
  order=("${contenders[@]}")
  if ((r % 2 == 0)); then
    order=()
    for ((i = ${#contenders[@]} - 1; i >= 0; i--)); do order+=("${contenders[i]}"); done
  fi
  for c in "${order[@]}"; do turn "$c"; done
done
declare -A pm gm
for c in "${contenders[@]}"; do
  # shellcheck disable=SC2086
  read -r m lo hi <<<"$(stats ${put[$c]})"; pm[$c]=$m
  echo "PUT ${SIZE_MIB} MiB, $c: median $m MB/s (min $lo, max $hi; turns: ${put[$c]% })"
done
for c in "${contenders[@]}"; do
  # shellcheck disable=SC2086
  read -r m lo hi <<<"$(stats ${get[$c]})"; gm[$c]=$m
  echo "GET ${SIZE_MIB} MiB, $c: median $m MB/s (min $lo, max $hi; turns: ${get[$c]% })"
done
# The GET anchor: every curl GET (both curl contenders read the object the same way).
# shellcheck disable=SC2086
read -r curl_get _ _ <<<"$(stats ${get[curl-unsigned]} ${get[curl-signed]})"
echo "GET ${SIZE_MIB} MiB, curl (all curl turns): median $curl_get MB/s"
for c in "${contenders[@]}"; do
  [[ $c == curl-* ]] && continue
  echo "RATIO PUT $c adapter: $(pct "${pm[$c]}" "${pm[curl-signed]}") % of curl with the payload hash (target ≥ 80 %), $(pct "${pm[$c]}" "${pm[curl-unsigned]}") % of unsigned curl"
  echo "RATIO GET $c adapter: $(pct "${gm[$c]}" "$curl_get") % of curl (target ≥ 80 %)"
done
[[ -n ${pm[old]:-} && -n ${pm[new]:-} ]] && echo "RATIO new/old: PUT $(pct "${pm[new]}" "${pm[old]}") %, GET $(pct "${gm[new]}" "${gm[old]}") %"
rm -f "$work/object"

# Sections 2 and 2b: one storage_bench command to two local directories and to a local directory
# plus the RGW, INGEST_REPS rounds alternating which goes first, the bucket emptied and collected
# between turns; prints each turn, the medians and their ratio.
#   alternate_ingest LABEL COMMAND ARG   (storage_bench COMMAND DIR SITES ARG prints
#                                         "name seconds bytes [reads]")
alternate_ingest() {
  local label=$1 cmd=$2 arg=$3 r sites d t b n v
  local -A got=()
  for ((r = 1; r <= INGEST_REPS; r++)); do
    order=(local rgw)
    ((r % 2 == 0)) && order=(rgw local)
    for sites in "${order[@]}"; do
      d="$work/$cmd-$sites"; mkdir -p "$d"; echo "$bucket" >"$d/bucket"
      read -r _ t b n < <("$BENCH" "$cmd" "$d" $sites "$arg")
      [[ -n $b ]] || exit 1  # storage_bench said why
      v=$(mbs "$b" "$t")
      got[$sites]+="$v "
      echo "  round $r, $sites: $v MB/s in $t s${n:+ ($n reads)}"
      rm -rf "$d"
      empty_bucket
    done
  done
  local l ll lh g gl gh
  # shellcheck disable=SC2086
  read -r l ll lh <<<"$(stats ${got[local]})"
  # shellcheck disable=SC2086
  read -r g gl gh <<<"$(stats ${got[rgw]})"
  echo "RATIO $label: two local dirs median $l MB/s ($ll–$lh), local + RGW median $g MB/s ($gl–$gh): $(pct "$g" "$l") % of local (target ≥ 80 %)"
}

# 2. Blob-store ingest of INGEST_MIB MiB.
echo "ingest of ${INGEST_MIB} MiB into the blob store, $INGEST_REPS rounds"
alternate_ingest "ingest ${INGEST_MIB} MiB" ingest "$INGEST_MIB"

# 2b. The FASTQ ingest of the issue: FASTQ_READS reads (default 10 M, PE150-style, generated once
# as bench/ingest does and kept in TMPDIR for later runs) through the upload completion's pass
# (validation, QC, Crypt4GH sealing into the blob store). MB/s of the gzipped file.
# FASTQ_READS=0 skips it.
if ((FASTQ_READS > 0)); then
  gz=${TMPDIR:-/tmp}/zg-ingest-$FASTQ_READS.fq.gz
  if [[ ! -s $gz ]]; then
    [[ -x build/bench/ingest/fastq_bench ]] || bash scripts/build.sh --target fastq_bench >&2
    echo "generating $gz ($FASTQ_READS reads, gzip -6) ..." >&2
    build/bench/ingest/fastq_bench gen "$FASTQ_READS" 42 | gzip -6 >"$gz.part"
    mv "$gz.part" "$gz"
  fi
  cat "$gz" >/dev/null  # in the page cache for both alike
  echo "ingest of a ${FASTQ_READS}-read FASTQ.gz ($(($(stat -c %s "$gz") >> 20)) MiB), $INGEST_REPS rounds"
  alternate_ingest "ingest FASTQ ${FASTQ_READS} reads" ingest-fastq "$gz"
fi


# 3. Migration local → RGW.
d="$work/migrate"; mkdir -p "$d"; echo "$bucket" >"$d/bucket"
read -r _ t total n < <("$BENCH" migrate "$d" "$MIGRATE_N" "$MIGRATE_MIB")
echo "migrate $n objects of ${MIGRATE_MIB} MiB local → RGW: $(awk -v n="$n" -v s="$t" 'BEGIN { printf "%.1f", n / s }') objects/s, $(mbs "$total" "$t") MB/s"
