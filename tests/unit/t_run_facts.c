/* t_run_facts.c - the file facts of a document (run_doc_facts in
 * pipeline/run_int.h, run_facts.c) read back from a real SQLite store:
 * the name, mtime and fetch time of the fetch unit the map unit descends
 * from (directly or through its unpack unit), the run's start, the
 * pattern's captures; a replayed file without mtime, a document without a
 * fetch ancestor (or one a rerun deleted) named after itself without its
 * archive member; and the errors: a capture the pattern does not give
 * (E_CONFIG) and a capture that is no valid date (E_PARSE). */
#include <stdint.h>
#include <string.h>

#include "pipeline/engine.h"
#include "pipeline/run_int.h"
#include "pipeline/store/state.h"
#include "transforms/mapping/mapping.h"
#include "t.h"

#define PAT "stock_{store}_{date:%Y%m%d}.csv"
#define MTIME 1795150740     /* 2026-11-20T04:59:00Z */
#define FETCHED 1795151400   /* 2026-11-20T05:10:00Z */

struct fx {
	struct cli_global g;
	struct run_opts o;
	struct config cfg;
	struct run r;
	struct cfg_source src;
	const char *pats[1];
	struct mapping *m;
};

static int fx_open(struct fx *f, const char *map_text, struct err *e)
{
	memset(f, 0, sizeof(*f));
	f->g.quiet = 1;
	f->o.mode = RUN_NEW;
	f->cfg.state_dir = t_dir;
	strcpy(f->cfg.sha256, "cfgsha");
	f->r.g = &f->g;
	f->r.o = &f->o;
	f->r.cfg = &f->cfg;
	f->pats[0] = PAT;
	f->src.name = "src";
	f->src.patterns = f->pats;
	f->src.npatterns = 1;
	if (t_write_file("m.yaml", map_text) ||
	    mapping_load("m.yaml", &f->m, e) < 0)
		return -1;
	if (state_open("st", &f->r.st, e) < 0)
		return -1;
	return eng_run_new(&f->r, e);
}

static void fx_close(struct fx *f)
{
	mapping_free(f->m);
	state_close(f->r.st);
}

/* Records unit u (stage, key, parent) in the store; u->id is set. */
static int add(struct fx *f, struct state_unit *u, int stage,
	       const char *key, int64_t parent, struct err *e)
{
	eng_unit_init(u, &f->r, stage, "src", key);
	u->parent = parent;
	if (stage == ST_FETCH) {
		u->listed = 1;
		u->file_mtime = MTIME;
		u->finished_ms = (int64_t)FETCHED * 1000 + 250;
	}
	if (eng_tx_begin(f->r.st, e) < 0 ||
	    eng_tx_end(f->r.st,
		       state_unit_add(f->r.st, u, e) < 0 ||
			       state_unit_save(f->r.st, u, e) < 0,
		       e) < 0)
		return -1;
	return 0;
}

static const char map_caps[] =
	"input: { format: csv }\n"
	"records:\n"
	"  - kind: item\n"
	"    fields:\n"
	"      sku: col(sku)\n"
	"      category: $file.store\n"
	"      as_of: $file.date\n";

static const char map_plain[] =
	"input: { format: csv }\n"
	"records:\n"
	"  - kind: item\n"
	"    fields:\n"
	"      sku: col(sku)\n";

T_TEST(run_facts_from_fetch_unit)
{
	struct fx f;
	struct err e = ERR_INIT;
	struct state_unit fu, mu;
	struct run_facts rf;

	T_OK(fx_open(&f, map_caps, &e), &e);
	T_OK(add(&f, &fu, ST_FETCH, "stock_F012_20261120.csv", 0, &e), &e);
	T_OK(add(&f, &mu, ST_MAP, "stock_F012_20261120.csv", fu.id, &e), &e);
	T_OK(run_doc_facts(&f.r, &f.src, f.m, &mu, &rf, &e), &e);
	fx_close(&f);
	T_EQ_STR(rf.f.file_name, "stock_F012_20261120.csv");
	T_EQ_STR(rf.f.mtime, "2026-11-20T04:59:00Z");
	T_EQ_STR(rf.f.fetched_at, "2026-11-20T05:10:00Z"); /* ms cut */
	T_ASSERT(rf.f.run_started != NULL);
	T_EQ_INT(strlen(rf.f.run_started), 20);
	T_ASSERT(rf.f.caps == &rf.caps);
	T_EQ_INT(rf.caps.n, 2);
	T_EQ_STR(rf.caps.name[0], "store");
	T_EQ_STR(rf.caps.value[0], "F012");
	T_EQ_STR(rf.caps.name[1], "date");
}

