#!/usr/bin/env bash
# The consent property campaign (issue 12): runs tests/consent_property_test — random histories
# of consent, grant, release, revocation and withdrawal events, every output path checked after
# every event against an independent model of who may see whom — for EVENTS events, and prints
#   events    the events applied
#   requests  the requests made through the server's routes and filters
#   leaks     answers that showed a participant who may not be seen (target 0)
#   wall      the wall time of the run, and the CPU time the test process used
# The exit status is the test's: 0 when every answer matched the model, 1 otherwise.
#
#   bash scripts/consent-property.sh                  # 100,000 events on SQLite, seed 1
#   EVENTS=20000 SEED=42 bash scripts/consent-property.sh
#   bash scripts/consent-property.sh --ci             # the CI counts: 15,000 (SQLite) and,
#                                                     # when ZENGEN_TEST_POSTGRES_URL is set,
#                                                     # 2,000 (PostgreSQL)
#   BACKEND=postgres ZENGEN_TEST_POSTGRES_URL=... bash scripts/consent-property.sh
#
# Environment: EVENTS (default 100000), SEED (default 1; printed), BACKEND (sqlite | postgres |
# all; default sqlite, --ci: all that are configured), PROBES (file probes after each event,
# default 1), TEST_BIN (default build/tests/consent_property_test; built by scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

ci=0
for arg in "$@"; do
  case "$arg" in
    --ci) ci=1 ;;
    *) echo "consent-property.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

SEED=${SEED:-1}
PROBES=${PROBES:-1}
TEST_BIN=${TEST_BIN:-build/tests/consent_property_test}
if [[ ! -x "$TEST_BIN" ]]; then
  echo "consent-property.sh: $TEST_BIN not found; run bash scripts/build.sh --target consent_property_test" >&2
  exit 2
fi

if [[ $ci == 1 ]]; then
  EVENTS=${EVENTS:-15000}
  EVENTS_POSTGRES=${EVENTS_POSTGRES:-2000}
  BACKEND=${BACKEND:-all}
else
  EVENTS=${EVENTS:-100000}
  EVENTS_POSTGRES=${EVENTS_POSTGRES:-$EVENTS}
  BACKEND=${BACKEND:-sqlite}
fi
if ! [[ "$EVENTS" =~ ^[0-9]+$ && "$EVENTS_POSTGRES" =~ ^[0-9]+$ && "$SEED" =~ ^[0-9]+$ ]]; then
  echo "consent-property.sh: EVENTS, EVENTS_POSTGRES and SEED are whole numbers" >&2
  exit 2
fi
case "$BACKEND" in
  sqlite) filter='*/sqlite' ;;
  postgres) filter='*/postgres' ;;
  all) filter='*' ;;
  *) echo "consent-property.sh: BACKEND is sqlite, postgres or all" >&2; exit 2 ;;
esac
if [[ "$BACKEND" == postgres && -z "${ZENGEN_TEST_POSTGRES_URL:-}" ]]; then
  echo "consent-property.sh: BACKEND=postgres needs ZENGEN_TEST_POSTGRES_URL" >&2
  exit 2
fi

log=$(mktemp)
trap 'rm -f "$log" "$log.cpu"' EXIT
echo "consent-property: $EVENTS events (PostgreSQL: $EVENTS_POSTGRES), seed $SEED, backend $BACKEND"
start=$(date +%s.%N)
status=0
# why: /usr/bin/time is not installed everywhere; bash's `times` after the child gives its CPU.
ZENGEN_PROPERTY_EVENTS=$EVENTS ZENGEN_PROPERTY_EVENTS_POSTGRES=$EVENTS_POSTGRES \
  ZENGEN_PROPERTY_SEED=$SEED ZENGEN_PROPERTY_PROBES=$PROBES \
  "$TEST_BIN" --gtest_filter="$filter" >"$log" 2>&1 || status=$?
end=$(date +%s.%N)
times >"$log.cpu"  # why: not in a pipe, whose subshell has no children of its own
cpu=$(tail -n1 "$log.cpu")
grep -E '^\[ consent property \]|LEAK|Failure|^\[  (FAILED|PASSED|SKIPPED) ' "$log" | head -60 || true
# The test prints per backend: "<n> events on <backend>, seed <s>" and
# "<e> epochs, <r> requests, <p> probes, <a> answers that served something, <l> leaks, ...".
awk '
  /\[ consent property \] [0-9]+ events on/ { for (i = 1; i <= NF; i++) if ($(i+1) == "events") ev = $i;
                                              for (i = 1; i <= NF; i++) if ($i == "on") be = $(i+1); sub(",", "", be) }
  /\[ consent property \] [0-9]+ epochs/    { for (i = 1; i <= NF; i++) { if ($(i+1) == "requests,") rq = $i;
                                                                        if ($(i+1) == "leaks,") lk = $i }
                                              printf "%s: events %s, requests %s, leaks found %s\n", be, ev, rq, lk; n++ }
  END { if (n == 0) print "no run completed (see the failures above)" }' "$log"
awk -v s="$start" -v e="$end" -v c="$cpu" 'BEGIN {
  split(c, t, " "); printf "wall %.1f s; CPU of the test (user, system) %s %s\n", e - s, t[1], t[2] }'
exit $status
