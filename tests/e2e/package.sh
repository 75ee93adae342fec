#!/bin/bash
# The Debian package and what it installs (issue 19 items 1 and 2, issue
# 18 item 7):
#   - the binary under test is hardened (hardening-check: PIE, stack
#     protector, fortify, full RELRO, BIND_NOW; not CET: bookworm's crt
#     files have no CET note, so no binary here can have it);
#   - `make install DESTDIR= PREFIX=` puts everything under DESTDIR,
#     writes BINDIR into the service, and never runs apt-get;
#   - dpkg-buildpackage builds the .deb from a copy of this tree (as
#     `make deb` does), lintian reports no error, and `dpkg -x` shows the
#     stripped binary (its symbols in stockpipe-dbgsym), a man page for
#     stockpipe(1), each subcommand of `stockpipe --help`, stockpipe.yaml(5)
#     and stockpipe-mapping(5), each rendered by man without a warning,
#     bash and zsh completion knowing every command, the units
#     (systemd-analyze security --offline <= 2.0, verify clean), sysusers
#     and tmpfiles entries, and the examples.
# Runs once, with the plain binary: the package ships the plain build, and
# the ASan build is not hardened on purpose (Makefile, "Flags").
# Tools it cannot get (ops/install-deps.sh test installs them) are skips
# with the reason. SP_PACKAGE_JOBS (default 2): make jobs for the build.
# usage: tests/e2e/package.sh BINARY     prints "N passed, N failed, N skipped"
set -u
. "$(dirname "$0")/lib.sh"
t_init "$1"
cd "$SRCDIR" || exit 70
VERSION=$(cat VERSION)

have() { command -v "$1" >/dev/null 2>&1; }

if ldd "$BIN" 2>/dev/null | grep -q 'libasan'; then
	skip "package: checked with the plain binary only (the ASan build is not the one packaged)"
	t_done
	exit
fi

