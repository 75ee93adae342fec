# stockpipe - one non-recursive Makefile.
#
#   make            build build/stockpipe
#   make test       install missing packages, build plain and ASan+UBSan, run
#                   unit and end-to-end tests under both; ends "N passed, N failed"
#   make demo       run the pipeline on samples/ in a fresh state directory
#   make demo-sftp  the same through a private sshd on 127.0.0.1 (SFTP in/out)
#   make bench      throughput, peak memory and ratios to references per
#                   stage (BENCH_SIZES="10M 100M 1G"; not part of make test)
#   make bench-scale  a 1/100 retailer's day checked against the scale
#                   model of docs/scaling.md (minutes; not part of make test)
#   make check-crash  200 demo runs killed by SIGKILL at random moments, each
#                   resumed and checked (not part of make test; minutes)
#   make fuzz       libFuzzer harnesses (clang) into build-fuzz/
#   make fuzz-run   run each for FUZZ_SECONDS (default 60) on its corpus and
#                   seeds; make fuzz-merge adds what they found to
#                   tests/corpus/ (minimised). make test replays the corpus.
#   make install    install the binary, man pages, completions, units,
#                   sysusers/tmpfiles entries and examples (DESTDIR,
#                   PREFIX=/usr/local; builds nothing but build/stockpipe
#                   and the man pages, never runs apt-get)
#   make deb        the Debian package (dpkg-buildpackage -us -uc -b) into ..
#   make clean
#
# Flags: CFLAGS, CPPFLAGS and LDFLAGS from the environment (as
# dpkg-buildflags sets them) replace the hardened defaults below for the
# plain build; the project's warnings and defines are always added.
# WERROR=0 (packagers) drops -Werror. The sanitized and fuzz builds keep
# their own flags: no _FORTIFY_SOURCE there (ASan intercepts the same
# calls) and no -z now (no shipped binary).

CC       ?= cc
PREFIX   ?= /usr/local
PKGS     := libarchive libxml-2.0 libssh2 sqlite3 libpq yaml-0.1 libcrypto zlib
WERROR   ?= 1
WARN     := -std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wvla \
            $(if $(filter 1,$(WERROR)),-Werror)
DEFS     := -D_GNU_SOURCE -I.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -pthread
CFLAGS   ?= -O2 -g -fstack-protector-strong -fstack-clash-protection -fPIE
CPPFLAGS ?= -D_FORTIFY_SOURCE=2
LDFLAGS  ?= -pie -Wl,-z,relro,-z,now
SAN      := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# The layers, bottom up (docs/architecture.md): lib/ includes only lib/;
# transforms/ and connectors/ include lib/ and themselves; pipeline/ may
# include them all. Headers are named from the top folder (-I.).
SRC_DIRS := lib transforms/model transforms/formats transforms/mapping \
            transforms/outbound connectors pipeline/store pipeline/stages \
            pipeline/report pipeline pipeline/cli
