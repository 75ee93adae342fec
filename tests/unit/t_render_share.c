/* t_render_share.c - the positions read once and replayed to the run's
 * other targets: the same rows as the store's walk, item fields and NULLs
 * included; a new run, another query or sharing off read the store. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pipeline/stages/render_share.h"
#include "pipeline/store/state.h"
#include "transforms/model/canon.h"
#include "t.h"

/* An item (when desc is not NULL; "" = an item without description) and
 * an on_hand snapshot of sku at loc. */
static int put(struct state *st, int64_t doc, const char *sku,
	       const char *loc, const char *desc, const char *qty,
	       struct err *e)
{
	struct canon_record r;
	struct load_stats ls;
	char txn[64];

	memset(&ls, 0, sizeof(ls));
	if (desc) {
		memset(&r, 0, sizeof(r));
		r.kind = CANON_ITEM;
		r.v[ITEM_SKU] = sku;
		r.v[ITEM_DESCRIPTION] = *desc ? desc : NULL;
		r.v[ITEM_BRAND] = "Brand";
		r.v[ITEM_AS_OF] = "2026-11-20T05:00:00Z";
		if (state_load_record(st, doc, &r, &ls, e) < 0)
			return -1;
	}
	memset(&r, 0, sizeof(r));
	snprintf(txn, sizeof(txn), "%s/%s/%lld", sku, loc, (long long)doc);
	r.kind = CANON_STOCK;
	r.v[STOCK_SKU] = sku;
	r.v[STOCK_LOCATION] = loc;
	r.v[STOCK_STATE] = "on_hand";
	r.v[STOCK_QUANTITY] = qty;
	r.v[STOCK_MODE] = "snapshot";
	r.v[STOCK_AS_OF] = "2026-11-20T05:00:00Z";
	r.v[STOCK_TXN_ID] = txn;
	r.lin.source = "stores";
	r.lin.file = "stock.csv";
	r.lin.line = 2;
	return state_load_record(st, doc, &r, &ls, e);
}

struct seen {
	char s[1 << 18]; /* every row of the tests, uncut */
	int stop_after; /* 0: never */
	int n;
};

/* One line per row: every field the walk hands over. */
static int seen_row(void *ud, const struct state_position *p)
{
	struct seen *x = ud;
	size_t l = strlen(x->s);
	int i;

	l += (size_t)snprintf(x->s + l, sizeof(x->s) - l, "%s|%s|%s|%d|%lld|%lld",
			      p->sku, p->location, p->location_type, p->state,
			      (long long)p->qty, (long long)p->as_of);
	for (i = 0; p->item && i < ITEM_NFIELDS; i++)
		l += (size_t)snprintf(x->s + l, sizeof(x->s) - l, "|%s",
				      p->item[i] ? p->item[i] : "(null)");
	snprintf(x->s + l, sizeof(x->s) - l, "%s\n", p->item ? "" : "|-");
	return ++x->n == x->stop_after;
}

static struct state *store(struct err *e)
{
	struct state *st = NULL;

	if (state_open("st", &st, e) < 0 ||
	    put(st, 1, "A1", "F001", "Kanne", "4", e) < 0 ||
	    put(st, 1, "A1", "F002", NULL, "5", e) < 0 ||
	    put(st, 1, "B2", "F001", NULL, "6", e) < 0 ||
	    put(st, 1, "C3", "F001", "", "7", e) < 0 ||
	    put(st, 1, "C3", "F003", NULL, "8", e) < 0)
		return NULL;
	return st;
}

T_TEST(render_share_replays_the_stores_rows)
{
	struct state *st;
	struct err e = ERR_INIT;
	static struct seen want, first, again, typed;

	T_ASSERT((st = store(&e)) != NULL);
	T_OK(state_positions_items_each(st, 0, seen_row, &want, &e), &e);
	T_ASSERT(strstr(want.s, "|-\n") && strstr(want.s, "Kanne"));
	render_share_run(7);
	T_OK(render_share_positions(st, 0, ".", seen_row, &first, &e), &e);
	T_EQ_STR(first.s, want.s);
	/* A load after the copy: the run's next target still replays the
	 * copy (a run's renders come after its loads; this proves the
	 * rows come from the copy, not from the store). */
	T_OK(put(st, 2, "D4", "F001", "Neu", "9", &e), &e);
	T_OK(render_share_positions(st, 0, ".", seen_row, &again, &e), &e);
	T_EQ_STR(again.s, want.s);
	/* Another query reads the store. */
	T_OK(render_share_positions(st, 1, ".", seen_row, &typed, &e), &e);
	T_ASSERT(strstr(typed.s, "D4|F001") != NULL);
	/* A new run reads the store again. */
	render_share_run(8);
	memset(&again, 0, sizeof(again));
	T_OK(render_share_positions(st, 0, ".", seen_row, &again, &e), &e);
	T_ASSERT(strstr(again.s, "D4|F001|") && strstr(again.s, "Neu"));
	render_share_run(0);
	render_share_drop();
	state_close(st);
}