T_TEST(run_facts_archive_member_through_unpack)
{
	struct fx f;
	struct err e = ERR_INIT;
	struct state_unit fu, uu, mu;
	struct run_facts rf;

	T_OK(fx_open(&f, map_plain, &e), &e);
	T_OK(add(&f, &fu, ST_FETCH, "stock_F7_20261120.csv", 0, &e), &e);
	T_OK(add(&f, &uu, ST_UNPACK, "stock_F7_20261120.csv", fu.id, &e), &e);
	T_OK(add(&f, &mu, ST_MAP, "stock_F7_20261120.csv!a/b.csv", uu.id, &e),
	     &e);
	T_OK(run_doc_facts(&f.r, &f.src, f.m, &mu, &rf, &e), &e);
	fx_close(&f);
	/* the archive's name as fetched, its captures, its times */
	T_EQ_STR(rf.f.file_name, "stock_F7_20261120.csv");
	T_EQ_STR(rf.f.mtime, "2026-11-20T04:59:00Z");
	T_EQ_INT(rf.caps.n, 2);
	T_EQ_STR(rf.caps.value[0], "F7");
}

T_TEST(run_facts_replayed_and_orphaned)
{
	struct fx f;
	struct err e = ERR_INIT;
	struct state_unit fu, mu;
	struct run_facts rf;

	T_OK(fx_open(&f, map_plain, &e), &e);
	/* a replayed file: a fetch unit with no listing and not finished */
	eng_unit_init(&fu, &f.r, ST_FETCH, "src", "stock_F1_20261120.csv");
	T_OK(eng_tx_begin(f.r.st, &e), &e);
	T_OK(eng_tx_end(f.r.st,
			state_unit_add(f.r.st, &fu, &e) < 0 ||
				state_unit_save(f.r.st, &fu, &e) < 0,
			&e),
	     &e);
	T_OK(add(&f, &mu, ST_MAP, "stock_F1_20261120.csv", fu.id, &e), &e);
	T_OK(run_doc_facts(&f.r, &f.src, f.m, &mu, &rf, &e), &e);
	T_EQ_STR(rf.f.file_name, "stock_F1_20261120.csv");
	T_ASSERT(rf.f.mtime == NULL);
	T_ASSERT(rf.f.fetched_at == NULL);
	T_ASSERT(rf.f.run_started != NULL);
	/* an ancestor a rerun deleted: the document's name, no member */
	T_OK(add(&f, &mu, ST_MAP, "other.csv!inner.csv", 999999, &e), &e);
	T_OK(run_doc_facts(&f.r, &f.src, f.m, &mu, &rf, &e), &e);
	T_EQ_STR(rf.f.file_name, "other.csv");
	T_ASSERT(rf.f.mtime == NULL);
	T_EQ_INT(rf.caps.n, 0); /* the pattern does not match: no captures */
	/* no ancestor at all */
	T_OK(add(&f, &mu, ST_MAP, "plain.csv", 0, &e), &e);
	T_OK(run_doc_facts(&f.r, &f.src, f.m, &mu, &rf, &e), &e);
	fx_close(&f);
	T_EQ_STR(rf.f.file_name, "plain.csv");
}

T_TEST(run_facts_errors)
{
	struct fx f;
	struct err e = ERR_INIT;
	struct state_unit fu, mu;
	struct run_facts rf;
	static const char map_bad[] =
		"input: { format: csv }\n"
		"records:\n"
		"  - kind: item\n"
		"    fields:\n"
		"      sku: col(sku)\n"
		"      category: $file.stor\n";
	int rc;

	/* month 13 in the name's date capture: E_PARSE (quarantine) */
	T_OK(fx_open(&f, map_caps, &e), &e);
	T_OK(add(&f, &fu, ST_FETCH, "stock_F012_20261320.csv", 0, &e), &e);
	T_OK(add(&f, &mu, ST_MAP, "stock_F012_20261320.csv", fu.id, &e), &e);
	rc = run_doc_facts(&f.r, &f.src, f.m, &mu, &rf, &e);
	fx_close(&f);
	T_EQ_INT(rc, -1);
	T_EQ_INT(e.code, E_PARSE);
	/* a capture the source's pattern does not give: E_CONFIG */
	err_clear(&e);
	T_OK(fx_open(&f, map_bad, &e), &e);
	T_OK(add(&f, &fu, ST_FETCH, "stock_F012_20261120.csv", 0, &e), &e);
	T_OK(add(&f, &mu, ST_MAP, "stock_F012_20261120.csv", fu.id, &e), &e);
	rc = run_doc_facts(&f.r, &f.src, f.m, &mu, &rf, &e);
	fx_close(&f);
	T_EQ_INT(rc, -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_ASSERT(strstr(e.reason, "stor"));
	T_ASSERT(strstr(e.reason, PAT));
}
