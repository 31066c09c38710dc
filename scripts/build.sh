#!/usr/bin/env bash
# Configures and builds Zengen into build/ (warnings are errors). Extra arguments are passed to
# the build step, e.g. `--target zengen`.
set -euo pipefail
cd "$(dirname "$0")/.."
# A build/ configured for another source directory (a moved or copied checkout) makes CMake
# refuse to configure: drop its cache and configure afresh.
if [[ -f build/CMakeCache.txt ]]; then
  configured=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' build/CMakeCache.txt)
  if [[ "$configured" != "$(pwd -P)" ]]; then
    echo "build.sh: build/ was configured for another checkout ($configured); reconfiguring" >&2
    rm -rf build/CMakeCache.txt build/CMakeFiles
  fi
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZENGEN_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)" "$@"
