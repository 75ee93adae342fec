/* t_load_uom.c - units of measure at load (pipeline/stages/load_uom.h)
 * against a real SQLite store and a mapping file: an item record's pack
 * sizes, then a stock quantity multiplied and a price divided into the
 * base unit (the record's unit set to it, its pack size dropped), records
 * already in base units untouched, a record no factor covers rejected
 * into the document's reject file (marked "stage":"load", the unit's
 * counts and note), and a load whose map unit is gone failing to open. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "pipeline/engine.h"
#include "pipeline/run_int.h"
#include "pipeline/stages/load_uom.h"
#include "pipeline/store/state.h"
#include "transforms/model/canon.h"
#include "t.h"

struct lx {
	struct cli_global g;
	struct run_opts o;
	struct config cfg;
	struct run r;
	struct cfg_source src;
	struct src_ctx sc;
	char map_path[4200];
	struct err serr;
	struct state_unit mu, lu;
};

static const char map_text[] =
	"input: { format: csv }\n"
	"units:\n"
	"  base_uom: EA\n"
	"records:\n"
	"  - kind: item\n"
	"    fields:\n"
	"      sku: col(sku)\n";

static int add(struct lx *f, struct state_unit *u, int stage,
	       const char *key, int64_t parent, struct err *e)
{
	eng_unit_init(u, &f->r, stage, "src", key);
	u->parent = parent;
	if (eng_tx_begin(f->r.st, e) < 0 ||
	    eng_tx_end(f->r.st,
		       state_unit_add(f->r.st, u, e) < 0 ||
			       state_unit_save(f->r.st, u, e) < 0,
		       e) < 0)
		return -1;
	return 0;
}

/* A run with source "src" mapped by m.yaml, a map unit for doc.csv and
 * its load unit. */
static int lx_open(struct lx *f, struct err *e)
{
	memset(f, 0, sizeof(*f));
	f->g.quiet = 1;
	f->o.mode = RUN_NEW;
	f->cfg.state_dir = t_dir;
	strcpy(f->cfg.sha256, "cfgsha");
	f->r.g = &f->g;
	f->r.o = &f->o;
	f->r.cfg = &f->cfg;
	snprintf(f->map_path, sizeof(f->map_path), "%s/m.yaml", t_dir);
	f->src.name = "src";
	f->src.mapping = f->map_path;
	f->sc.r = &f->r;
	f->sc.src = &f->src;
	f->sc.err = &f->serr;
	if (t_write_file("m.yaml", map_text) ||
	    state_open("st", &f->r.st, e) < 0 || eng_run_new(&f->r, e) < 0 ||
	    add(f, &f->mu, ST_MAP, "doc.csv", 0, e) < 0 ||
	    add(f, &f->lu, ST_LOAD, "doc.csv", f->mu.id, e) < 0)
		return -1;
	return 0;
}

static void lx_close(struct lx *f)
{
	int i;

	for (i = 0; i < f->sc.nmaps; i++)
		mapping_free(f->sc.maps[i]);
	state_close(f->r.st);
}

static void rec(struct canon_record *r, enum canon_kind k, const char *sku)
{
	memset(r, 0, sizeof(*r));
	r->kind = k;
	r->v[0] = sku; /* ITEM_SKU, STOCK_SKU and PRICE_SKU are field 0 */
	r->lin.file = "doc.csv";
	r->lin.line = 2;
}

T_TEST(load_uom_converts_to_base_units)
{
	struct lx f;
	struct err e = ERR_INIT;
	struct load_uom *l = NULL;
	struct arena a;
	struct canon_record it, st, pr, plain;
	struct load_stats ls;
	static const char line[] = "{\"kind\":\"stock\"}\n";

	arena_init(&a, 4096, 1 << 20);
	memset(&ls, 0, sizeof(ls));
	T_OK(lx_open(&f, &e), &e);
	T_OK(load_uom_open(&f.sc, &f.lu, &l, &e), &e);
	T_ASSERT(l != NULL);
	T_OK(state_begin(f.r.st, &e), &e);
	rec(&it, CANON_ITEM, "SKU1");
	it.v[ITEM_PACK_SIZES] = "CA=12,PK=2.5";
	T_EQ_INT(load_uom_record(l, &it, line, sizeof(line) - 1, &a, &e), 0);
	/* applied as the load stage applies it: the item master row */
	T_OK(state_load_record(f.r.st, f.mu.id, &it, &ls, &e), &e);
	T_OK(state_load_flush(f.r.st, &e), &e);
	rec(&st, CANON_STOCK, "SKU1");
	st.v[STOCK_QUANTITY] = "3";
	st.v[STOCK_UOM] = "CA";
	st.v[STOCK_TXN_ID] = "T1";
	/* lengths its producer knew, as a mapping sets them (canon.h):
	 * the new values' lengths must be read, not the old ones */
	st.len[STOCK_QUANTITY] = 2 | CANON_LEN_PLAIN;
	st.len[STOCK_UOM] = 3 | CANON_LEN_PLAIN;
	T_EQ_INT(load_uom_record(l, &st, line, sizeof(line) - 1, &a, &e), 0);
	T_EQ_STR(st.v[STOCK_QUANTITY], "36");
	T_EQ_STR(st.v[STOCK_UOM], "EA");
	T_EQ_INT(canon_vlen(&st, STOCK_QUANTITY), 2);
	T_EQ_INT(canon_vlen(&st, STOCK_UOM), 2);
	T_EQ_INT(st.len[STOCK_QUANTITY] & CANON_LEN_PLAIN, 0);
	T_ASSERT(st.v[STOCK_PACK_SIZE] == NULL);
	rec(&pr, CANON_PRICE, "SKU1");
	pr.v[PRICE_AMOUNT] = "10";
	pr.v[PRICE_UOM] = "PK";
	T_EQ_INT(load_uom_record(l, &pr, line, sizeof(line) - 1, &a, &e), 0);
	T_EQ_STR(pr.v[PRICE_AMOUNT], "4"); /* 10 per pack of 2.5 */
	T_EQ_STR(pr.v[PRICE_UOM], "EA");
	/* no unit and no pack size: already base units, untouched */
	rec(&plain, CANON_STOCK, "SKU1");
	plain.v[STOCK_QUANTITY] = "5";
	T_EQ_INT(load_uom_record(l, &plain, line, sizeof(line) - 1, &a, &e), 0);
	T_EQ_STR(plain.v[STOCK_QUANTITY], "5");
	T_ASSERT(plain.v[STOCK_UOM] == NULL);
	/* the base unit itself: untouched */
	plain.v[STOCK_UOM] = "EA";
	T_EQ_INT(load_uom_record(l, &plain, line, sizeof(line) - 1, &a, &e), 0);
	T_EQ_STR(plain.v[STOCK_QUANTITY], "5");
	T_OK(load_uom_finish(l, &f.lu, &e), &e);
	T_OK(state_commit(f.r.st, &e), &e);
	lx_close(&f);
	arena_release(&a);
	T_EQ_INT(f.lu.converted, 2);
	T_EQ_INT(f.lu.rejects, 0);
	T_ASSERT(strstr(f.lu.detail, "2 record(s) converted to base units"));
}

