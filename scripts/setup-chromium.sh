#!/bin/sh
# Install Debian's chromium, which the tests of web pages drive headless
# (the sim report's HTML page), unless it is already on PATH.
set -eu
if command -v chromium >/dev/null; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
