/* t_render_par.c - renders ahead on threads: the parts a job renders
 * publish the bytes render_target writes; a job is taken only for the
 * inputs it was made for, and a failed one not at all (its target then
 * renders itself); the thread count from the environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/io.h"
#include "pipeline/config.h"
#include "pipeline/stages/render.h"
#include "pipeline/stages/render_par.h"
#include "pipeline/stages/render_share.h"
#include "pipeline/store/state.h"
#include "transforms/model/canon.h"
#include "transforms/outbound/outbound.h"
#include "t.h"

static const char csv_map[] =
	"outbound: shop\nkind: stock\nformat: csv\n"
	"csv: { delimiter: \",\", header: true }\n"
	"columns:\n"
	"  - { name: sku, value: sku }\n"
	"  - { name: title, value: description | default(\"\") }\n"
	"  - { name: qty, value: available }\n";

static const char xml_map[] =
	"outbound: feed\nkind: stock\nformat: xml\n"
	"xml:\n"
	"  root: Feed\n"
	"  attributes: { offers: $rows, created: $now }\n"
	"  record: Offer\n"
	"columns:\n"
	"  - { name: \"@sku\", value: sku }\n"
	"  - { name: Title, value: description }\n"
	"  - { name: Qty, value: available, type: number }\n";

static struct cfg_target target(const char *name, const char *mapping)
{
	struct cfg_target t;

	memset(&t, 0, sizeof(t));
	t.name = name;
	t.mapping = mapping;
	t.sellable_mask = 1u << 0; /* on_hand */
	t.subtract_mask = 1u << 1; /* reserved */
	t.allocation_pct = 100;
	return t;
}

/* An item (description desc) with on_hand qty at F012. */
static int put(struct state *st, const char *sku, const char *desc,
	       const char *qty, struct err *e)
{
	struct canon_record r;
	struct load_stats ls;
	char txn[64];

	memset(&ls, 0, sizeof(ls));
	memset(&r, 0, sizeof(r));
	r.kind = CANON_ITEM;
	r.v[ITEM_SKU] = sku;
	r.v[ITEM_DESCRIPTION] = desc;
	r.v[ITEM_AS_OF] = "2026-11-20T05:00:00Z";
	if (state_load_record(st, 1, &r, &ls, e) < 0)
		return -1;
	memset(&r, 0, sizeof(r));
	snprintf(txn, sizeof(txn), "t/%s", sku);
	r.kind = CANON_STOCK;
	r.v[STOCK_SKU] = sku;
	r.v[STOCK_LOCATION] = "F012";
	r.v[STOCK_STATE] = "on_hand";
	r.v[STOCK_QUANTITY] = qty;
	r.v[STOCK_MODE] = "snapshot";
	r.v[STOCK_AS_OF] = "2026-11-20T05:00:00Z";
	r.v[STOCK_TXN_ID] = txn;
	r.lin.source = "stores";
	r.lin.file = "stock.csv";
	r.lin.line = 2;
	return state_load_record(st, 1, &r, &ls, e);
}

/* A store of n SKUs; a bad one (a control character XML cannot carry)
 * when bad is set. */
static struct state *store(int n, int bad, struct err *e)
{
	struct state *st = NULL;
	char sku[32], qty[16];
	int i;

	if (state_open("st", &st, e) < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		snprintf(sku, sizeof(sku), "KW-%05d", i);
		snprintf(qty, sizeof(qty), "%d", i % 37);
		if (put(st, sku, i % 3 ? "Kanne" : NULL, qty, e) < 0)
			return NULL;
	}
	if (bad && put(st, "ZZ-BAD", "Deckel\x01", "3", e) < 0)
		return NULL;
	return st;
}

static int ready_go(void *ud, const char *key, struct outbound_env *env,
		    int *skip, struct err *err)
{
	(void)ud;
	(void)key;
	(void)env;
	(void)err;
	*skip = 0;
	return 0;
}

static struct outbound_env env_of(const struct cfg_target *t)
{
	struct outbound_env env;

	memset(&env, 0, sizeof(env));
	env.target = t->name;
	env.now = 1795154400; /* 2026-11-20T06:00:00Z */
	return env;
}

