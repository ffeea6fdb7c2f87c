#!/bin/sh
# The main job on a fresh machine: install the npm packages, build, and
# serve a gateway repository over the p2phttp API on loopback.
#
#   sh scripts/demo.sh              serve a demo cluster made under demo/: a
#                                   gateway, three node repositories, a
#                                   directory special remote and an S3
#                                   special remote on an S3 server (s3rver)
#                                   the demo runs on loopback
#   sh scripts/demo.sh REPO [ARGS]  serve REPO (a git-annex repository) with
#                                   `annexgate p2phttp ARGS` (default
#                                   --wideopen --example-page)
# Either way, by default the example upload page is served at
# http://BIND:PORT/example (the demo cluster's with --indirect-uploads, so
# the page can put files straight into its S3 node).
# PORT (default 9417) and BIND (default 127.0.0.1) choose where to listen;
# DEMO_DIR (default demo/) where the demo cluster lives; S3_PORT (default
# PORT+1, fixed when the demo cluster is made) where its S3 server listens.
# The S3 node needs git-annex (its initremote); without it the demo cluster
# is made without one.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
if [ ! -d node_modules ] || ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# Build unless the build is newer than every source.
if [ ! -f dist/src/cli/main.js ] ||
  [ -n "$(find src scripts test bench package.json tsconfig.json -newer dist/src/cli/main.js 2>/dev/null | head -n 1)" ]; then
  npm run -s build
fi
annexgate="node $here/dist/src/cli/main.js"
port=${PORT:-9417}
bind=${BIND:-127.0.0.1}
demo=${DEMO_DIR:-$here/demo}
s3_pid=""
gw_pid=""
has_git_annex() { command -v git-annex >/dev/null 2>&1; }

# The demo's S3 server, on loopback, stopped when the demo stops.
start_s3() {
  rm -f "$demo/s3.ready"
  # The demo's bucket takes PUTs from web pages (the example page's indirect uploads).
  node "$here/dist/scripts/demo-s3.js" "$demo/s3" "$(cat "$demo/s3-port")" "$demo/s3.ready" \
    annexgate-demo &
  s3_pid=$!
  tries=0
  while [ ! -f "$demo/s3.ready" ]; do
    kill -0 "$s3_pid" 2>/dev/null || { echo "demo: the S3 server did not start" >&2; exit 1; }
    tries=$((tries + 1))
    [ "$tries" -le 300 ] || { echo "demo: the S3 server did not start in 30s" >&2; exit 1; }
    sleep 0.1
  done
}
stop_all() {
  [ -z "$gw_pid" ] || kill "$gw_pid" 2>/dev/null || true
  [ -z "$s3_pid" ] || kill "$s3_pid" 2>/dev/null || true
  # The demo ends when they have.
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

make_demo_cluster() {
  repo=$1
  for n in node1 node2 node3; do
    mkdir -p "$demo/$n"
    git -C "$demo/$n" init -q
    (cd "$demo/$n" && $annexgate init "demo $n")
  done
  mkdir -p "$repo"
  git -C "$repo" init -q
  git -C "$repo" config receive.denyCurrentBranch updateInstead
  (cd "$repo" && $annexgate init "annexgate demo gateway")
  printf 'A demo cluster served by annexgate.\n' >"$repo/README"
  git -C "$repo" add README
  git -C "$repo" -c user.name=annexgate -c user.email=annexgate@localhost commit -q -m "demo repository"
  for n in node1 node2 node3; do
    git -C "$repo" remote add "$n" "$demo/$n"
    git -C "$repo" config "remote.$n.annex-cluster-node" demo
  done
  # A directory special remote as a node.
  mkdir -p "$demo/directory"
  if has_git_annex; then
    (cd "$repo" && git annex initremote dirnode type=directory \
      directory="$demo/directory" encryption=none >/dev/null)
  else
    # What initremote sets in git config, which is all annexgate reads.
    git -C "$repo" config remote.dirnode.annex-uuid "$(node -e 'console.log(crypto.randomUUID())')"
    git -C "$repo" config remote.dirnode.annex-directory "$demo/directory"
  fi
  git -C "$repo" config remote.dirnode.annex-cluster-node demo
  # An S3 special remote as a node, on the demo's own S3 server.
  if has_git_annex; then
    mkdir -p "$demo/s3"
    echo "${S3_PORT:-$((port + 1))}" >"$demo/s3-port"
    start_s3
    git -C "$repo" config annex.security.allowed-ip-addresses 127.0.0.1
    (cd "$repo" && AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
      git annex initremote s3node type=S3 host=127.0.0.1 port="$(cat "$demo/s3-port")" \
      protocol=http requeststyle=path signature=v4 datacenter=us-east-1 \
      encryption=none bucket=annexgate-demo >/dev/null)
    git -C "$repo" config remote.s3node.annex-cluster-node demo
  else
    echo "demo: no git-annex here, so the demo cluster has no S3 node (it needs git-annex's initremote; sh scripts/setup-git-annex.sh installs it)" >&2
  fi
  (cd "$repo" && $annexgate initcluster demo && $annexgate updatecluster)
}

nodes=""
indirect=""
if [ $# -ge 1 ]; then
  repo=$(cd "$1" && pwd)
  shift
else
  repo="$demo/gateway"
  [ -d "$repo/.git" ] || make_demo_cluster "$repo"
  nodes="node1, node2, node3, dirnode (a directory)"
  if [ -f "$demo/s3-port" ]; then
    [ -n "$s3_pid" ] || start_s3
    nodes="$nodes, s3node (S3 on 127.0.0.1:$(cat "$demo/s3-port"))"
    indirect=--indirect-uploads
  fi
fi
# shellcheck disable=SC2086 # $indirect is one flag or nothing
[ $# -eq 0 ] && set -- --wideopen --example-page $indirect
page=""
for a in "$@"; do
  case $a in --example-page) page=yes ;; esac
done

cat <<MSG
annexgate: serving $repo on annex+http://$bind:$port/git-annex/
MSG
[ -z "$nodes" ] || echo "The demo cluster's nodes: $nodes."
cat <<MSG
Point a stock git-annex (10.20250416) clone at it:
  git clone $repo client && cd client
  git annex init
  git config remote.origin.annexUrl annex+http://$bind:$port/git-annex/
  git config annex.security.allowed-ip-addresses all   # loopback is refused otherwise
  echo hello > hello.txt && git annex add hello.txt && git commit -m hello
  git annex copy --to origin-demo && git annex whereis hello.txt   # the demo cluster: every node
  git annex copy --to origin-node2 hello.txt                        # or one node, through the gateway
(no git-annex here? sh scripts/setup-git-annex.sh installs it)
MSG
[ -z "$page" ] || echo "Or open the example upload page in a browser: http://$bind:$port/example"
cat <<MSG
Stop with Ctrl-C.
MSG
cd "$repo"
$annexgate p2phttp --bind "$bind" --port "$port" "$@" &
gw_pid=$!
wait "$gw_pid"
