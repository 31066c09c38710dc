#!/usr/bin/env bash
# Configures and builds Zengen into build/ (warnings are errors). Extra arguments are passed to
# the build step, e.g. `--target zengen`.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZENGEN_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)" "$@"
