/* fuzz_map.c - libFuzzer harness at the mapping-driver level: one input
 * document run through a fixed mapping from mappings/ by mapping_run()
 * into canonical records, as the map stage does (EDI set -> mapping ->
 * records, and the CSV and XML drivers through the same entry point).
 * Corpus: tests/corpus/map/.
 *
 * Option byte (first input byte; the rest is the document):
 *	bits 0-4  which mapping (maps[], modulo its length)
 *	bit  5    the interchange() hook skips every second interchange
 *	bit  6    no file facts ($file.* only from the document name)
 * The mappings are compiled once (LLVMFuzzerInitialize) from the
 * repository found from the working directory, $STOCKPIPE_ROOT or the
 * binary's location (build-fuzz/, build-san/fuzz/); lookups resolve next
 * to them, so nothing outside the repository and a private temporary
 * folder is read.
 *
 * Invariants: each record the sink gets validates again unchanged
 * (canon_validate is idempotent on a canonical record), writes as a JSON
 * line of valid UTF-8 that parses back to the same line; each reject has
 * a reason and a line; the stats count exactly the callbacks; verdicts
 * have a known level and a context; interchange START/END calls pair up;
 * a failed run carries an error code.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/utf8.h"
#include "transforms/mapping/mapping.h"
#include "transforms/model/canon.h"
#include "fuzz.h"

static const char *const map_paths[] = {
	"mappings/edi/x12_846_inventory.yaml",
	"mappings/edi/x12_852_activity.yaml",
	"mappings/edi/x12_856_asn.yaml",
	"mappings/edi/x12_832_catalog.yaml",
	"mappings/edi/edifact_invrpt.yaml",
	"mappings/edi/edifact_desadv.yaml",
	"mappings/edi/edifact_slsrpt.yaml",
	"mappings/edi/edifact_pricat.yaml",
	"mappings/xml/erp_stock_export.yaml",
	"mappings/xml/opentrans_dispatchnotification.yaml",
	"mappings/xml/sap_idoc_stock.yaml",
	"mappings/xml/ubl_catalogue.yaml",
	"mappings/xml/ubl_inventory_report.yaml",
	"mappings/stores/store_stock_csv.yaml",
	"mappings/supplier/items_csv.yaml",
	"mappings/erp/locations_csv.yaml",
	"mappings/erp/prices_csv.yaml",
};
#define NMAPS (sizeof(map_paths) / sizeof(map_paths[0]))

static struct mapping *maps[NMAPS];

struct fz_sink {
	struct arena a;
	unsigned long records, rejects, ic_open, ic_starts, ic_ends;
};

static void free_maps(void)
{
	size_t i;

	for (i = 0; i < NMAPS; i++)
		mapping_free(maps[i]);
}

/* root = base + up when that folder holds the mappings; 0 or -1. */
static int try_root(const char *base, const char *up, char *root, size_t n)
{
	char cand[PATH_MAX];
	int k = snprintf(root, n, "%s%s", base, up);

	if (k < 0 || (size_t)k >= n)
		return -1;
	k = snprintf(cand, sizeof(cand), "%s/%s", root, map_paths[0]);
	if (k < 0 || (size_t)k >= sizeof(cand))
		return -1;
	return access(cand, R_OK) == 0 ? 0 : -1;
}