T_TEST(load_uom_rejects_what_no_factor_covers)
{
	struct lx f;
	struct err e = ERR_INIT;
	struct load_uom *l = NULL;
	struct arena a;
	struct canon_record it, st;
	struct load_stats ls;
	static const char line[] = "{\"kind\":\"stock\",\"sku\":\"SKU1\"}\n";
	char rpath[4400], got[8192];
	FILE *fp;
	size_t n;

	arena_init(&a, 4096, 1 << 20);
	memset(&ls, 0, sizeof(ls));
	T_OK(lx_open(&f, &e), &e);
	T_OK(load_uom_open(&f.sc, &f.lu, &l, &e), &e);
	T_OK(state_begin(f.r.st, &e), &e);
	rec(&it, CANON_ITEM, "SKU1");
	it.v[ITEM_PACK_SIZES] = "CA=12";
	T_EQ_INT(load_uom_record(l, &it, line, sizeof(line) - 1, &a, &e), 0);
	/* applied as the load stage applies it: the item master row */
	T_OK(state_load_record(f.r.st, f.mu.id, &it, &ls, &e), &e);
	T_OK(state_load_flush(f.r.st, &e), &e);
	rec(&st, CANON_STOCK, "SKU1");
	st.v[STOCK_QUANTITY] = "3";
	st.v[STOCK_UOM] = "PL";
	T_EQ_INT(load_uom_record(l, &st, line, sizeof(line) - 1, &a, &e), 1);
	T_EQ_STR(st.v[STOCK_QUANTITY], "3"); /* never applied, untouched */
	T_EQ_STR(st.v[STOCK_UOM], "PL");
	T_EQ_INT(e.code, E_NONE);
	T_OK(load_uom_finish(l, &f.lu, &e), &e);
	T_OK(state_commit(f.r.st, &e), &e);
	lx_close(&f);
	arena_release(&a);
	T_EQ_INT(f.lu.rejects, 1);
	T_EQ_INT(f.lu.converted, 0);
	snprintf(rpath, sizeof(rpath), "%s/rejects/%lld/src/%lld.jsonl", t_dir,
		 (long long)f.mu.run_id, (long long)f.mu.id);
	T_ASSERT(strstr(f.lu.detail, "1 record(s) rejected: unit not "
				     "convertible, see "));
	T_ASSERT(strstr(f.lu.detail, rpath));
	fp = fopen(rpath, "rb");
	T_ASSERT(fp != NULL);
	n = fread(got, 1, sizeof(got) - 1, fp);
	fclose(fp);
	got[n] = 0;
	T_ASSERT(strstr(got, "\"_file\":\"doc.csv\",\"_line\":2"));
	T_ASSERT(strstr(got, "\"field\":\"uom\""));
	T_ASSERT(strstr(got, "PL"));
	T_ASSERT(strstr(got, ",\"stage\":\"load\"}\n"));
	T_ASSERT(!strchr(got, '\n') || strchr(got, '\n') == got + n - 1);
}

T_TEST(load_uom_open_without_map_unit)
{
	struct lx f;
	struct err e = ERR_INIT;
	struct load_uom *l = (struct load_uom *)&f; /* must be reset */
	struct state_unit orphan;

	T_OK(lx_open(&f, &e), &e);
	T_OK(add(&f, &orphan, ST_LOAD, "gone.csv", 999999, &e), &e);
	T_EQ_INT(load_uom_open(&f.sc, &orphan, &l, &e), -1);
	lx_close(&f);
	T_ASSERT(l == NULL);
	T_ASSERT(e.code != E_NONE);
	load_uom_close(NULL); /* NULL is fine */
}