LIB_SRC  := $(sort $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c)))
LIB_SRC  := $(filter-out pipeline/cli/main.c,$(LIB_SRC))
HDRS     := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.h))
TEST_SRC := $(sort $(wildcard tests/unit/t_*.c))
# t.h and the helpers tests share (t_edi.h, t_store.h: t_store.c is in
# TEST_SRC, a file of helpers without T_TEST lines)
TEST_HDRS := $(wildcard tests/unit/*.h)

# Two build trees: plain (build/) and sanitized (build-san/).
OBJ      := $(LIB_SRC:%.c=build/%.o)
SOBJ     := $(LIB_SRC:%.c=build-san/%.o)

.PHONY: all deps test-deps test unit e2e demo demo-sftp bench bench-sftp bench-workers install clean \
	man install-strip deb \
	format san check-crash fuzz fuzz-deps fuzz-run fuzz-merge replay

all: deps build/stockpipe

deps:
	@sh ops/install-deps.sh build

test-deps:
	@sh ops/install-deps.sh test

build/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(DEFS) -DSTOCKPIPE_VERSION='"$(VERSION)"' $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

build-san/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(DEFS) -DSTOCKPIPE_VERSION='"$(VERSION)"' -DSTOCKPIPE_TEST_HOOKS $(SAN) $(PKG_CFLAGS) -c $< -o $@

build/stockpipe: build/pipeline/cli/main.o $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

build-san/stockpipe: build-san/pipeline/cli/main.o $(SOBJ)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

# The unit-test runner: tests/unit/list.h is generated from T_TEST() lines
# (libarchive's DEFINE_TEST idea), so adding a test is adding a function.
build/tests/list.h: $(TEST_SRC)
	@mkdir -p $(dir $@)
	@grep -h '^T_TEST(' $(TEST_SRC) > $@.tmp; mv $@.tmp $@

build/unit: tests/unit/main.c $(TEST_HDRS) $(TEST_SRC) build/tests/list.h $(OBJ)
	$(CC) $(WARN) $(DEFS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(PKG_CFLAGS) -Ibuild/tests -o $@ tests/unit/main.c $(TEST_SRC) $(OBJ) $(PKG_LIBS)

build-san/unit: tests/unit/main.c $(TEST_HDRS) $(TEST_SRC) build/tests/list.h $(SOBJ)
	@mkdir -p build-san
	$(CC) $(WARN) $(DEFS) -DSTOCKPIPE_TEST_HOOKS $(SAN) $(PKG_CFLAGS) -Ibuild/tests -o $@ tests/unit/main.c $(TEST_SRC) $(SOBJ) $(PKG_LIBS)

san: build-san/stockpipe build-san/unit

# The LD_PRELOAD fault shim of tests/e2e/faults.sh (ENOSPC/EIO on chosen
# write, fsync, rename, link and close calls).
build/libinject_io.so: tests/fault/inject_io.c
	@mkdir -p build
	$(CC) -std=c11 -Wall -Wextra -Wshadow -Werror -O2 -fPIC -shared -o $@ $< -ldl

# Fuzzing (tests/fuzz/, docs/architecture.md "Fuzzing"). One harness per
# input format; each is linked twice: with libFuzzer under clang
# (build-fuzz/fuzz_FMT, make fuzz) and with tests/fuzz/replay.c under the
# gcc ASan+UBSan objects (build-san/fuzz/replay_FMT), which make test runs
# over tests/corpus/FMT/. --wrap=read lets a harness cut the readers'
# read(2) calls short.
FUZZ_NAMES := x12 edifact xml csv unpack ytree canon dec_dt map config
FUZZ_UTIL  := tests/fuzz/fuzz_util.c
FUZZ_HDRS  := $(wildcard tests/fuzz/*.h)
FUZZ_CC    ?= clang
FUZZ_SAN   := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60
FOBJ       := $(LIB_SRC:%.c=build-fuzz/obj/%.o)
REPLAY     := $(FUZZ_NAMES:%=build-san/fuzz/replay_%)
# Keep the clang objects between harness builds (make deletes the
# intermediates of a pattern chain otherwise).
.SECONDARY: $(FOBJ)

fuzz-deps:
	@sh ops/install-deps.sh fuzz

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_NAMES:%=build-fuzz/fuzz_%)

build-fuzz/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(WARN) $(DEFS) -DSTOCKPIPE_VERSION='"$(VERSION)"' $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -c $< -o $@

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_UTIL) $(FUZZ_HDRS) $(FOBJ)
	$(FUZZ_CC) $(WARN) $(DEFS) $(FUZZ_SAN) -fsanitize=fuzzer $(PKG_CFLAGS) -Wl,--wrap=read -o $@ $< $(FUZZ_UTIL) $(FOBJ) $(PKG_LIBS)

build-san/fuzz/replay_%: tests/fuzz/replay.c tests/fuzz/fuzz_%.c $(FUZZ_UTIL) $(FUZZ_HDRS) $(SOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(DEFS) -DSTOCKPIPE_TEST_HOOKS $(SAN) $(PKG_CFLAGS) -Wl,--wrap=read -o $@ tests/fuzz/replay.c tests/fuzz/fuzz_$*.c $(FUZZ_UTIL) $(SOBJ) $(PKG_LIBS)

replay: $(REPLAY)

fuzz-run: fuzz
	@sh tests/fuzz/run.sh run $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-merge: fuzz
	@sh tests/fuzz/run.sh merge 0 $(FUZZ_NAMES)

# The plain build runs without test hooks; crash tests need the hooks, so
# the end-to-end suite runs against the sanitized build, which has both.
test: test-deps build/stockpipe build/unit build-san/stockpipe build-san/unit \
	build/libinject_io.so $(REPLAY)
	@sh tests/run-all.sh

check-crash: test-deps build/stockpipe
	@bash tests/e2e/random_kill.sh build/stockpipe 200 1

unit: build/unit
	@build/unit

demo: all
	@sh samples/demo.sh build/stockpipe

demo-sftp: all
	@bash samples/demo-sftp.sh build/stockpipe

# The workers' target (2 PostgreSQL workers >= 1.6x one on a drop of
# several hundred files) is measured on 300 files, medians of 3, twice:
# each store's count its own file (per-store, as stores send them) and
# every file over all stores (mixed: every pair of loads shares positions).
WBENCH_TARGET = WBENCH_MB=20 WBENCH_FILES=300 WBENCH_WORKERS="1 2" \
	WBENCH_BACKENDS=postgres WBENCH_REPEAT=3

bench: all
	@sh tests/bench/bench.sh build/stockpipe
	@bash tests/bench/sftp_bench.sh build/stockpipe
	@$(MAKE) --no-print-directory bench-workers

bench-workers: all
	@bash tests/bench/workers_bench.sh build/stockpipe
	@$(WBENCH_TARGET) WBENCH_SHAPE=per-store \
		bash tests/bench/workers_bench.sh build/stockpipe
	@$(WBENCH_TARGET) WBENCH_SHAPE=mixed \
		bash tests/bench/workers_bench.sh build/stockpipe

bench-sftp: all
	@bash tests/bench/sftp_bench.sh build/stockpipe

# A retailer's day at 1/100 of docs/scaling.md's model, checked against
# the model (minutes; not part of make test or make bench).
.PHONY: bench-scale
bench-scale: all
	@bash tests/bench/scale.sh build/stockpipe

# Packaging (docs/operations.md "Installing"). The subcommand pages are
# made from the binary's own --help (docs/man/help2roff.sh); the other
# three are written by hand. BINDIR is also written into the service's
# ExecStart. install does not strip (dh_strip keeps the debug symbols in
# stockpipe-dbgsym); install-strip does.
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/stockpipe
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
MAN_DATE    := $(shell date -u $(if $(SOURCE_DATE_EPOCH),-d @$(SOURCE_DATE_EPOCH)) +%Y-%m-%d)
MAN_IN      := $(wildcard docs/man/*.in)

build/man/stamp: build/stockpipe docs/man/help2roff.sh $(MAN_IN)
	@rm -rf build/man && mkdir -p build/man
	sh docs/man/help2roff.sh build/stockpipe build/man $(VERSION)
	for f in $(MAN_IN); do \
		sed -e 's/@VERSION@/$(VERSION)/g' -e 's/@DATE@/$(MAN_DATE)/g' \
			$$f > build/man/$$(basename $$f .in) || exit 1; \
	done
	@touch $@

man: build/man/stamp

install: build/stockpipe build/man/stamp
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(DOCDIR)/examples
	install -m 755 build/stockpipe $(DESTDIR)$(BINDIR)/stockpipe
	install -m 644 build/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 build/man/*.5 $(DESTDIR)$(MANDIR)/man5/
	sed 's|/usr/bin/stockpipe|$(BINDIR)/stockpipe|' ops/systemd/stockpipe.service \
		> $(DESTDIR)$(UNITDIR)/stockpipe.service
	chmod 644 $(DESTDIR)$(UNITDIR)/stockpipe.service
	install -m 644 ops/systemd/stockpipe.timer $(DESTDIR)$(UNITDIR)/
	install -m 644 ops/systemd/stockpipe.sysusers $(DESTDIR)$(SYSUSERSDIR)/stockpipe.conf
	install -m 644 ops/systemd/stockpipe.tmpfiles $(DESTDIR)$(TMPFILESDIR)/stockpipe.conf
	install -m 644 ops/completion/stockpipe.bash $(DESTDIR)$(BASHCOMPDIR)/stockpipe
	install -m 644 ops/completion/_stockpipe $(DESTDIR)$(ZSHCOMPDIR)/_stockpipe
	install -m 644 docs/*.md README.md $(DESTDIR)$(DOCDIR)/
	install -m 644 ops/cron/stockpipe.crontab $(DESTDIR)$(DOCDIR)/examples/
	cp -R mappings $(DESTDIR)$(DOCDIR)/examples/mappings
	mkdir -p $(DESTDIR)$(DOCDIR)/examples/samples
	cp -R samples/stockpipe.yaml samples/drop samples/edi samples/xml \
		samples/updates $(DESTDIR)$(DOCDIR)/examples/samples/
	chmod -R u=rwX,go=rX $(DESTDIR)$(DOCDIR)/examples

install-strip: install
	strip --strip-unneeded $(DESTDIR)$(BINDIR)/stockpipe

# The Debian package, built from a copy of this tree in build-deb/ (so
# debian/rules clean cannot wipe build/ and build-san/); the .deb files
# land in build-deb/. Checks lintian's verdict: no E: line.
deb:
	@sh ops/install-deps.sh deb
	rm -rf build-deb && mkdir -p build-deb/stockpipe-$(VERSION)
	tar -cf - --exclude=./build --exclude=./build-san --exclude=./build-fuzz \
		--exclude=./build-deb --exclude=./.git . | \
		tar -xf - -C build-deb/stockpipe-$(VERSION)
	cd build-deb/stockpipe-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error build-deb/*.changes

format:
	clang-format -i $(LIB_SRC) pipeline/cli/main.c $(HDRS)

clean:
	rm -rf build build-san build-fuzz build-deb
