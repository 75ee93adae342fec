/* t_arrival.c - arrival keys (issue 15): ties in as_of between stock
 * snapshots, between a snapshot and a delta, and between master-data rows
 * (items, prices) are decided by arrival (file, member, line), never by
 * txn_id; rows without as_of rank below dated ones and among themselves
 * by arrival. Property: every permutation of the load order of a few
 * documents (snapshots and deltas of the same positions, equal and
 * different as_of, dated and undated master data) gives the same
 * positions, items and prices. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/store/state.h"
#include "t.h"

#define T0 "2026-11-20T06:00:00Z"
#define T1 "2026-11-20T07:00:00Z"
#define TM "2026-11-19T06:00:00Z"

/* One record of a test document; kind 's' snapshot, 'd' delta, 'i' item,
 * 'p' price (default list, regular). */
struct arec {
	char kind;
	const char *sku, *loc, *qty_or_text, *as_of, *txn;
};

struct adoc {
	int64_t file, member;
	const struct arec *r;
	size_t n;
};

static struct canon_record mk(const struct arec *a)
{
	struct canon_record r;

	memset(&r, 0, sizeof(r));
	r.lin.source = "s";
	r.lin.file = "f.csv";
	r.lin.line = 1;
	switch (a->kind) {
	case 's':
	case 'd':
		r.kind = CANON_STOCK;
		r.v[STOCK_SKU] = a->sku;
		r.v[STOCK_LOCATION] = a->loc;
		r.v[STOCK_STATE] = "on_hand";
		r.v[STOCK_QUANTITY] = a->qty_or_text;
		r.v[STOCK_MODE] = a->kind == 'd' ? "delta" : "snapshot";
		r.v[STOCK_AS_OF] = a->as_of;
		r.v[STOCK_TXN_ID] = a->txn;
		break;
	case 'i':
		r.kind = CANON_ITEM;
		r.v[ITEM_SKU] = a->sku;
		r.v[ITEM_DESCRIPTION] = a->qty_or_text;
		r.v[ITEM_AS_OF] = a->as_of;
		r.v[ITEM_TXN_ID] = a->txn;
		break;
	default:
		r.kind = CANON_PRICE;
		r.v[PRICE_SKU] = a->sku;
		r.v[PRICE_PRICE_LIST] = "default";
		r.v[PRICE_CURRENCY] = "EUR";
		r.v[PRICE_AMOUNT] = a->qty_or_text;
		r.v[PRICE_KIND] = "regular";
		r.v[PRICE_AS_OF] = a->as_of;
		r.v[PRICE_TXN_ID] = a->txn;
		break;
	}
	return r;
}

/* Loads d as the load stage does: one transaction, batched, each record
 * with its arrival key (line = ordinal in the document). */
static int load_doc(struct state *st, int64_t docid, const struct adoc *d,
		    struct load_stats *ls, struct err *e)
{
	struct state_arrival arr = {d->file, d->member, 0};
	struct canon_record r;
	size_t i;

	if (state_begin(st, e) < 0)
		return -1;
	state_load_batching(st);
	for (i = 0; i < d->n; i++) {
		arr.line = (int64_t)i + 1;
		state_load_arrival(st, &arr);
		r = mk(&d->r[i]);
		if (state_load_record(st, docid, &r, ls, e) < 0) {
			state_rollback(st);
			return -1;
		}
	}
	if (state_load_flush(st, e) < 0) {
		state_rollback(st);
		return -1;
	}
	return state_commit(st, e);
}

static int cat_pos(void *ud, const struct state_position *p)
{
	char *out = ud;
	size_t n = strlen(out);

	snprintf(out + n, 2048 - n, "%s/%s=%lld;", p->sku, p->location,
		 (long long)(p->qty / DEC_SCALE));
	return 0;
}

static int cat_item(void *ud, const char *const *item, const char *price,
		    const char *currency)
{
	char *out = ud;
	size_t n = strlen(out);

	(void)currency;
	snprintf(out + n, 2048 - n, "%s:%s:%s;", item[ITEM_SKU],
		 item[ITEM_DESCRIPTION] ? item[ITEM_DESCRIPTION] : "-",
		 price ? price : "-");
	return 0;
}

/* Positions, then items with their default price, as one string. */
static int picture(struct state *st, char *out, struct err *e)
{
	out[0] = '\0';
	if (state_positions_each(st, cat_pos, out, e) < 0)
		return -1;
	return state_items_each(st, cat_item, out, e);
}

/* Loads docs[order[0..n)] into a fresh store in dir; *out = picture. */
static int load_order(const char *dir, const struct adoc *docs,
		      const int *order, size_t n, char *out,
		      struct load_stats *ls, struct err *e)
{
	struct state *st;
	size_t i;
	int rc = 0;

	if (state_open(dir, &st, e) < 0)
		return -1;
	for (i = 0; i < n && !rc; i++)
		rc = load_doc(st, order[i] + 1, &docs[order[i]], ls, e);
	if (!rc)
		rc = picture(st, out, e);
	state_close(st);
	return rc;
}

