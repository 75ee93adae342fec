# stockpipe - one non-recursive Makefile.
#
#   make            build build/stockpipe
#   make test       install missing packages, build plain and ASan+UBSan, run
#                   unit and end-to-end tests under both; ends "N passed, N failed"
#   make demo       run the pipeline on samples/ in a fresh state directory
#   make demo-sftp  the same through a private sshd on 127.0.0.1 (SFTP in/out)
#   make bench      throughput, peak memory and ratios to references per
#                   stage (BENCH_SIZES="10M 100M 1G"; not part of make test)
#   make check-crash  200 demo runs killed by SIGKILL at random moments, each
#                   resumed and checked (not part of make test; minutes)
#   make fuzz       libFuzzer harnesses (clang) into build-fuzz/
#   make fuzz-run   run each for FUZZ_SECONDS (default 60) on its corpus and
#                   seeds; make fuzz-merge adds what they found to
#                   tests/corpus/ (minimised). make test replays the corpus.
#   make install    install the binary (PREFIX=/usr/local)
#   make clean

CC       ?= cc
PREFIX   ?= /usr/local
PKGS     := libarchive libxml-2.0 libssh2 sqlite3 libpq yaml-0.1 libcrypto
WARN     := -std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Werror
DEFS     := -D_GNU_SOURCE -I.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -pthread
CFLAGS   ?= -O2 -g
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

# Two build trees: plain (build/) and sanitized (build-san/).
OBJ      := $(LIB_SRC:%.c=build/%.o)
SOBJ     := $(LIB_SRC:%.c=build-san/%.o)

.PHONY: all deps test-deps test unit e2e demo demo-sftp bench bench-sftp bench-workers install clean \
	format san check-crash fuzz fuzz-deps fuzz-run fuzz-merge replay

all: deps build/stockpipe

deps:
	@sh ops/install-deps.sh build

test-deps:
	@sh ops/install-deps.sh test

build/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(DEFS) -DSTOCKPIPE_VERSION='"$(VERSION)"' $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

build-san/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(DEFS) -DSTOCKPIPE_VERSION='"$(VERSION)"' -DSTOCKPIPE_TEST_HOOKS $(SAN) $(PKG_CFLAGS) -c $< -o $@

build/stockpipe: build/pipeline/cli/main.o $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

build-san/stockpipe: build-san/pipeline/cli/main.o $(SOBJ)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

# The unit-test runner: tests/unit/list.h is generated from T_TEST() lines
# (libarchive's DEFINE_TEST idea), so adding a test is adding a function.
build/tests/list.h: $(TEST_SRC)
	@mkdir -p $(dir $@)
	@grep -h '^T_TEST(' $(TEST_SRC) > $@.tmp; mv $@.tmp $@

build/unit: tests/unit/main.c tests/unit/t.h $(TEST_SRC) build/tests/list.h $(OBJ)
	$(CC) $(WARN) $(DEFS) $(CFLAGS) $(PKG_CFLAGS) -Ibuild/tests -o $@ tests/unit/main.c $(TEST_SRC) $(OBJ) $(PKG_LIBS)

build-san/unit: tests/unit/main.c tests/unit/t.h $(TEST_SRC) build/tests/list.h $(SOBJ)
	@mkdir -p build-san
	$(CC) $(WARN) $(DEFS) -DSTOCKPIPE_TEST_HOOKS $(SAN) $(PKG_CFLAGS) -Ibuild/tests -o $@ tests/unit/main.c $(TEST_SRC) $(SOBJ) $(PKG_LIBS)

san: build-san/stockpipe build-san/unit

# The LD_PRELOAD fault shim of tests/e2e/faults.sh (ENOSPC/EIO on chosen
# write, fsync, rename and close calls).
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

bench: all
	@sh tests/bench/bench.sh build/stockpipe
	@bash tests/bench/sftp_bench.sh build/stockpipe
	@bash tests/bench/workers_bench.sh build/stockpipe

bench-workers: all
	@bash tests/bench/workers_bench.sh build/stockpipe

bench-sftp: all
	@bash tests/bench/sftp_bench.sh build/stockpipe

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 build/stockpipe $(DESTDIR)$(PREFIX)/bin/stockpipe

format:
	clang-format -i $(LIB_SRC) pipeline/cli/main.c $(HDRS)

clean:
	rm -rf build build-san build-fuzz
