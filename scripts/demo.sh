#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what it needs, builds zengen and runs
# `zengen demo`, a working data center in ./zengen-demo (created on first run). Arguments are
# passed to `zengen demo` (e.g. --listen 127.0.0.1:9443).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh --target zengen
bash scripts/web-build.sh
exec build/zengen demo "$@"
