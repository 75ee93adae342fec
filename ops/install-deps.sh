#!/bin/sh
# Install the Debian packages stockpipe needs to build, test and run its demo.
# Checks each package with dpkg -s first, so a machine that has them all is not
# touched; runs apt-get update once, only when something is missing.
# Usage: ops/install-deps.sh [build|test|fuzz|deb]   (test adds the SFTP and
# PostgreSQL test servers; fuzz adds clang and its libFuzzer runtime, for
# make fuzz only; deb the Debian packaging tools, for make deb)
set -eu
pkgs="build-essential pkg-config libarchive-dev libxml2-dev libcsv-dev libssh2-1-dev
libsqlite3-dev libpq-dev libyaml-dev libssl-dev zlib1g-dev"
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
    # tests/e2e/html_report.sh and ops.sh: the run report rendered by a
    # headless Chromium (a screenshot of the page, with a font to draw
    # its text); without it those checks are skipped, not passed.
    pkgs="$pkgs chromium fonts-liberation"
fi
# tests/e2e/promql.sh: promtool from Debian's `prometheus` package. Only
# the one binary is taken out of the .deb (apt-get download + dpkg -x) and
# put in /usr/local/bin: installing the package would run its maintainer
# scripts, which add a user and start a Prometheus server listening on
# :9090 (invoke-rc.d starts it even without systemd), which a test machine
# must not get. promtool is a static Go binary that needs nothing else.
install_promtool() {
    command -v promtool >/dev/null 2>&1 && return 0
    if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/promtool.XXXXXX")
    # apt-get download wants a folder the _apt user can write to
    chmod 0777 "$tmp"
    echo "install-deps: promtool (from the prometheus .deb, binary only)" >&2
    ( cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1 ) ||
        { $SUDO apt-get update -qq &&
          ( cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1 ); } ||
        { echo "install-deps: cannot download prometheus" >&2; rm -rf "$tmp"; return 1; }
    dpkg -x "$tmp"/prometheus_*.deb "$tmp/x" &&
        $SUDO install -m 0755 "$tmp/x/usr/bin/promtool" /usr/local/bin/promtool
    rc=$?
    rm -rf "$tmp"
    return $rc
}
if [ "${1:-build}" = test ]; then
    install_promtool || echo "install-deps: promtool not installed; tests/e2e/promql.sh will skip" >&2
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
