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
node dist/scripts/check-sizes.js
# The test files by name: given a folder, node --test would also run every
# module under a folder named "test" (the helpers) as a test file of its
# own. (Node 20 takes no globs here.) Unit tests (dist/src) come first,
# then the interop tests (dist/test/interop).
# shellcheck disable=SC2046
exec node --enable-source-maps --test --test-concurrency=2 --test-reporter=spec \
  $(find dist/src dist/scripts -name '*.test.js' | sort) $(find dist/test -name '*.test.js' | sort)