T_TEST(arrival_snapshot_ties_by_arrival_not_txn)
{
	/* The earlier arrival has the greater txn_id: before arrival keys
	 * it won; now the later arrival wins in either load order. */
	static const struct arec a[] = {{'s', "A", "L", "5", T0, "zzz"}};
	static const struct arec b[] = {{'s', "A", "L", "8", T0, "aaa"}};
	const struct adoc docs[] = {{1, 0, a, 1}, {2, 0, b, 1}};
	const int ab[] = {0, 1}, ba[] = {1, 0};
	char p1[2048], p2[2048];
	struct load_stats ls;
	struct err e = ERR_INIT;

	memset(&ls, 0, sizeof(ls));
	T_OK(load_order("ab", docs, ab, 2, p1, &ls, &e), &e);
	T_EQ_INT(ls.stale, 0);
	T_OK(load_order("ba", docs, ba, 2, p2, &ls, &e), &e);
	T_EQ_INT(ls.stale, 1); /* the earlier one, loaded last */
	T_EQ_STR(p1, "A/L=8;");
	T_EQ_STR(p2, p1);
}

T_TEST(arrival_member_and_line_order)
{
	/* Same file: the later member wins; same document: the later line. */
	static const struct arec m0[] = {{'s', "A", "L", "1", T0, "t9"},
					 {'s', "B", "L", "1", T0, "u2"},
					 {'s', "B", "L", "2", T0, "u1"}};
	static const struct arec m1[] = {{'s', "A", "L", "3", T0, "t1"}};
	const struct adoc docs[] = {{7, 0, m0, 3}, {7, 1, m1, 1}};
	const int ab[] = {0, 1}, ba[] = {1, 0};
	char p1[2048], p2[2048];
	struct load_stats ls;
	struct err e = ERR_INIT;

	memset(&ls, 0, sizeof(ls));
	T_OK(load_order("ab", docs, ab, 2, p1, &ls, &e), &e);
	T_OK(load_order("ba", docs, ba, 2, p2, &ls, &e), &e);
	T_EQ_STR(p1, "A/L=3;B/L=2;");
	T_EQ_STR(p2, p1);
}

T_TEST(arrival_delta_at_snapshot_time)
{
	/* A delta with the snapshot's as_of counts when it arrived after
	 * the snapshot, is stale when it arrived before: in either order. */
	static const struct arec d1[] = {{'d', "A", "L", "-1", T0, "d1"}};
	static const struct arec s2[] = {{'s', "A", "L", "10", T0, "s2"},
					 {'d', "A", "L", "-2", T0, "d2"}};
	static const struct arec d3[] = {{'d', "A", "L", "-4", T0, "d3"}};
	const struct adoc docs[] = {{1, 0, d1, 1}, {2, 0, s2, 2},
				    {3, 0, d3, 1}};
	const int o1[] = {0, 1, 2}, o2[] = {2, 1, 0}, o3[] = {1, 2, 0};
	char p1[2048], p2[2048], p3[2048];
	struct load_stats ls;
	struct err e = ERR_INIT;

	memset(&ls, 0, sizeof(ls));
	T_OK(load_order("o1", docs, o1, 3, p1, &ls, &e), &e);
	T_OK(load_order("o2", docs, o2, 3, p2, &ls, &e), &e);
	T_OK(load_order("o3", docs, o3, 3, p3, &ls, &e), &e);
	T_EQ_STR(p1, "A/L=4;");
	T_EQ_STR(p2, p1);
	T_EQ_STR(p3, p1);
}

T_TEST(arrival_items_prices_undated_later_arrival_wins)
{
	/* Undated rows: the later arrival wins, not the later load; a dated
	 * row ranks above undated ones; equal dates go by arrival. */
	static const struct arec a[] = {{'i', "X", NULL, "x-late", NULL, "1"},
					{'p', "X", NULL, "2.00", NULL, "2"},
					{'i', "Y", NULL, "y-late", T0, "3"}};
	static const struct arec b[] = {{'i', "X", NULL, "x-early", NULL, "9"},
					{'p', "X", NULL, "1.00", NULL, "8"},
					{'i', "Y", NULL, "y-early", T0, "7"},
					{'i', "Z", NULL, "z-dated", TM, "6"}};
	static const struct arec c[] = {{'i', "Z", NULL, "z-undated", NULL,
					 "5"}};
	const struct adoc docs[] = {{5, 0, a, 3}, {4, 0, b, 4}, {6, 0, c, 1}};
	const int o1[] = {0, 1, 2}, o2[] = {1, 0, 2}, o3[] = {2, 1, 0};
	char p1[2048], p2[2048], p3[2048];
	struct load_stats ls;
	struct err e = ERR_INIT;

	memset(&ls, 0, sizeof(ls));
	T_OK(load_order("o1", docs, o1, 3, p1, &ls, &e), &e);
	T_OK(load_order("o2", docs, o2, 3, p2, &ls, &e), &e);
	T_OK(load_order("o3", docs, o3, 3, p3, &ls, &e), &e);
	T_EQ_STR(p1, "X:x-late:2.00;Y:y-late:-;Z:z-dated:-;");
	T_EQ_STR(p2, p1);
	T_EQ_STR(p3, p1);
}

