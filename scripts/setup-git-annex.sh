#!/bin/sh
# Install git-annex 10.20250416 (or later) from bookworm-backports, unless a
# recent enough git-annex is already on PATH. The backports source entry is
# derived from the machine's own Debian source entry, so no package host is
# named here.
set -eu

have_recent() {
  v=$(git annex version --raw 2>/dev/null || true)
  case "$v" in
    10.2024*|10.2025*|10.2026*|1[1-9].*) return 0 ;;
  esac
  return 1
}

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

if have_recent; then
  # The ssh and https interop tests need sshd and openssl, the encrypted
  # special remote tests gpg; install them on their own when git-annex is
  # already here.
  if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null || ! command -v openssl >/dev/null \
    || ! command -v gpg >/dev/null || ! command -v gpgconf >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq openssh-server openssh-client openssl gnupg >/dev/null
  fi
  exit 0
fi

src=/etc/apt/sources.list.d/debian.sources
dst=/etc/apt/sources.list.d/annexgate-backports.sources
if [ ! -f "$dst" ]; then
  if [ -f "$src" ]; then
    # first stanza, with its Suites line replaced
    awk 'BEGIN{p=1} /^$/{exit} {print}' "$src" \
      | sed 's/^Suites:.*/Suites: bookworm-backports/' | $SUDO tee "$dst" >/dev/null
  elif [ -f /etc/apt/sources.list ]; then
    line=$(grep -m1 '^deb ' /etc/apt/sources.list)
    echo "$line" | awk '{ $3="bookworm-backports"; print }' | $SUDO tee /etc/apt/sources.list.d/annexgate-backports.list >/dev/null
  else
    echo "setup-git-annex: no Debian source entry found to derive backports from" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq -t bookworm-backports git-annex >/dev/null
# openssh-server and openssl serve the ssh and https interop tests, gnupg
# the encrypted special remote tests (and encryption=shared remotes)
$SUDO apt-get install -y -qq openssh-server openssh-client openssl gnupg >/dev/null || true
have_recent || { echo "setup-git-annex: git-annex is still too old" >&2; exit 1; }