/* render_target of t (its mapping) into out; the file's bytes in
 * want (n bytes). */
static int render_seq(struct state *st, const struct cfg_target *t,
		      const char *out, char *want, size_t n, struct err *e)
{
	struct outbound *ob = NULL;
	struct outbound_env env = env_of(t);
	struct render_stats rs;
	char key[65], sha[65];
	int rc;

	if (outbound_load(t->mapping, &ob, e) < 0)
		return -1;
	rc = render_target(st, t, ob, &env, out, NULL, "rej/seq.jsonl",
			   ready_go, NULL, key, sha, &rs, e);
	outbound_free(ob);
	if (rc == 0)
		snprintf(want, n, "%s", t_read_file(out));
	return rc;
}

/* Adds t's job (path out) with its own copy of the mapping. */
static int add_job(const struct cfg_target *t, const char *out,
		   struct err *e)
{
	struct outbound *ob = NULL;
	struct outbound_env env = env_of(t);
	int rc;

	if (outbound_load(t->mapping, &ob, e) < 0)
		return -1;
	rc = render_par_add(t, ob, &env, out, "rej/par.jsonl", e);
	if (rc != 0)
		outbound_free(ob);
	return rc;
}

/* Takes and publishes t's job; 0, -1 with err, or 2 when there was no
 * part to take. */
static int publish(const struct cfg_target *t, const char *out,
		   struct err *e)
{
	struct outbound *ob = NULL;
	struct outbound_env env = env_of(t);
	struct render_part *part;
	struct render_stats rs;
	char key[65], sha[65];
	int rc = 2;

	if (outbound_load(t->mapping, &ob, e) < 0)
		return -1;
	part = render_par_take(t, ob, out, "rej/par.jsonl");
	if (part)
		rc = render_part_publish(part, &env, ready_go, NULL, key, sha,
					 &rs, e);
	outbound_free(ob);
	return rc;
}

T_TEST(render_par_parts_publish_the_sequential_bytes)
{
	struct cfg_target csv = target("shop", "csv.yaml");
	struct cfg_target xml = target("feed", "xml.yaml");
	struct state *st;
	struct err e = ERR_INIT;
	static char want_csv[1 << 16], want_xml[1 << 16];

	T_ASSERT(t_write_file("csv.yaml", csv_map) == 0);
	T_ASSERT(t_write_file("xml.yaml", xml_map) == 0);
	T_ASSERT((st = store(500, 0, &e)) != NULL);
	T_ASSERT(mkdir("seq", 0755) == 0 && mkdir("par", 0755) == 0);
	render_share_run(0);
	T_OK(render_seq(st, &csv, "seq/shop.csv", want_csv, sizeof(want_csv),
			&e), &e);
	T_OK(render_seq(st, &xml, "seq/feed.xml", want_xml, sizeof(want_xml),
			&e), &e);
	T_ASSERT(strstr(want_xml, "offers=\"500\"") != NULL);
	render_share_run(21);
	T_OK(add_job(&csv, "par/shop.csv", &e), &e);
	T_OK(add_job(&xml, "par/feed.xml", &e), &e);
	T_EQ_INT(render_par_jobs(), 2);
	T_OK(render_par_start(st, 2, "par", &e), &e);
	/* nothing is published before its unit takes it */
	T_ASSERT(!io_exists("par/feed.xml"));
	T_OK(publish(&xml, "par/feed.xml", &e), &e);
	T_EQ_STR(t_read_file("par/feed.xml"), want_xml);
	T_ASSERT(!io_exists("par/shop.csv"));
	T_OK(publish(&csv, "par/shop.csv", &e), &e);
	T_EQ_STR(t_read_file("par/shop.csv"), want_csv);
	/* the pictures too */
	snprintf(want_csv, sizeof(want_csv), "%s",
		 t_read_file("seq/shop.csv.pub"));
	T_EQ_STR(t_read_file("par/shop.csv.pub"), want_csv);
	render_par_end();
	T_EQ_INT(render_par_jobs(), 0);
	render_share_run(0);
	render_share_drop();
	state_close(st);
}

