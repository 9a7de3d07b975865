#!/usr/bin/env bash
# Rebuilds the notebook page's front end into web/dist from the npm packages pinned in
# package-lock.json. dist/ is committed, so building or running glaux needs no Node.js;
# run this after changing web/src or the packages, and commit dist/ with the change.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
rm -rf dist
node build.mjs
