#!/bin/sh
# Install the Debian packages stockpipe needs to build, test and run its demo.
# Checks each package with dpkg -s first, so a machine that has them all is not
# touched; runs apt-get update once, only when something is missing.
# Usage: ops/install-deps.sh [build|test|fuzz|deb]   (test adds the SFTP and
# PostgreSQL test servers; fuzz adds clang and its libFuzzer runtime, for
# make fuzz only; deb the Debian packaging tools, for make deb)
set -eu
pkgs="build-essential pkg-config libarchive-dev libxml2-dev libcsv-dev libssh2-1-dev
libsqlite3-dev libpq-dev libyaml-dev libssl-dev"
if [ "${1:-build}" = test ]; then
    # postgresql: the server tests/e2e/postgres.sh starts privately
    # (its own cluster on 127.0.0.1; the system's cluster is not used).
    pkgs="$pkgs openssh-server openssh-client sqlite3 python3 zip unzip time
postgresql"
fi
if [ "${1:-build}" = fuzz ]; then
    pkgs="$pkgs clang libclang-rt-14-dev"
fi
if [ "${1:-build}" = deb ] || [ "${1:-build}" = test ]; then
    # make deb and tests/e2e/package.sh: dpkg-buildpackage, dh, lintian.
    pkgs="$pkgs dpkg-dev debhelper lintian"
fi
if [ "${1:-build}" = test ]; then
    # tests/e2e/package.sh: hardening-check (devscripts), man -l (man-db),
    # systemd-analyze (systemd), zsh -n, the bash completion's helpers.
    pkgs="$pkgs devscripts man-db groff-base systemd zsh bash-completion"
fi
missing=""
for p in $pkgs; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