T_TEST(render_par_takes_a_job_only_for_its_inputs)
{
	struct cfg_target csv = target("shop", "csv.yaml");
	struct cfg_target xml = target("feed", "xml.yaml");
	struct cfg_target other;
	struct state *st;
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("csv.yaml", csv_map) == 0);
	T_ASSERT(t_write_file("xml.yaml", xml_map) == 0);
	T_ASSERT((st = store(50, 0, &e)) != NULL);
	T_ASSERT(mkdir("par", 0755) == 0);
	render_share_run(22);
	T_OK(add_job(&csv, "par/shop.csv", &e), &e);
	T_OK(add_job(&xml, "par/feed.xml", &e), &e);
	/* a delta needs the store as it renders: not a job */
	other = target("delta", "csv.yaml");
	other.delta = 1;
	T_EQ_INT(add_job(&other, "par/delta.csv", &e), 1);
	T_OK(render_par_start(st, 2, "par", &e), &e);
	/* another file name than the job's: no part, the job's files go */
	T_EQ_INT(publish(&csv, "par/shop_2.csv", &e), 2);
	T_ASSERT(!io_exists("par/.shop.csv.tmp") &&
		 !io_exists("par/.shop.csv.pub.tmp"));
	/* another stale buffer (safety) than the job's: no part */
	other = xml;
	other.safety_pct = 10;
	T_EQ_INT(publish(&other, "par/feed.xml", &e), 2);
	/* taken once only */
	T_EQ_INT(publish(&xml, "par/feed.xml", &e), 2);
	T_ASSERT(!io_exists("par/feed.xml"));
	render_par_end();
	/* what no unit took is taken back */
	T_ASSERT(!io_exists("par/.feed.xml.tmp") &&
		 !io_exists("par/.feed.xml.pub.tmp"));
	render_share_run(0);
	render_share_drop();
	state_close(st);
}

T_TEST(render_par_failed_job_leaves_the_others)
{
	struct cfg_target csv = target("shop", "csv.yaml");
	struct cfg_target xml = target("feed", "xml.yaml");
	struct state *st;
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("csv.yaml", csv_map) == 0);
	T_ASSERT(t_write_file("xml.yaml", xml_map) == 0);
	T_ASSERT((st = store(100, 1, &e)) != NULL);
	T_ASSERT(mkdir("par", 0755) == 0);
	xml.bad_row_fail = 1; /* the control character fails the XML */
	render_share_run(23);
	T_OK(add_job(&xml, "par/feed.xml", &e), &e);
	T_OK(add_job(&csv, "par/shop.csv", &e), &e);
	T_OK(render_par_start(st, 2, "par", &e), &e);
	T_EQ_INT(publish(&xml, "par/feed.xml", &e), 2);
	T_ASSERT(!io_exists("par/.feed.xml.tmp") && !io_exists("par/feed.xml"));
	T_OK(publish(&csv, "par/shop.csv", &e), &e);
	T_ASSERT(strstr(t_read_file("par/shop.csv"), "ZZ-BAD,Deckel") != NULL);
	render_par_end();
	render_share_run(0);
	render_share_drop();
	state_close(st);
}

T_TEST(render_par_threads_from_the_environment)
{
	const char *keep = getenv("STOCKPIPE_RENDER_THREADS");
	char saved[32] = "";

	if (keep)
		snprintf(saved, sizeof(saved), "%s", keep);
	setenv("STOCKPIPE_RENDER_THREADS", "1", 1);
	T_EQ_INT(render_par_threads(), 1);
	setenv("STOCKPIPE_RENDER_THREADS", "0", 1);
	T_EQ_INT(render_par_threads(), 1);
	setenv("STOCKPIPE_RENDER_THREADS", "3", 1);
	T_EQ_INT(render_par_threads(), 3);
	setenv("STOCKPIPE_RENDER_THREADS", "99", 1);
	T_EQ_INT(render_par_threads(), RENDER_PAR_MAX);
	setenv("STOCKPIPE_RENDER_THREADS", "two", 1);
	T_EQ_INT(render_par_threads(), 1);
	unsetenv("STOCKPIPE_RENDER_THREADS");
	T_ASSERT(render_par_threads() >= 1);
	if (keep)
		setenv("STOCKPIPE_RENDER_THREADS", saved, 1);
}
