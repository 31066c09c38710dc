#!/usr/bin/env bash
# The kill -9 campaign (issue 13): a worker changes state without end — specimens and their
# custody, FASTQ chunk uploads, upload completions (blob, file row, verdict, custody, the
# analysis order a program rule makes), the analysis centre's custody step and findings,
# clinical record submissions, clinical CSV imports and consent modifications — and is killed
# with SIGKILL at a random moment, TRIALS times. After
# each kill the data directory is restarted as the server starts it (recovery pass), then
#   zengen audit verify      the audit chain is intact
#   zengen storage scrub     every stored copy is good
#   kill9_driver check       database integrity and consistency queries
# and the next worker resumes the uploads left open. It prints per trial what was interrupted
# and what the checks found, then the totals:
#   stuck_runs          runs with every file stored but no verdict, or custody not applied
#   missing_audit       committed state changes of uploads, files, runs and blobs without
#                       their audit record
#   missing_audit_other the same for specimens, custody, analysis orders, consent, clinical
#                       records (single and imported) and findings, which append their
#                       record in the transaction of the change since issue 13's second
#                       session (they used to append it after the commit)
#   plaintext_files     non-empty files under staging or the blob roots that are not Crypt4GH
#   unreferenced_blobs  stored objects no file refers to, object files without metadata and
#                       temporary files of interrupted blob writes
#   loose_modes         entries of the data directory readable by group or others
# Targets: all 0. The exit status is 1 when one is not (missing_audit_other only counts with
# STRICT=1, the default and the CI mode; STRICT=0 reports it without failing), 2 when a check
# could not run.
#
#   bash scripts/kill9-campaign.sh              # 30 trials
#   TRIALS=5 bash scripts/kill9-campaign.sh     # the short CI mode
#   ZENGEN_BIN=build/zengen KILL9_DRIVER=build/bench/kill9/kill9_driver bash scripts/kill9-campaign.sh
#
# Environment: TRIALS (1-1000, default 30), SEED (default: random; printed, to replay a
# campaign's kill times), DATABASE (a postgres:// URL; default SQLite in the data directory),
# KEEP=1 keeps the temporary directory, STRICT (see above).
set -euo pipefail
cd "$(dirname "$0")/.."

TRIALS=${TRIALS:-30}
STRICT=${STRICT:-1}
SEED=${SEED:-$RANDOM}
DATABASE=${DATABASE:-}
die() { echo "kill9-campaign: $*" >&2; exit 2; }
[[ $TRIALS =~ ^[0-9]+$ ]] && ((TRIALS >= 1 && TRIALS <= 1000)) || die "TRIALS must be 1-1000"
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED must be a number"

if [[ -z ${ZENGEN_BIN:-} || -z ${KILL9_DRIVER:-} ]]; then
  bash scripts/build.sh --target zengen kill9_driver >/dev/null
  ZENGEN_BIN=build/zengen
  KILL9_DRIVER=build/bench/kill9/kill9_driver
