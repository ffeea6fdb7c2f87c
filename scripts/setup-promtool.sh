#!/bin/sh
# Install promtool, Prometheus's own checker of the metrics exposition
# format (the judge of annexgate's /metrics in the tests), unless it is
# already on PATH. Only the one program is taken out of Debian's
# prometheus package: installing the package would start a Prometheus
# server, which the tests do not want.
set -eu
if command -v promtool >/dev/null; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt fetches as its own user, which must be able to write here.
chmod 0777 "$work"
$SUDO apt-get update -qq
# apt-get download writes to the current directory, as the calling user.
(cd "$work" && apt-get download -qq prometheus >/dev/null)
dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
$SUDO install -m 0755 "$work/root/usr/bin/promtool" /usr/local/bin/promtool
promtool --version >/dev/null
