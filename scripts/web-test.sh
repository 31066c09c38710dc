#!/usr/bin/env bash
# The web front-end's browser tests: installs the npm packages from web/package-lock.json when
# they are absent, builds web/dist (which zengen serves) and runs web/test/ with node's test
# runner, driving Debian's Chromium headless against a real `zengen demo`. Screenshots go to
# $ZENGEN_SCREENSHOTS (default build/screenshots). Fails when Chromium cannot start.
set -euo pipefail
cd "$(dirname "$0")/../web"
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npm run build
npm test