fi
[[ -x $ZENGEN_BIN && -x $KILL9_DRIVER ]] || die "missing binaries ($ZENGEN_BIN, $KILL9_DRIVER)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/zengen-kill9.XXXXXX")
WORKER=""
cleanup() {
  local rc=$?
  [[ -n $WORKER ]] && kill -KILL "$WORKER" 2>/dev/null && wait "$WORKER" 2>/dev/null
  if [[ ${KEEP:-0} == 1 ]]; then echo "kill9-campaign: kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
DATA=$WORK/data
init_args=(init --data "$DATA" --listen 127.0.0.1:0)
[[ -n $DATABASE ]] && init_args+=(--database "$DATABASE")
"$ZENGEN_BIN" "${init_args[@]}" >"$WORK/init.out" 2>&1 || { cat "$WORK/init.out" >&2; die "init failed"; }
"$KILL9_DRIVER" setup "$DATA" >"$WORK/setup.out" 2>&1 || { cat "$WORK/setup.out" >&2; die "setup failed"; }

RANDOM=$SEED
echo "kill9-campaign: $TRIALS trials, seed $SEED"
declare -A total=([stuck_runs]=0 [missing_audit]=0 [missing_audit_other]=0 [plaintext_files]=0 [unreferenced_blobs]=0 [loose_modes]=0)
declare -A interrupted=()
failed_checks=0
started=$SECONDS
for ((t = 1; t <= TRIALS; t++)); do
  "$KILL9_DRIVER" work "$DATA" "$((SEED * 1000 + t))" >"$WORK/work.out" 2>"$WORK/work.err" &
  WORKER=$!
  # A random moment between 0.3 s and 2.5 s after start: restart, resume and every step kind.
  sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
  sleep "$((RANDOM % 2))"
  if ! kill -KILL "$WORKER" 2>/dev/null; then
    cat "$WORK/work.err" >&2
    die "trial $t: the worker ended by itself"
  fi
  wait "$WORKER" 2>/dev/null || true
  WORKER=""
  step=$(sed -n 's/^step //p' "$WORK/work.out" | tail -n 1)
  step=${step:-restart}
  interrupted[$step]=$((${interrupted[$step]:-0} + 1))
  # The restart: the recovery pass, as `serve` runs it at start.
  "$KILL9_DRIVER" recover "$DATA" >"$WORK/restart.out" 2>&1 || { cat "$WORK/restart.out" >&2; die "trial $t: restart failed"; }
  recovered=$(sed -n 's/^recovered //p' "$WORK/restart.out")
  verify="ok"
  "$ZENGEN_BIN" audit verify --data "$DATA" >"$WORK/verify.out" 2>&1 || { verify="FAILED"; failed_checks=$((failed_checks + 1)); }
  scrub="ok"
  "$ZENGEN_BIN" storage scrub --data "$DATA" >"$WORK/scrub.out" 2>&1 || { scrub="FAILED"; failed_checks=$((failed_checks + 1)); }
  "$KILL9_DRIVER" check "$DATA" >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out" >&2; die "trial $t: check failed"; }
  integrity=$(sed -n 's/^db_integrity=//p' "$WORK/check.out")
  [[ $integrity == ok || $integrity == n/a ]] || failed_checks=$((failed_checks + 1))
  line="trial $t: killed in $step; recovered $recovered; audit verify $verify; scrub $scrub; db $integrity"
  for k in stuck_runs missing_audit missing_audit_other plaintext_files unreferenced_blobs loose_modes; do
    v=$(sed -n "s/^$k=//p" "$WORK/check.out")
    line+="; $k $v"
    total[$k]=$v  # cumulative state: the latest check sees everything so far
  done
  echo "$line"
  { grep '^finding: ' "$WORK/check.out" || true; } | sed 's/^/    /' | head -n 5
  # The next trial's worker resumes the uploads left open (and the recovery pass runs again).
done
echo "kill9-campaign: $TRIALS trials in $((SECONDS - started)) s; interrupted steps:$(for k in "${!interrupted[@]}"; do printf ' %s=%s' "$k" "${interrupted[$k]}"; done)"
echo "kill9-campaign: changes checked: $(sed -n 's/^covered //p' "$WORK/check.out")"
echo "kill9-campaign: after the last recovery pass: stuck_runs=${total[stuck_runs]} missing_audit=${total[missing_audit]} missing_audit_other=${total[missing_audit_other]} plaintext_files=${total[plaintext_files]} unreferenced_blobs=${total[unreferenced_blobs]} loose_modes=${total[loose_modes]} failed_checks=$failed_checks"
other=0
[[ $STRICT == 1 ]] && other=${total[missing_audit_other]}
((total[stuck_runs] + total[missing_audit] + other + total[plaintext_files] + total[unreferenced_blobs] + total[loose_modes] + failed_checks == 0))
