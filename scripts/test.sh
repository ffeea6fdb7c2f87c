#!/bin/sh
# The whole test suite on a fresh machine: installs git-annex (for the
# interop tests) and the npm packages, builds, lints, then runs every test.
# The last line printed is the test runner's own summary.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup-git-annex.sh
npm ci --no-audit --no-fund --loglevel=error
npx tsc -p .
npx biome ci . >/dev/null 2>&1 || { npx biome ci .; exit 1; }
node dist/scripts/check-layers.js
exec node --enable-source-maps --test --test-concurrency=2 --test-reporter=spec dist/
