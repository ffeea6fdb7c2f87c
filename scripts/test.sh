#!/bin/sh
# The whole test suite on a fresh machine: installs git-annex (for the
# interop tests), chromium (for the web page tests), promtool (the judge
# of the metrics format) and the npm packages, builds, lints, then runs
# every test.
# The last line printed is the test runner's own summary.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup-git-annex.sh
sh scripts/setup-chromium.sh
sh scripts/setup-promtool.sh
npm ci --no-audit --no-fund --loglevel=error
npm run -s build
npx biome ci . >/dev/null 2>&1 || { npx biome ci .; exit 1; }
node dist/scripts/check-layers.js
node dist/scripts/check-sizes.js
# The test files by name: given a folder, node --test would also run every
# module under a folder named "test" (the helpers) as a test file of its
# own. (Node 20 takes no globs here.) Two files run at a time, each taken
# in this order as a slot frees: the slowest interop files first (by
# their time in earlier runs), then the other interop files, then the
# unit tests, whose many short files fill the end; so no long file starts
# last and runs alone.
SLOWEST="special-matrix p2pstdio-faults preferred-content-differential node-stall repo-sizes p2phttp-faults shell-modes journal"
slowest=""
for name in $SLOWEST; do slowest="$slowest dist/test/interop/$name.test.js"; done
others=$(find dist/test -name '*.test.js' | sort | grep -v -x -F "$(printf '%s\n' $slowest)")
units=$(find dist/src dist/scripts -name '*.test.js' | sort)
# shellcheck disable=SC2086
exec node --enable-source-maps --test --test-concurrency=2 --test-reporter=spec $slowest $others $units
