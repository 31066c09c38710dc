#!/usr/bin/env bash
# The kill -9 campaign of the storage sites (issue 17): a worker stores objects as multipart
# uploads to a Ceph RGW site plus a local site, or moves every copy between the RGW and a local
# directory, and is killed with SIGKILL at a random moment, TRIALS times (alternating). After each
# kill it runs what the server runs at start (recovery: unfinished uploads and temporary files
# go, copies of objects never recorded go), resumes the migration until it reports done, and
# checks (zengen_storage_kill9 check):
#   every recorded object has all its copies, each read back byte for byte (full scrub: nothing
#   to repair, nothing unrecoverable); no object at any site without metadata; a blob.write
#   audit record for every object and a blob.migrate_copy record for every migrated copy.
# Then every object is either fully stored with all required copies or absent, and every
# migration ran to completion. Exit status 1 when a trial fails a check, 2 when a step could not
# run.
#
#   bash scripts/kill9-storage.sh             # 20 trials
#   TRIALS=4 bash scripts/kill9-storage.sh    # the short CI mode (scripts/test.sh)
#
# Environment: TRIALS (1-1000, default 20), SEED (default random; printed), ZENGEN_TEST_S3
# ("ENDPOINT ACCESS SECRET" of a running gateway; unset: one is started with
# scripts/ceph-test-server.sh and stopped at the end), KILL9_HELPER (default
# build/src/blobs/zengen_storage_kill9), KEEP=1 keeps the temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

TRIALS=${TRIALS:-20}
SEED=${SEED:-$RANDOM}
HELPER=${KILL9_HELPER:-build/src/blobs/zengen_storage_kill9}
die() { echo "kill9-storage: $*" >&2; exit 2; }
[[ $TRIALS =~ ^[0-9]+$ ]] && ((TRIALS >= 1 && TRIALS <= 1000)) || die "TRIALS must be 1-1000"
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED must be a number"
[[ -x $HELPER ]] || die "no $HELPER (build the target zengen_storage_kill9)"
RANDOM=$SEED

work=$(mktemp -d /tmp/zengen-kill9-storage.XXXXXX)
cephdir=""
cleanup() {
  if [[ -n $cephdir ]]; then bash scripts/ceph-test-server.sh stop "$cephdir" >/dev/null 2>&1 || true; fi
  if [[ ${KEEP:-0} != 1 ]]; then rm -rf "$work" ${cephdir:+"$cephdir"}; fi
}
trap cleanup EXIT

if [[ -z ${ZENGEN_TEST_S3:-} ]]; then
  cephdir=$(mktemp -d /tmp/zengen-kill9-ceph.XXXXXX)
  ZENGEN_TEST_S3=$(bash scripts/ceph-test-server.sh start "$cephdir" $((40000 + RANDOM % 20000)) | tail -n 1) ||
    die "could not start a Ceph RGW"
  export ZENGEN_TEST_S3
fi
read -r endpoint access secret <<<"$ZENGEN_TEST_S3"

bucket="kill9-$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
# The bucket is made with curl's own SigV4 signing (no client library needed here).
curl -fsS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" \
  -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
  "$endpoint/$bucket" >/dev/null || die "could not create bucket $bucket"
mkdir -p "$work/hot1" "$work/hot2"
chmod 700 "$work"
echo "$bucket" >"$work/bucket"

echo "kill9-storage: $TRIALS trials, SEED=$SEED, bucket $bucket"
"$HELPER" "$work" ingest 2 $((6 << 20)) >/dev/null || die "initial ingest failed"

failures=0
killed=0
direction=0
for ((t = 1; t <= TRIALS; t++)); do
  if ((t % 2 == 1)); then
    what="ingest"
    args=(ingest 3 $(((5 + RANDOM % 8) << 20)))
  else
    what="migrate"
    # Copies go from the RGW to hot2 and back, in turns (ingest places them on rgw and hot1).
    if ((direction == 0)); then args=(migrate rgw hot2); else args=(migrate hot2 rgw); fi
  fi
  "$HELPER" "$work" "${args[@]}" >"$work/worker.log" 2>&1 &
  pid=$!
  delay=$(printf '0.%03d' $((50 + RANDOM % 900)))
  sleep "$delay"
  state="finished before the kill"
  if kill -KILL "$pid" 2>/dev/null; then state="killed after ${delay}s"; killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null || true

  "$HELPER" "$work" recover >"$work/recover.log" 2>&1 || die "trial $t: recover failed: $(cat "$work/recover.log")"
  if [[ $what == migrate ]]; then
    # Resume until the migration reports done.
    for _ in 1 2 3; do
      if "$HELPER" "$work" "${args[@]}" >"$work/resume.log" 2>&1; then break; fi
    done
    grep -q ': done;' "$work/resume.log" || { echo "trial $t: migration did not complete: $(cat "$work/resume.log")"; failures=$((failures + 1)); }
    direction=$((1 - direction))
  fi
  if "$HELPER" "$work" check >"$work/check.log" 2>&1; then
    echo "trial $t ($what ${args[*]:1}): $state; ok: $(head -n 1 "$work/check.log")"
  else
    echo "trial $t ($what ${args[*]:1}): $state; FAILED: $(cat "$work/check.log")"
    failures=$((failures + 1))
  fi
done
echo "kill9-storage: $TRIALS trials ($killed killed mid-way), $failures failed"
((failures == 0)) || exit 1