T_TEST(render_share_keeps_no_partial_copy)
{
	struct state *st;
	struct err e = ERR_INIT;
	static struct seen part, full, want;

	T_ASSERT((st = store(&e)) != NULL);
	T_OK(state_positions_items_each(st, 0, seen_row, &want, &e), &e);
	render_share_run(9);
	/* The caller stops the walk after two rows: no copy is kept. */
	part.stop_after = 2;
	T_OK(render_share_positions(st, 0, ".", seen_row, &part, &e), &e);
	T_EQ_INT(part.n, 2);
	T_OK(put(st, 2, "D4", "F001", "Neu", "9", &e), &e);
	T_OK(render_share_positions(st, 0, ".", seen_row, &full, &e), &e);
	T_ASSERT(strstr(full.s, "D4|F001|") != NULL);
	/* Sharing off: always the store. */
	render_share_run(0);
	memset(&full, 0, sizeof(full));
	T_OK(render_share_positions(st, 0, ".", seen_row, &full, &e), &e);
	T_ASSERT(strstr(full.s, "D4|F001|") != NULL);
	render_share_drop();
	state_close(st);
}

/* ---- readers on other threads (render_par.h) ----------------------------- */

struct follower {
	struct render_share_src *src;
	struct seen *seen;
	struct err e;
	int rc;
};

static void *follow(void *arg)
{
	struct follower *f = arg;

	f->rc = render_share_src_replay(f->src, seen_row, f->seen, &f->e);
	return NULL;
}

/* Readers started before the walk wait for its records and get every row
 * the store's walk hands over, in order; a later render of the run
 * replays the completed copy. */
T_TEST(render_share_readers_follow_the_walk)
{
	struct state *st;
	struct err e = ERR_INIT;
	static struct seen want, a, b, later;
	struct follower fa = {NULL, &a, ERR_INIT, -1};
	struct follower fb = {NULL, &b, ERR_INIT, -1};
	struct timespec pause = {0, 50 * 1000 * 1000};
	pthread_t ta, tb;
	char sku[400];
	int i;

	T_ASSERT((st = store(&e)) != NULL);
	/* more than one 64 KiB write of the copy */
	for (i = 0; i < 200; i++) {
		snprintf(sku, sizeof(sku), "M%03d-%0300d", i, i);
		T_OK(put(st, 3, sku, "F001", "Viel", "1", &e), &e);
	}
	T_OK(state_positions_items_each(st, 0, seen_row, &want, &e), &e);
	render_share_run(10);
	T_OK(render_share_fill_begin(0, ".", &e), &e);
	T_ASSERT((fa.src = render_share_src_open(&e)) != NULL);
	T_ASSERT((fb.src = render_share_src_open(&e)) != NULL);
	T_ASSERT(pthread_create(&ta, NULL, follow, &fa) == 0);
	T_ASSERT(pthread_create(&tb, NULL, follow, &fb) == 0);
	/* the readers find nothing written yet: they must wait */
	nanosleep(&pause, NULL);
	T_OK(render_share_fill(st, &e), &e);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	T_OK(fa.rc, &fa.e);
	T_OK(fb.rc, &fb.e);
	T_EQ_STR(a.s, want.s);
	T_EQ_STR(b.s, want.s);
	render_share_src_close(fa.src);
	render_share_src_close(fb.src);
	T_OK(render_share_positions(st, 0, ".", seen_row, &later, &e), &e);
	T_EQ_STR(later.s, want.s);
	render_share_run(0);
	render_share_drop();
	state_close(st);
}

/* A copy dropped before its walk wrote it fails a reader waiting for it
 * (the jobs then fail and their units render themselves). */
T_TEST(render_share_reader_of_a_dropped_copy_fails)
{
	struct state *st;
	struct err e = ERR_INIT;
	static struct seen a;
	struct follower fa = {NULL, &a, ERR_INIT, 0};
	struct timespec pause = {0, 20 * 1000 * 1000};
	pthread_t ta;

	T_ASSERT((st = store(&e)) != NULL);
	render_share_run(11);
	T_OK(render_share_fill_begin(0, ".", &e), &e);
	T_ASSERT((fa.src = render_share_src_open(&e)) != NULL);
	T_ASSERT(pthread_create(&ta, NULL, follow, &fa) == 0);
	nanosleep(&pause, NULL);
	render_share_drop();
	pthread_join(ta, NULL);
	T_EQ_INT(fa.rc, -1);
	T_EQ_INT(a.n, 0);
	render_share_src_close(fa.src);
	render_share_run(0);
	state_close(st);
}
