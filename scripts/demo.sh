#!/bin/sh
# The main job on a fresh machine: install the npm packages, build, and
# serve a gateway repository over the p2phttp API on loopback.
#
#   sh scripts/demo.sh              serve a demo cluster made under demo/: a
#                                   gateway and three node repositories
#   sh scripts/demo.sh REPO [ARGS]  serve REPO (a git-annex repository) with
#                                   `annexgate p2phttp ARGS` (default --wideopen)
# PORT (default 9417) and BIND (default 127.0.0.1) choose where to listen.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npx tsc -p .
annexgate="node $here/dist/src/cli/main.js"
port=${PORT:-9417}
bind=${BIND:-127.0.0.1}

if [ $# -ge 1 ]; then
  repo=$(cd "$1" && pwd)
  shift
else
  repo="$here/demo/gateway"
  if [ ! -d "$repo/.git" ]; then
    for n in node1 node2 node3; do
      mkdir -p "$here/demo/$n"
      git -C "$here/demo/$n" init -q
      (cd "$here/demo/$n" && $annexgate init "demo $n")
    done
    mkdir -p "$repo"
    git -C "$repo" init -q
    git -C "$repo" config receive.denyCurrentBranch updateInstead
    (cd "$repo" && $annexgate init "annexgate demo gateway")
    printf 'A demo cluster served by annexgate.\n' > "$repo/README"
    git -C "$repo" add README
    git -C "$repo" -c user.name=annexgate -c user.email=annexgate@localhost commit -q -m "demo repository"
    for n in node1 node2 node3; do
      git -C "$repo" remote add "$n" "$here/demo/$n"
      git -C "$repo" config "remote.$n.annex-cluster-node" demo
    done
    (cd "$repo" && $annexgate initcluster demo && $annexgate updatecluster)
  fi
fi
[ $# -eq 0 ] && set -- --wideopen

cat <<MSG
annexgate: serving $repo on annex+http://$bind:$port/git-annex/
Point a stock git-annex (10.20250416) clone at it:
  git clone $repo client && cd client
  git annex init
  git config remote.origin.annexUrl annex+http://$bind:$port/git-annex/
  git config annex.security.allowed-ip-addresses all   # loopback is refused otherwise
  echo hello > hello.txt && git annex add hello.txt && git commit -m hello
  git annex copy --to origin-demo && git annex whereis hello.txt   # the demo cluster: every node
  git annex copy --to origin-node2 hello.txt                        # or one node, through the gateway
(no git-annex here? sh scripts/setup-git-annex.sh installs it)
Stop with Ctrl-C.
MSG
cd "$repo"
exec $annexgate p2phttp --bind "$bind" --port "$port" "$@"