# The commands `stockpipe --help` lists: the man pages and completions
# must cover each.
CMDS=$("$BIN" --help 2>&1 | awk '/^commands:/ {on = 1; next}
	on && /^$/ {exit}
	on {print $1}')
if [ "$(echo "$CMDS" | wc -w)" -ge 10 ]; then
	pass "stockpipe --help lists $(echo "$CMDS" | wc -w) commands"
else
	fail "stockpipe --help lists too few commands: $CMDS"
fi

# --- hardening of the binary under test (plain build, Makefile defaults)
if have hardening-check; then
	check "hardening-check $(basename "$BIN"): PIE, stack protector, fortify, RELRO, BIND_NOW" \
		hardening-check --nocfprotection "$BIN"
else
	skip "hardening-check: not installed (devscripts; ops/install-deps.sh test)"
fi
if readelf -d "$BIN" | grep -q 'FLAGS.*BIND_NOW' &&
	readelf -l "$BIN" | grep -q GNU_RELRO &&
	readelf -h "$BIN" | grep -q 'DYN (Position-Independent'; then
	pass "readelf: BIND_NOW, GNU_RELRO, PIE"
else
	fail "readelf: BIND_NOW, GNU_RELRO or PIE missing"
fi

# --- the completions know every command
for c in $CMDS; do
	grep -qw -- "$c" ops/completion/stockpipe.bash || fail "bash completion lacks '$c'"
	grep -q -- "'$c:" ops/completion/_stockpipe || fail "zsh completion lacks '$c'"
done
pass "completions list every command"
check "bash -n ops/completion/stockpipe.bash" bash -n ops/completion/stockpipe.bash
if have zsh; then
	check "zsh -n ops/completion/_stockpipe" zsh -n ops/completion/_stockpipe
else
	skip "zsh -n: zsh not installed (ops/install-deps.sh test)"
fi
# The completion works in a real bash: `stockpipe q<TAB>` is quarantine.
if [ -f /usr/share/bash-completion/bash_completion ]; then
	got=$(bash -c '. /usr/share/bash-completion/bash_completion
		. ops/completion/stockpipe.bash
		COMP_WORDS=(stockpipe -c x.yaml qu); COMP_CWORD=3
		COMP_LINE="stockpipe -c x.yaml qu"; COMP_POINT=${#COMP_LINE}
		_stockpipe; echo "${COMPREPLY[*]}"' 2>&1)
	if [ "$got" = quarantine ]; then
		pass "bash completion: 'stockpipe -c x.yaml qu' -> quarantine"
	else
		fail "bash completion: 'stockpipe -c x.yaml qu' gave '$got'"
	fi
else
	skip "bash completion run: bash-completion not installed"
fi

# --- make install: DESTDIR and PREFIX, no apt-get. A fake apt-get first
# in PATH records any call.
d=$(t_tmpdir install)
mkdir -p "$d/fakebin"
printf '#!/bin/sh\necho "$0 $*" >>%s/apt-called\nexit 1\n' "$d" >"$d/fakebin/apt-get"
cp "$d/fakebin/apt-get" "$d/fakebin/sudo"
chmod +x "$d/fakebin/apt-get" "$d/fakebin/sudo"
if make -q build/stockpipe 2>/dev/null; then
	check "make install DESTDIR=... PREFIX=/opt/sp" \
		env PATH="$d/fakebin:$PATH" make --no-print-directory install \
		DESTDIR="$d/root" PREFIX=/opt/sp
	if [ -e "$d/apt-called" ]; then
		fail "make install ran apt-get: $(cat "$d/apt-called")"
	else
		pass "make install ran no apt-get"
	fi
	if [ -x "$d/root/opt/sp/bin/stockpipe" ] &&
		[ -f "$d/root/opt/sp/share/man/man1/stockpipe-run.1" ] &&
		[ -f "$d/root/opt/sp/lib/systemd/system/stockpipe.timer" ] &&
		grep -q '^ExecStart=/opt/sp/bin/stockpipe ' \
			"$d/root/opt/sp/lib/systemd/system/stockpipe.service" &&
		[ "$(find "$d/root" -mindepth 1 -maxdepth 1)" = "$d/root/opt" ]; then
		pass "make install: everything under DESTDIR/PREFIX, ExecStart=/opt/sp/bin/stockpipe"
	else
		fail "make install: files missing or outside DESTDIR/PREFIX"
		find "$d/root" | head -n 20 | sed 's/^/    /'
	fi
else
	skip "make install: build/stockpipe is not up to date (make build/stockpipe first)"
fi

# --- the .deb, from a copy of the tree (as make deb does)
for t in dpkg-buildpackage dh lintian; do
	if ! have $t; then
		skip "the .deb: $t not installed (ops/install-deps.sh test)"
		t_done
		exit
	fi
done
src=$T_TMP/deb/stockpipe-$VERSION
mkdir -p "$src"
tar -cf - --exclude=./build --exclude=./build-san --exclude=./build-fuzz \
	--exclude=./build-deb --exclude=./.git . | tar -xf - -C "$src"
start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=${SP_PACKAGE_JOBS:-2}" \
	dpkg-buildpackage -us -uc -b) >"$T_TMP/deb/build.log" 2>&1
rc=$?
deb=$(ls "$T_TMP"/deb/stockpipe_"$VERSION"_*.deb 2>/dev/null | head -n 1)
dbg=$(ls "$T_TMP"/deb/stockpipe-dbgsym_"$VERSION"_*.*deb 2>/dev/null | head -n 1)
if [ "$rc" = 0 ] && [ -n "$deb" ]; then
	pass "dpkg-buildpackage -us -uc -b: $(basename "$deb") ($(($(date +%s) - start))s)"
else
	fail "dpkg-buildpackage (exit $rc)"
	tail -n 30 "$T_TMP/deb/build.log" | sed 's/^/    | /'
	t_done
	exit
fi
[ -n "$dbg" ] && dpkg -c "$dbg" >"$T_TMP/deb/dbgsym-files"
if [ -n "$dbg" ] && grep -q '/usr/lib/debug/.build-id/.*\.debug$' "$T_TMP/deb/dbgsym-files"; then
	pass "debug symbols in $(basename "$dbg")"
else
	fail "no stockpipe-dbgsym package with /usr/lib/debug/.build-id/*.debug"
fi

lintian --fail-on error --display-info "$T_TMP"/deb/*.changes >"$T_TMP/deb/lintian" 2>&1
rc=$?
if [ "$rc" = 0 ] && ! grep -q '^E:' "$T_TMP/deb/lintian"; then
	pass "lintian: no error ($(grep -c '^W:' "$T_TMP/deb/lintian") warnings, $(grep -c '^I:' "$T_TMP/deb/lintian") info)"
else
	fail "lintian (exit $rc)"
fi
sed 's/^/    | /' "$T_TMP/deb/lintian"

root=$T_TMP/root
dpkg -x "$deb" "$root"
(cd "$root" && find . ! -type d | sort) >"$T_TMP/deb/files"
missing=""
for f in usr/bin/stockpipe \
	usr/share/man/man1/stockpipe.1.gz \
	usr/share/man/man5/stockpipe.yaml.5.gz \
	usr/share/man/man5/stockpipe-mapping.5.gz \
	usr/share/bash-completion/completions/stockpipe \
	usr/share/zsh/vendor-completions/_stockpipe \
	lib/systemd/system/stockpipe.service \
	lib/systemd/system/stockpipe.timer \
	usr/lib/sysusers.d/stockpipe.conf \
	usr/lib/tmpfiles.d/stockpipe.conf \
	usr/share/doc/stockpipe/copyright \
	usr/share/doc/stockpipe/examples/stockpipe.crontab \
	usr/share/doc/stockpipe/examples/samples/stockpipe.yaml \
	usr/share/doc/stockpipe/examples/mappings/stores/store_stock_csv.yaml; do
	[ -f "$root/$f" ] || missing="$missing $f"
done
for c in $CMDS; do
	[ -f "$root/usr/share/man/man1/stockpipe-$c.1.gz" ] ||
		missing="$missing usr/share/man/man1/stockpipe-$c.1.gz"
done
if [ -z "$missing" ]; then
	pass "dpkg -x: binary, $(ls "$root"/usr/share/man/man*/*.gz | wc -l) man pages, completions, units, sysusers, tmpfiles, examples"
else
	fail "dpkg -x: missing$missing"
fi
if readelf -S "$root/usr/bin/stockpipe" | grep -q '\.debug_info'; then
	fail "usr/bin/stockpipe is not stripped"
else
	pass "usr/bin/stockpipe is stripped"
fi
if have hardening-check; then
	check "hardening-check on the packaged binary" \
		hardening-check --nocfprotection "$root/usr/bin/stockpipe"
fi
grep -q '^u stockpipe ' "$root/usr/lib/sysusers.d/stockpipe.conf" &&
	grep -q '^d /var/lib/stockpipe 0750 stockpipe stockpipe' \
		"$root/usr/lib/tmpfiles.d/stockpipe.conf" &&
	pass "sysusers: user stockpipe; tmpfiles: /var/lib/stockpipe" ||
	fail "sysusers/tmpfiles entries"
dpkg -I "$deb" postinst 2>/dev/null | grep -q 'systemd-sysusers' &&
	pass "postinst creates the user (systemd-sysusers)" ||
	fail "postinst does not run systemd-sysusers"

# --- man pages render without warnings
if have man; then
	bad=0
	for p in "$root"/usr/share/man/man*/*.gz; do
		out=$(MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
		if [ -n "$out" ]; then
			fail "man -l $(basename "$p"): $out"
			bad=1
		fi
		MANWIDTH=80 man -l "$p" 2>/dev/null | grep -q . ||
			{ fail "man -l $(basename "$p") rendered nothing"; bad=1; }
	done
	[ "$bad" = 0 ] && pass "man -l --warnings: every page renders, no warning"
	MANWIDTH=80 man -l "$root/usr/share/man/man1/stockpipe-run.1.gz" 2>/dev/null |
		grep -q -- '--targets-only' &&
		pass "stockpipe-run(1) documents --targets-only" ||
		fail "stockpipe-run(1) lacks --targets-only"
else
	skip "man pages: man not installed (man-db)"
fi

# --- the units
if have systemd-analyze; then
	score=$(systemd-analyze security --offline=true --root="$root" \
		stockpipe.service 2>&1 | sed -n 's/.*Overall exposure level for stockpipe.service: \([0-9.]*\).*/\1/p')
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN {exit !(s <= 2.0)}'; then
		pass "systemd-analyze security --offline: $score (<= 2.0)"
	else
		fail "systemd-analyze security --offline: '$score' (want <= 2.0)"
	fi
	# verify --root needs the units ours depend on (sysinit.target...)
	# inside the root: the host's, next to the package's. MANPATH lets it
	# check Documentation=man:... against the package's pages.
	v=$T_TMP/vroot
	mkdir -p "$v/usr/bin" "$v/lib/systemd" "$v/usr/lib/systemd"
	cp -R /lib/systemd/system "$v/lib/systemd/"
	[ -d /usr/lib/systemd/system ] && cp -R /usr/lib/systemd/system "$v/usr/lib/systemd/"
	cp "$root"/lib/systemd/system/stockpipe.* "$v/lib/systemd/system/"
	cp "$root/usr/bin/stockpipe" "$v/usr/bin/"
	MANPATH=$root/usr/share/man t_run systemd-analyze verify --root="$v" \
		/lib/systemd/system/stockpipe.service /lib/systemd/system/stockpipe.timer
	if [ "$T_RC" = 0 ] && [ ! -s "$T_ERR" ] && [ ! -s "$T_OUT" ]; then
		pass "systemd-analyze verify: service and timer clean"
	else
		fail "systemd-analyze verify (exit $T_RC)"
		t_show
	fi
else
	skip "units: systemd-analyze not installed (systemd)"
fi
svc=$root/lib/systemd/system/stockpipe.service
if ! grep -q '^\[Install\]' "$svc" && grep -q '^WantedBy=timers.target' \
	"$root/lib/systemd/system/stockpipe.timer"; then
	pass "the service has no [Install] (started by the timer only)"
else
	fail "the service has an [Install] section or the timer none"
fi
for kv in 'Type=oneshot' 'TimeoutStartSec=' 'Restart=on-failure' \
	'RestartPreventExitStatus=64 70 78' 'SuccessExitStatus=1 99' \
	'UMask=0027' 'ProtectSystem=strict' 'NoNewPrivileges=yes' \
	'SystemCallFilter=@system-service' 'StateDirectory=stockpipe' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
	'CapabilityBoundingSet=$' 'ExecStart=/usr/bin/stockpipe .*--skip-exit-code 99 run'; do
	grep -q "^$kv" "$svc" || fail "stockpipe.service lacks $kv"
done
pass "stockpipe.service: oneshot, timeouts, restart policy, exit statuses, sandbox"

t_done
