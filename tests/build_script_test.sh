#!/usr/bin/env bash
# scripts/build.sh in a moved checkout (issue 14): a build/ configured for another source
# directory is detected and reconfigured instead of failing on CMake's stale cache. Runs the
# real build.sh on a tiny project (no compiler needed), configures it, moves the checkout, and
# builds again; then shows that CMake alone refuses the moved cache (what build.sh mends).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd -P)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a/scripts"
cp "$repo/scripts/build.sh" "$work/a/scripts/build.sh"
cat >"$work/a/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(moved NONE)
option(ZENGEN_WERROR "" OFF)
add_custom_target(marker ALL COMMAND ${CMAKE_COMMAND} -E touch ${CMAKE_BINARY_DIR}/built-here)
CMAKE
bash "$work/a/scripts/build.sh" >/dev/null
test -f "$work/a/build/built-here"
mv "$work/a" "$work/b"
# CMake by itself refuses the copied cache: this is the failure build.sh must avoid.
if cmake -S "$work/b" -B "$work/b/build" -G Ninja >/dev/null 2>&1; then
  echo "FAIL: cmake accepted a cache made for another source directory; the test shows nothing" >&2
  exit 1
fi
out=$(bash "$work/b/scripts/build.sh" 2>&1) || { echo "FAIL: build.sh in a moved checkout: $out" >&2; exit 1; }
grep -q "configured for another checkout" <<<"$out" || { echo "FAIL: no notice: $out" >&2; exit 1; }
grep -q "^CMAKE_HOME_DIRECTORY:INTERNAL=$work/b$" "$work/b/build/CMakeCache.txt"
# A second run in place does not reconfigure afresh.
out=$(bash "$work/b/scripts/build.sh" 2>&1)
if grep -q "configured for another checkout" <<<"$out"; then
  echo "FAIL: reconfigured a build/ made for this checkout" >&2
  exit 1
fi
echo "build_script_test: ok"
