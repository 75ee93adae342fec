/* t_ops.c - the state-store queries behind `quarantine`, the metrics file
 * and the HTML report, and the metrics text itself. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/config.h"
#include "pipeline/report/metrics.h"
#include "pipeline/report/report.h"
#include "pipeline/store/state.h"
#include "t.h"

static struct canon_record stock_rec(const char *sku, const char *qty,
				     const char *mode, const char *as_of,
				     const char *txn)
{
	struct canon_record r;

	memset(&r, 0, sizeof(r));
	r.kind = CANON_STOCK;
	r.v[STOCK_SKU] = sku;
	r.v[STOCK_LOCATION] = "L1";
	r.v[STOCK_STATE] = "on_hand";
	r.v[STOCK_QUANTITY] = qty;
	r.v[STOCK_MODE] = mode;
	r.v[STOCK_AS_OF] = as_of;
	r.v[STOCK_TXN_ID] = txn;
	r.lin.source = "stores";
	r.lin.file = "f.csv";
	r.lin.line = 2;
	return r;
}

static int add_unit(struct state *st, int64_t run, const char *stage,
		    const char *scope, const char *key, int state,
		    int64_t records_in, int64_t rejects, struct state_unit *u,
		    struct err *e)
{
	memset(u, 0, sizeof(*u));
	u->run_id = run;
	snprintf(u->stage, sizeof(u->stage), "%s", stage);
	snprintf(u->scope, sizeof(u->scope), "%s", scope);
	snprintf(u->ukey, sizeof(u->ukey), "%s", key);
	if (state_unit_add(st, u, e) < 0)
		return -1;
	u->state = state;
	u->records_in = records_in;
	u->records_out = records_in - rejects;
	u->rejects = rejects;
	u->started_ms = 1000;
	u->finished_ms = 1250;
	return state_unit_save(st, u, e);
}

struct ids {
	int64_t id[8];
	int n;
};

static int collect_id(void *ud, struct state_unit *u)
{
	struct ids *c = ud;

	if (c->n < 8)
		c->id[c->n++] = u->id;
	return 0;
}

static int count_deliv(void *ud, const char *target, const char *file,
		       int64_t at)
{
	int *n = ud;

	(void)file;
	if (!strcmp(target, "webshop") && at == 1795500000)
		(*n)++;
	return 0;
}

T_TEST(ops_state_queries)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct state_unit q, d;
	struct load_stats ls;
	struct ids ids = {{0}, 0};
	struct canon_record r;
	int64_t run, v;
	int found, n = 0;

	T_OK(state_open("st", &st, &e), &e);
	T_OK(state_run_create(st, "2026-11-20T06:00:00Z", "x", &run, &e), &e);
	T_OK(add_unit(st, run, "map", "stores", "bad.csv", US_QUARANTINED, 10,
		      9, &q, &e),
	     &e);
	T_OK(add_unit(st, run, "map", "stores", "good.csv", US_DONE, 4, 0, &d,
		      &e),
	     &e);
	T_OK(state_units_in_state_each(st, US_QUARANTINED, "map", collect_id,
				       &ids, &e),
	     &e);
	T_EQ_INT(ids.n, 1);
	T_EQ_INT(ids.id[0], q.id);
	ids.n = 0;
	T_OK(state_units_in_state_each(st, US_QUARANTINED, "load", collect_id,
				       &ids, &e),
	     &e);
	T_EQ_INT(ids.n, 0);

	/* Monitoring queries: nothing yet. */
	T_OK(state_run_last_done(st, &v, &e), &e);
	T_EQ_INT(v, 0);
	T_OK(state_run_oldest_event(st, run, &v, &found, &e), &e);
	T_EQ_INT(found, 0);

	/* Two events of the good document; a delta drives B below zero. */
	memset(&ls, 0, sizeof(ls));
	T_OK(state_begin(st, &e), &e);
	r = stock_rec("A", "5", "snapshot", "2026-11-20T05:00:00Z", "t1");
	T_OK(state_load_record(st, d.id, &r, &ls, &e), &e);
	r = stock_rec("B", "-2", "delta", "2026-11-20T04:30:00Z", "t2");
	T_OK(state_load_record(st, d.id, &r, &ls, &e), &e);
	T_OK(state_delivery_add(st, "webshop", "abc", run, "w_1.csv",
				1795500000, &e),
	     &e);
	T_OK(state_run_finish(st, run, "done", 1, "2026-11-20T06:00:10Z", &e),
	     &e);
	T_OK(state_commit(st, &e), &e);
	T_OK(state_positions_negative(st, &v, &e), &e);
	T_EQ_INT(v, 1);
	T_OK(state_run_oldest_event(st, run, &v, &found, &e), &e);
	T_EQ_INT(found, 1);
	T_EQ_INT(v, 1795149000); /* 2026-11-20T04:30:00Z */
	T_OK(state_run_last_done(st, &v, &e), &e);
	T_EQ_INT(v, 1795154410); /* 2026-11-20T06:00:10Z */
	T_OK(state_run_deliveries_each(st, run, count_deliv, &n, &e), &e);
	T_EQ_INT(n, 1);
	n = 0;
	T_OK(state_run_deliveries_each(st, run + 1, count_deliv, &n, &e), &e);
	T_EQ_INT(n, 0);
	state_close(st);
}

/* The plan SQLite makes for the metrics' count of negative positions,
 * into out ("" when the store cannot be read). */
static void negative_plan(const char *dir, char *out, size_t n)
{
	char path[256];
	sqlite3 *db = NULL;
	sqlite3_stmt *p = NULL;
	size_t len = 0;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/state.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		    SQLITE_OK &&
	    sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT count(*)"
			       " FROM positions WHERE qty < 0",
			       -1, &p, NULL) == SQLITE_OK)
		while (sqlite3_step(p) == SQLITE_ROW && len < n)
			len += (size_t)snprintf(out + len, n - len, "%s\n",
						sqlite3_column_text(p, 3));
	sqlite3_finalize(p);
	sqlite3_close(db);
}