T_TEST(arrival_unload_recomputes_by_arrival)
{
	/* Taking back the later snapshot leaves the earlier one, and a
	 * reload of the taken-back document wins again. */
	static const struct arec a[] = {{'s', "A", "L", "5", T0, "zzz"}};
	static const struct arec b[] = {{'s', "A", "L", "8", T0, "aaa"}};
	const struct adoc da = {1, 0, a, 1}, db = {2, 0, b, 1};
	struct state *st;
	struct load_stats ls;
	struct err e = ERR_INIT;
	char p[2048];

	memset(&ls, 0, sizeof(ls));
	T_OK(state_open("st", &st, &e), &e);
	T_OK(load_doc(st, 2, &db, &ls, &e), &e);
	T_OK(load_doc(st, 1, &da, &ls, &e), &e);
	T_OK(state_begin(st, &e), &e);
	T_OK(state_unload_doc(st, 2, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_OK(picture(st, p, &e), &e);
	T_EQ_STR(p, "A/L=5;");
	T_OK(load_doc(st, 2, &db, &ls, &e), &e);
	T_OK(picture(st, p, &e), &e);
	T_EQ_STR(p, "A/L=8;");
	/* a recompute agrees with the incremental rule */
	T_OK(state_begin(st, &e), &e);
	T_OK(state_unload_doc(st, 1, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_OK(picture(st, p, &e), &e);
	T_EQ_STR(p, "A/L=8;");
	state_close(st);
}

/* Next permutation of a[0..n) in lexicographic order; 0 after the last. */
static int next_perm(int *a, int n)
{
	int i = n - 2, j, t;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return 0;
	for (j = n - 1; a[j] <= a[i]; j--)
		;
	t = a[i], a[i] = a[j], a[j] = t;
	for (i++, j = n - 1; i < j; i++, j--)
		t = a[i], a[i] = a[j], a[j] = t;
	return 1;
}

T_TEST(arrival_every_load_order_same_truth)
{
	/* Five documents: snapshots and deltas of positions A/L and B/L with
	 * equal and different as_of (two members of one archive among
	 * them), txn_ids that sort against arrival, dated and undated item
	 * and price rows. All 120 load orders must give one picture. */
	static const struct arec d1[] = {
		{'s', "A", "L", "10", T0, "z1"}, {'i', "X", NULL, "x1", NULL, "i1"},
		{'p', "X", NULL, "1.00", NULL, "p1"},
		{'i', "Y", NULL, "y1", NULL, "i2"}};
	static const struct arec d2[] = {
		{'s', "A", "L", "20", T0, "y2"}, {'d', "A", "L", "-2", T0, "y3"},
		{'i', "X", NULL, "x2", NULL, "i3"}, {'s', "B", "L", "4", T1, "y4"}};
	static const struct arec d3[] = {
		{'d', "A", "L", "5", T1, "x5"}, {'p', "X", NULL, "2.00", NULL, "p2"},
		{'s', "B", "L", "7", T0, "x6"}, {'i', "Y", NULL, "y3", TM, "i4"}};
	static const struct arec d4[] = {
		{'s', "B", "L", "9", T1, "w7"}, {'d', "A", "L", "-1", T0, "w8"},
		{'i', "X", NULL, "x4", TM, "i5"}, {'d', "B", "L", "3", T1, "w9"}};
	static const struct arec d5[] = {
		{'s', "A", "L", "25", T0, "a0"}, {'p', "X", NULL, "3.00", TM, "p3"},
		{'i', "Y", NULL, "y5", NULL, "i6"}};
	const struct adoc docs[] = {{1, 0, d1, 4}, {2, 0, d2, 4},
				    {3, 0, d3, 4}, {4, 0, d4, 4},
				    {2, 1, d5, 3}};
	int order[5] = {0, 1, 2, 3, 4}, n = 0;
	char first[2048], p[2048], dir[32];
	struct load_stats ls;
	struct err e = ERR_INIT;

	memset(&ls, 0, sizeof(ls));
	do {
		snprintf(dir, sizeof(dir), "p%d", n);
		T_OK(load_order(dir, docs, order, 5, p, &ls, &e), &e);
		if (n == 0)
			memcpy(first, p, sizeof(first));
		else if (strcmp(p, first))
			T_FAIL("order %d%d%d%d%d: %s, expected %s", order[0],
			       order[1], order[2], order[3], order[4], p,
			       first);
		n++;
	} while (next_perm(order, 5));
	T_EQ_INT(n, 120);
	/* A/L: d5's snapshot (member 1 of file 2, after d2) + d4's delta at
	 * T0 (file 4) + d3's delta at T1; d2's delta came before d5. B/L:
	 * d4's snapshot at T1 (file 4 after d2's) + its delta after it. X:
	 * the dated row x4; price 3.00 (dated). Y: the dated y3. */
	T_EQ_STR(first, "A/L=29;B/L=12;X:x4:3.00;Y:y3:-;");
}
