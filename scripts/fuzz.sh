#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan + UBSan) in build-fuzz/ and runs each one
# against its seed corpus (fuzz/corpus/NAME/) and the committed crash inputs (fuzz/crashes/NAME/).
#
#   scripts/fuzz.sh                 each target for 600 s (a campaign; override with SECONDS_PER)
#   scripts/fuzz.sh ci              each target for 20 s (also when CI=true), seed 1 and a fresh
#                                   work corpus, so that CI replays the same inputs every run: a
#                                   regression check; new findings come from campaigns
#   scripts/fuzz.sh 120 fuzz_json   chosen seconds, chosen targets
#
# Fails (exit 1) on any crash, sanitizer report, uncaught exception, timeout, memory blow-up or
# divergence (the targets abort on one); the input that failed is left in
# build-fuzz/artifacts/NAME/ and its path is printed. New corpus entries go to
# build-fuzz/corpus/NAME/, never into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(fuzz_fastq fuzz_json fuzz_htsget fuzz_crypt4gh fuzz_csv fuzz_body_spool)
seconds=${SECONDS_PER:-600}
seed_args=()
ci_mode=false
if [[ "${CI:-}" == "true" ]]; then seconds=20; ci_mode=true; fi
if [[ $# -gt 0 ]]; then
  case "$1" in
    ci) seconds=20; ci_mode=true; shift ;;
    ''|*[!0-9]*) ;;
    *) seconds=$1; shift ;;
  esac
fi
targets=("$@")
if $ci_mode; then seed_args=(-seed=1); fi
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DZENGEN_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  seeds=fuzz/corpus/${t#fuzz_}
  crashes=fuzz/crashes/${t#fuzz_}
  work=build-fuzz/corpus/${t#fuzz_}
  artifacts=build-fuzz/artifacts/${t#fuzz_}
  if $ci_mode; then rm -rf "$work"; fi
  mkdir -p "$work" "$artifacts"
  log=build-fuzz/${t}.log
  # Known crash inputs first: each must now pass (they are regression tests once fixed).
  if compgen -G "$crashes/*" >/dev/null; then
    if ! "build-fuzz/fuzz/$t" -runs=0 "$crashes"/* >"$log.crashes" 2>&1; then
      echo "fuzz.sh: $t: a committed crash input still fails (see $log.crashes)" >&2
      failed+=("$t")
      continue
    fi
  fi
  echo "fuzz.sh: $t for ${seconds}s"
  if "build-fuzz/fuzz/$t" -max_total_time="$seconds" "${seed_args[@]}" -timeout=10 -rss_limit_mb=2048 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "$seeds" \
       >"$log" 2>&1 \
     && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|divergence' "$log"; then
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$log" | tail -n 2 | sed "s/^/  /"
  else
    echo "fuzz.sh: $t FAILED; log: $log; inputs:" >&2
    ls "$artifacts" >&2 || true
    tail -n 40 "$log" >&2
    failed+=("$t")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each: no crash, no sanitizer report, no divergence"