/* Schema 16: the metrics' count of negative positions reads the partial
 * index positions_negative, not every position of the store (a cost that
 * grew with the store at every run); the count follows positions that
 * go below zero and back. */
T_TEST(ops_negative_positions_by_index)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct state_unit d;
	struct load_stats ls;
	struct canon_record r;
	int64_t run, v;
	char plan[512];

	T_OK(state_open("st", &st, &e), &e);
	T_OK(state_run_create(st, "2026-11-20T06:00:00Z", "x", &run, &e), &e);
	T_OK(add_unit(st, run, "map", "stores", "neg.csv", US_DONE, 3, 0, &d,
		      &e),
	     &e);
	memset(&ls, 0, sizeof(ls));
	T_OK(state_begin(st, &e), &e);
	r = stock_rec("A", "-1", "delta", "2026-11-20T04:00:00Z", "n1");
	T_OK(state_load_record(st, d.id, &r, &ls, &e), &e);
	r = stock_rec("B", "-4", "delta", "2026-11-20T04:00:00Z", "n2");
	T_OK(state_load_record(st, d.id, &r, &ls, &e), &e);
	r = stock_rec("C", "7", "snapshot", "2026-11-20T04:00:00Z", "n3");
	T_OK(state_load_record(st, d.id, &r, &ls, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_OK(state_positions_negative(st, &v, &e), &e);
	T_EQ_INT(v, 2);
	/* A back to zero, C below it: still two, other ones */
	T_OK(state_begin(st, &e), &e);
	r = stock_rec("A", "1", "delta", "2026-11-20T05:00:00Z", "n4");
	T_OK(state_load_record(st, d.id, &r, &ls, &e), &e);
	r = stock_rec("C", "-9", "delta", "2026-11-20T05:00:00Z", "n5");
	T_OK(state_load_record(st, d.id, &r, &ls, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_OK(state_positions_negative(st, &v, &e), &e);
	T_EQ_INT(v, 2);
	state_close(st);
	negative_plan("st", plan, sizeof(plan));
	T_ASSERT(strstr(plan, "positions_negative") != NULL);
}

T_TEST(ops_metrics_text)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct state_unit u;
	struct report rep;
	struct config cfg;
	struct cfg_source src[2];
	struct cfg_target tgt[1];
	struct buf b = BUF_INIT(1 << 20);
	struct metrics_in in;
	int64_t run;

	T_OK(state_open("st", &st, &e), &e);
	T_OK(state_run_create(st, "2026-11-20T06:00:00Z", "x", &run, &e), &e);
	T_OK(add_unit(st, run, "fetch", "stores", "a.csv", US_DONE, 1, 0, &u,
		      &e),
	     &e);
	T_OK(add_unit(st, run, "map", "stores", "a.csv", US_DONE, 10, 3, &u,
		      &e),
	     &e);
	T_OK(add_unit(st, run, "map", "erp", "b.csv", US_QUARANTINED, 4, 4, &u,
		      &e),
	     &e);
	T_OK(report_build(st, run, &rep, &e), &e);
	rep.exit_code = 1;
	strcpy(rep.status, "done");
	memset(&cfg, 0, sizeof(cfg));
	memset(src, 0, sizeof(src));
	memset(tgt, 0, sizeof(tgt));
	src[0].name = "stores";
	src[1].name = "erp";
	tgt[0].name = "web\"shop";
	cfg.sources = src;
	cfg.nsources = 2;
	cfg.targets = tgt;
	cfg.ntargets = 1;
	cfg.state_dir = ".";
	memset(&in, 0, sizeof(in));
	in.st = st;
	in.cfg = &cfg;
	in.pipeline = "p";
	in.rep = &rep;
	in.code = 1;
	T_OK(metrics_format(&in, &b, &e), &e);
	T_ASSERT(!b.err);
	T_ASSERT(strstr(b.ptr, "# TYPE stockpipe_last_run_id gauge\n"
			       "stockpipe_last_run_id{pipeline=\"p\"} 1\n"));
	T_ASSERT(strstr(b.ptr, "stockpipe_last_run_exit_code{pipeline=\"p\"} 1\n"));
	T_ASSERT(strstr(b.ptr, "stockpipe_run_files_fetched{pipeline=\"p\",source=\"stores\"} 1\n"));
	T_ASSERT(strstr(b.ptr, "stockpipe_run_records_in{pipeline=\"p\",source=\"stores\"} 10\n"));
	T_ASSERT(strstr(b.ptr, "stockpipe_run_rejects{pipeline=\"p\",source=\"stores\"} 3\n"));
	T_ASSERT(strstr(b.ptr, "stockpipe_run_quarantined_documents{pipeline=\"p\",source=\"erp\"} 1\n"));
	T_ASSERT(strstr(b.ptr, "stockpipe_quarantined_documents{pipeline=\"p\",source=\"erp\"} 1\n"));
	T_ASSERT(strstr(b.ptr, "stockpipe_stage_duration_seconds{pipeline=\"p\",stage=\"map\"} 0.500\n"));
	/* label values are escaped */
	T_ASSERT(strstr(b.ptr, "stockpipe_run_deliveries{pipeline=\"p\",target=\"web\\\"shop\"} 0\n"));
	/* no delivery: no latency sample */
	T_ASSERT(!strstr(b.ptr, "stockpipe_delivery_latency_seconds{"));
	T_ASSERT(b.ptr[b.len - 1] == '\n');
	buf_release(&b);
	report_release(&rep);
	state_close(st);
}
