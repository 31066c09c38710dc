#!/usr/bin/env bash
# Installs the web front-end's npm packages (exactly web/package-lock.json) and builds web/dist,
# which zengen serves.
set -euo pipefail
cd "$(dirname "$0")/../web"
npm ci --no-audit --no-fund
npm run build