/* The repository root: the first candidate holding the mappings. */
static int find_root(const char *argv0, char *root, size_t n)
{
	char exe[PATH_MAX];
	const char *env = getenv("STOCKPIPE_ROOT");
	char *slash;

	if (env && *env)
		return try_root(env, "", root, n);
	if (access(map_paths[0], R_OK) == 0 && getcwd(root, n))
		return 0;
	if (!realpath(argv0, exe))
		return -1;
	if ((slash = strrchr(exe, '/')))
		*slash = '\0';
	/* build-fuzz/fuzz_map or build-san/fuzz/replay_map */
	if (try_root(exe, "/..", root, n) == 0)
		return 0;
	return try_root(exe, "/../..", root, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char root[PATH_MAX], path[PATH_MAX];
	size_t i;

	(void)argc;
	if (find_root((*argv)[0], root, sizeof(root))) {
		fprintf(stderr, "fuzz_map: cannot find mappings/ (run from "
				"the repository or set STOCKPIPE_ROOT)\n");
		abort();
	}
	for (i = 0; i < NMAPS; i++) {
		struct err err = ERR_INIT;
		char msg[1200];

		int k = snprintf(path, sizeof(path), "%s/%s", root,
				 map_paths[i]);

		FZ_CHECK(k > 0 && (size_t)k < sizeof(path));
		if (mapping_load(path, &maps[i], &err)) {
			err_format(&err, msg, sizeof(msg));
			fprintf(stderr, "fuzz_map: %s\n", msg);
			abort();
		}
	}
	atexit(free_maps);
	return 0;
}

static int on_record(void *ud, const struct canon_record *r,
		     struct err *err)
{
	struct fz_sink *s = ud;
	struct buf b1 = BUF_INIT(1 << 24), b2 = BUF_INIT(1 << 24);
	struct canon_record again = *r, back;
	struct err e2 = ERR_INIT;
	char *copy;

	(void)err;
	s->records++;
	FZ_CHECK(r->kind >= CANON_ITEM && r->kind <= CANON_STOCK);
	FZ_CHECK(canon_to_jsonl(r, &b1) == 0);
	FZ_CHECK(b1.len > 0 && b1.ptr[b1.len - 1] == '\n');
	FZ_CHECK(utf8_check((const unsigned char *)b1.ptr, b1.len) == b1.len);
	/* A canonical record is a fixed point of validation. */
	FZ_CHECK(canon_validate(&again, &s->a, &e2) == 0);
	FZ_CHECK(canon_to_jsonl(&again, &b2) == 0);
	FZ_CHECK(b1.len == b2.len && !memcmp(b1.ptr, b2.ptr, b1.len));
	/* And it reads back as written. */
	buf_reset(&b2);
	copy = malloc(b1.len);
	FZ_CHECK(copy != NULL);
	memcpy(copy, b1.ptr, b1.len);
	FZ_CHECK(canon_from_jsonl(copy, b1.len - 1, &back, &s->a, &e2) == 0);
	FZ_CHECK(canon_to_jsonl(&back, &b2) == 0);
	FZ_CHECK(b1.len == b2.len && !memcmp(b1.ptr, b2.ptr, b1.len));
	free(copy);
	buf_release(&b1);
	buf_release(&b2);
	arena_reset(&s->a);
	return 0;
}

static int on_reject(void *ud, const struct mapping_reject *rj,
		     struct err *err)
{
	struct fz_sink *s = ud;
	struct buf b = BUF_INIT(1 << 24);

	(void)err;
	s->rejects++;
	FZ_CHECK(rj->file != NULL && rj->reason != NULL && rj->field != NULL);
	FZ_CHECK(rj->reason[0] != '\0');
	FZ_CHECK(rj->raw != NULL || rj->raw_len == 0);
	FZ_CHECK(mapping_reject_to_jsonl(rj, &b) == 0);
	FZ_CHECK(b.len > 0 && b.ptr[b.len - 1] == '\n');
	buf_release(&b);
	return 0;
}

static int on_ic(void *ud, int phase, const struct mapping_interchange *ic,
		 char *why, size_t whyn, struct err *err)
{
	struct fz_sink *s = ud;

	(void)err;
	FZ_CHECK(ic->format && ic->sender && ic->receiver && ic->control &&
		 ic->sha256);
	FZ_CHECK(ic->index >= 1);
	FZ_CHECK(why != NULL && whyn > 0);
	if (phase == MAPPING_IC_START) {
		FZ_CHECK(!s->ic_open);
		s->ic_open = 1;
		s->ic_starts++;
		return ic->index % 2 == 0;
	}
	FZ_CHECK(phase == MAPPING_IC_END);
	FZ_CHECK(s->ic_open);
	FZ_CHECK(strlen(ic->sha256) == 64);
	s->ic_open = 0;
	s->ic_ends++;
	return 0;
}

static int on_verdict(void *vud, const struct mapping_verdict *v,
		      struct err *err)
{
	(void)vud;
	(void)err;
	FZ_CHECK(v->level >= MAPPING_V_SET && v->level <= MAPPING_V_IC);
	FZ_CHECK(v->ctx != NULL);
	FZ_CHECK(v->ok == 0 || v->ok == 1);
	if (v->level == MAPPING_V_SET)
		FZ_CHECK(v->bad_value != NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mapping_facts facts = { "fuzz_20261120.dat",
				       "2026-11-20T06:00:00Z",
				       "2026-11-20T06:01:00Z",
				       "2026-11-20T06:02:00Z", NULL };
	struct mapping_doc doc;
	struct mapping_sink sink;
	struct mapping_stats st;
	struct fz_sink s;
	struct err err = ERR_INIT;
	char path[512];
	unsigned opt;
	int rc;

	if (size < 1)
		return 0;
	opt = data[0];
	snprintf(path, sizeof(path), "%s/doc", fz_tmpdir());
	FZ_CHECK(fz_write_file(path, data + 1, size - 1) == 0);
	memset(&s, 0, sizeof(s));
	arena_init(&s.a, 0, 0);
	memset(&doc, 0, sizeof(doc));
	doc.source = "fuzz";
	doc.name = "fuzz_20261120.dat";
	doc.path = path;
	doc.sha256 = "0123456789abcdef0123456789abcdef"
		     "0123456789abcdef0123456789abcdef";
	doc.facts = (opt >> 6) & 1 ? NULL : &facts;
	memset(&sink, 0, sizeof(sink));
	sink.record = on_record;
	sink.reject = on_reject;
	sink.ud = &s;
	if ((opt >> 5) & 1)
		sink.interchange = on_ic;
	memset(&st, 0, sizeof(st));
	rc = mapping_run_verdicts(maps[(opt & 31) % NMAPS], &doc, &sink,
				  on_verdict, NULL, &st, &err);
	if (rc == 0) {
		FZ_CHECK(err.code == E_NONE);
		FZ_CHECK(st.records_out == s.records);
		FZ_CHECK(st.rejects == s.rejects);
		FZ_CHECK(s.ic_starts == s.ic_ends && !s.ic_open);
	} else {
		FZ_CHECK(rc == -1 && err.code != E_NONE);
	}
	arena_release(&s.a);
	unlink(path);
	return 0;
}
