/* fuzz_canon.c - libFuzzer harness for the canonical JSONL line parser
 * (canon_from_jsonl) and its writer. Corpus: tests/corpus/canon/.
 *
 * The input is split at '\n'; each line is copied into a buffer of
 * exactly its length (no terminator, as a reader's window would hand it),
 * so a parser that looks past n is caught by ASan.
 * Invariants: a parsed record writes out as a line that parses back to a
 * record writing out the same bytes (round trip); so does a record after
 * canon_validate() succeeded; errors carry a code; the fast reader takes
 * only lines the general one reads, into the same record.
 */
#include <stdlib.h>
#include <string.h>

#include "transforms/model/canon.h"
#include "fuzz.h"

static void round_trip(const struct canon_record *r, struct arena *a)
{
	struct buf b1 = BUF_INIT(1 << 24), b2 = BUF_INIT(1 << 24);
	struct canon_record r2;
	struct err err = ERR_INIT;
	char *copy;

	FZ_CHECK(canon_to_jsonl(r, &b1) == 0);
	FZ_CHECK(b1.len > 0 && b1.ptr[b1.len - 1] == '\n');
	copy = malloc(b1.len);
	FZ_CHECK(copy != NULL);
	memcpy(copy, b1.ptr, b1.len);
	FZ_CHECK(canon_from_jsonl(copy, b1.len, &r2, a, &err) == 0);
	FZ_CHECK(canon_to_jsonl(&r2, &b2) == 0);
	FZ_CHECK(b1.len == b2.len && !memcmp(b1.ptr, b2.ptr, b1.len));
	free(copy);
	buf_release(&b1);
	buf_release(&b2);
}

static int same_str(const char *x, const char *y)
{
	return x == y || (x && y && !strcmp(x, y));
}

/* canon_from_jsonl_fast against canon_from_jsonl_general on one line. */
static void fast_agrees(const char *line, size_t n, struct arena *a)
{
	struct canon_record f, g;
	struct err err = ERR_INIT;
	int rg = canon_from_jsonl_general(line, n, &g, a, &err),
	    rf = canon_from_jsonl_fast(line, n, &f, a);
	size_t i;

	FZ_CHECK(rf == 0 || rf == 1);
	if (rf)
		return;
	FZ_CHECK(rg == 0);
	FZ_CHECK(f.kind == g.kind && f.lin.line == g.lin.line);
	FZ_CHECK(same_str(f.lin.source, g.lin.source) &&
		 same_str(f.lin.file, g.lin.file) &&
		 same_str(f.lin.where, g.lin.where));
	for (i = 0; i < CANON_MAX_FIELDS; i++)
		FZ_CHECK(same_str(f.v[i], g.v[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct arena a;

	arena_init(&a, 0, 0);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct canon_record r;
		struct err err = ERR_INIT;
		char *line = malloc(n ? n : 1);

		FZ_CHECK(line != NULL);
		memcpy(line, p, n);
		fast_agrees(line, n, &a);
		if (canon_from_jsonl(line, n, &r, &a, &err) == 0) {
			FZ_CHECK(err.code == E_NONE);
			round_trip(&r, &a);
			if (canon_validate(&r, &a, &err) == 0)
				round_trip(&r, &a);
			else
				FZ_CHECK(err.code != E_NONE);
		} else {
			FZ_CHECK(err.code != E_NONE);
		}
		free(line);
		arena_reset(&a);
		p += n + (nl != NULL);
	}
	arena_release(&a);
	return 0;
}
