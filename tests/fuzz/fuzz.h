/* fuzz.h - helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * Each harness defines LLVMFuzzerTestOneInput() and is linked two ways:
 * with clang -fsanitize=fuzzer (make fuzz, build-fuzz/) and with
 * tests/fuzz/replay.c under gcc's ASan+UBSan build (make test replays
 * tests/corpus/<fmt>/). Both links pass -Wl,--wrap=read so the harness
 * can make the readers see short reads (reliability.md 6: "random
 * chunking simulates short reads") without threads or real files.
 *
 * Conventions: the first input byte of the reader harnesses is an option
 * byte (chunk size, bounds, flags), the rest is the document; byte 0x00
 * means "production defaults". Seeds from samples/ get a 0x00 prefix
 * (make fuzz-run does that). Invariant violations abort() with a message:
 * the fuzzer and the replay driver report them as crashes.
 */
#ifndef STOCKPIPE_FUZZ_H
#define STOCKPIPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with file:line and the failed condition. */
#define FZ_CHECK(cond)                                                     \
	do {                                                               \
		if (!(cond))                                               \
			fz_fail(__FILE__, __LINE__, #cond);                \
	} while (0)
void fz_fail(const char *file, int line, const char *what)
	__attribute__((noreturn));

/* A memfd holding data[0..n), positioned at 0; -1 on failure. Reads
 * through it are cut to the current chunk size (fz_set_chunk). */
int fz_memfd(const void *data, size_t n);
/* Caps every read(2) on fd at chunk bytes (0 = no cap) until the next
 * call; fd -1 turns the cap off. */
void fz_set_chunk(int fd, size_t chunk);
/* Chunk sizes selected by 3 bits of an option byte: 0 = unlimited. */
size_t fz_chunk_from_bits(unsigned bits);

/* A private temporary directory, made once per process and removed with
 * everything in it at exit. */
const char *fz_tmpdir(void);
/* Writes data to path (created/truncated); 0 or -1. */
int fz_write_file(const char *path, const void *data, size_t n);
/* Removes everything inside dir (not dir itself). */
void fz_empty_dir(const char *dir);

#endif
