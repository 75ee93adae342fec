/* t_stock.c - the stock states and the rules of a position
 * (transforms/model/stock.h), without a store. */
#include <string.h>

#include "lib/err.h"
#include "transforms/model/dec.h"
#include "transforms/model/stock.h"
#include "transforms/model/uom.h"
#include "t.h"

#define Q(i) DEC_FROM_INT(i)
#define T0 INT64_C(1795000000) /* some second of 2026 */

/* A position before the event: none (found 0), or one whose snapshot
 * (if snap) arrived as line snap_line of file 1 at T0 + snap_at. */
struct pos_spec {
	int found, snap;
	int64_t qty, snap_at, snap_line;
	const char *snap_txn;
	int64_t delta_at; /* STOCK_NONE: no delta */
};

struct ev_spec {
	enum stock_mode mode;
	int64_t qty, at, line;
	const char *txn;
	int replay;
};

struct apply_case {
	const char *name;
	struct pos_spec pos;
	struct ev_spec ev;
	dec later;                 /* the ledger's deltas after a snapshot */
	enum stock_outcome want;
	int64_t want_qty;          /* units */
	int want_needs_later;
};

static void pos_of(const struct pos_spec *s, struct stock_pos *p)
{
	stock_pos_init(p);
	if (!s->found)
		return;
	p->found = 1;
	p->qty = Q(s->qty);
	p->last_as_of = T0 + (s->snap ? s->snap_at : 0);
	if (s->snap) {
		p->snap_as_of = T0 + s->snap_at;
		p->snap_arr.file = 1;
		p->snap_arr.line = s->snap_line;
		strcpy(p->snap_txn, s->snap_txn ? s->snap_txn : "s");
	}
	p->delta_as_of = s->delta_at == STOCK_NONE ? STOCK_NONE
						   : T0 + s->delta_at;
}

static void ev_of(const struct ev_spec *s, struct stock_event *e)
{
	memset(e, 0, sizeof(*e));
	e->mode = s->mode;
	e->qty = Q(s->qty);
	e->as_of = T0 + s->at;
	e->arr.file = 1;
	e->arr.line = s->line;
	e->txn = s->txn ? s->txn : "e";
	e->replay = s->replay;
}

#define NODELTA STOCK_NONE
/* A position of 10 from a snapshot at T0 + 100, line 5, txn "m". */
#define SNAP10 {1, 1, 10, 100, 5, "m", NODELTA}

static const struct apply_case apply_cases[] = {
	{"snapshot on nothing", {0, 0, 0, 0, 0, NULL, NODELTA},
	 {STOCK_SNAPSHOT, 7, 0, 1, "a", 0}, 0, STOCK_APPLIED, 7, 0},
	{"delta on nothing", {0, 0, 0, 0, 0, NULL, NODELTA},
	 {STOCK_DELTA, -3, 0, 1, "a", 0}, 0, STOCK_APPLIED, -3, 0},
	{"newer snapshot replaces", SNAP10,
	 {STOCK_SNAPSHOT, 7, 200, 1, "a", 0}, 0, STOCK_APPLIED, 7, 0},
	{"newer delta adds", SNAP10,
	 {STOCK_DELTA, -3, 200, 1, "a", 0}, 0, STOCK_APPLIED, 7, 0},
	{"older snapshot is stale", SNAP10,
	 {STOCK_SNAPSHOT, 99, 50, 9, "z", 0}, 0, STOCK_STALE, 10, 0},
	{"older delta is stale", SNAP10,
	 {STOCK_DELTA, 5, 99, 9, "a", 0}, 0, STOCK_STALE, 10, 0},
	{"equal time, later arrival: snapshot wins", SNAP10,
	 {STOCK_SNAPSHOT, 4, 100, 6, "a", 0}, 0, STOCK_APPLIED, 4, 0},
	{"equal time, earlier arrival: snapshot stale", SNAP10,
	 {STOCK_SNAPSHOT, 4, 100, 4, "z", 0}, 0, STOCK_STALE, 10, 0},
	{"equal time, later arrival: delta adds", SNAP10,
	 {STOCK_DELTA, 2, 100, 6, "a", 0}, 0, STOCK_APPLIED, 12, 0},
	{"equal time, same arrival: delta counted by it", SNAP10,
	 {STOCK_DELTA, 2, 100, 5, "a", 0}, 0, STOCK_STALE, 10, 0},
	{"equal time and arrival: greater txn_id wins", SNAP10,
	 {STOCK_SNAPSHOT, 4, 100, 5, "n", 0}, 0, STOCK_APPLIED, 4, 0},
	{"equal time and arrival: smaller txn_id stale", SNAP10,
	 {STOCK_SNAPSHOT, 4, 100, 5, "l", 0}, 0, STOCK_STALE, 10, 0},
	{"replayed txn_id is a duplicate", SNAP10,
	 {STOCK_DELTA, 5, 200, 9, "m", 1}, 0, STOCK_DUPLICATE, 10, 0},
	{"replayed snapshot is a duplicate", SNAP10,
	 {STOCK_SNAPSHOT, 5, 200, 9, "m", 1}, 0, STOCK_DUPLICATE, 10, 0},
	/* A delta newer than the snapshot was loaded before it: the
	 * snapshot counts the ledger's later deltas. */
	{"snapshot under a newer delta adds the later deltas",
	 {1, 1, 13, 100, 5, "m", 300},
	 {STOCK_SNAPSHOT, 20, 200, 1, "a", 0}, Q(3), STOCK_APPLIED, 23, 1},
	{"stale snapshot needs no later deltas",
	 {1, 1, 13, 100, 5, "m", 300},
	 {STOCK_SNAPSHOT, 20, 50, 1, "a", 0}, Q(3), STOCK_STALE, 13, 0},
	{"delta never needs later deltas", {1, 1, 13, 100, 5, "m", 300},
	 {STOCK_DELTA, 1, 200, 1, "a", 0}, 0, STOCK_APPLIED, 14, 0},
};

T_TEST(stock_apply_table)
{
	size_t i;

	for (i = 0; i < sizeof(apply_cases) / sizeof(apply_cases[0]); i++) {
		const struct apply_case *c = &apply_cases[i];
		struct stock_pos p, before;
		struct stock_event e;
		enum stock_outcome o;

		pos_of(&c->pos, &p);
		ev_of(&c->ev, &e);
		before = p;
		if (stock_needs_later(&p, &e) != c->want_needs_later)
			T_FAIL("%s: needs_later %d", c->name, !c->want_needs_later);
		if (stock_judge(&p, &e) != c->want)
			T_FAIL("%s: judged %d, want %d", c->name,
			       (int)stock_judge(&p, &e), (int)c->want);
		o = stock_apply(&p, &e, c->later);
		if (o != c->want)
			T_FAIL("%s: outcome %d, want %d", c->name, (int)o,
			       (int)c->want);
		if (p.qty != Q(c->want_qty))
			T_FAIL("%s: qty %lld, want %lld units", c->name,
			       (long long)p.qty, (long long)c->want_qty);
		if (o != STOCK_APPLIED && memcmp(&p, &before, sizeof(p)))
			T_FAIL("%s: position changed though not applied",
			       c->name);
		if (o == STOCK_APPLIED && !p.found)
			T_FAIL("%s: applied position not found", c->name);
	}
}

T_TEST(stock_apply_keeps_snapshot_and_times)
{
	struct stock_pos p;
	struct stock_event e;
	struct ev_spec d = {STOCK_DELTA, 2, 300, 1, "d", 0},
		       s = {STOCK_SNAPSHOT, 9, 200, 7, "s2", 0};

	stock_pos_init(&p);
	ev_of(&d, &e);
	T_EQ_INT(stock_apply(&p, &e, 0), STOCK_APPLIED);
	/* A delta alone: no snapshot, its time is the newest delta's. */
	T_EQ_INT(p.snap_as_of, STOCK_NONE);
	T_EQ_INT(p.delta_as_of, T0 + 300);
	T_EQ_INT(p.last_as_of, T0 + 300);
	ev_of(&s, &e);
	T_EQ_INT(stock_needs_later(&p, &e), 1);
	T_EQ_INT(stock_apply(&p, &e, Q(2)), STOCK_APPLIED);
	T_EQ_INT(p.qty, Q(11));
	T_EQ_INT(p.snap_as_of, T0 + 200);
	T_EQ_INT(p.snap_arr.line, 7);
	T_EQ_STR(p.snap_txn, "s2");
	/* last_as_of never goes back. */
	T_EQ_INT(p.last_as_of, T0 + 300);
}

T_TEST(stock_apply_overflow_leaves_position)
{
	struct stock_pos p, before;
	struct stock_event e;

	stock_pos_init(&p);
	p.found = 1;
	p.qty = INT64_MAX - 1;
	before = p;
	memset(&e, 0, sizeof(e));
	e.mode = STOCK_DELTA;
	e.qty = 2;
	e.txn = "x";
	T_EQ_INT(stock_apply(&p, &e, 0), STOCK_OVERFLOW);
	T_ASSERT(!memcmp(&p, &before, sizeof(p)));
}

T_TEST(stock_long_txn_kept_cut)
{
	char txn[400];
	struct stock_pos p;
	struct stock_event e;

	memset(txn, 'a', sizeof(txn) - 1);
	txn[sizeof(txn) - 1] = '\0';
	stock_pos_init(&p);
	memset(&e, 0, sizeof(e));
	e.txn = txn;
	T_EQ_INT(stock_apply(&p, &e, 0), STOCK_APPLIED);
	T_EQ_INT(strlen(p.snap_txn), STOCK_TXN_MAX - 1);
	/* The same event again (no arrival key) is not older than itself:
	 * its full txn_id sorts after the kept cut one. */
	T_EQ_INT(stock_judge(&p, &e), STOCK_APPLIED);
}

/* Snapshots of one position with equal as_of end the same whatever the
 * order they are applied in. */
T_TEST(stock_snapshots_order_independent)
{
	static const struct ev_spec evs[3] = {
		{STOCK_SNAPSHOT, 5, 0, 2, "b", 0},
		{STOCK_SNAPSHOT, 8, 0, 3, "a", 0},
		{STOCK_SNAPSHOT, 6, 0, 1, "c", 0},
	};
	static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
					 {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	size_t i, k;

	for (i = 0; i < 6; i++) {
		struct stock_pos p;
		struct stock_event e;

		stock_pos_init(&p);
		for (k = 0; k < 3; k++) {
			ev_of(&evs[orders[i][k]], &e);
			stock_apply(&p, &e, 0);
		}
		if (p.qty != Q(8) || strcmp(p.snap_txn, "a"))
			T_FAIL("order %zu: qty %lld txn %s", i,
			       (long long)p.qty, p.snap_txn);
	}
}

/* Cases and eaches: the rules see base units only, converted before. */
T_TEST(stock_units_converted_before)
{
	struct stock_pos p;
	struct stock_event e;
	dec cases;
	int rounded;

	stock_pos_init(&p);
	memset(&e, 0, sizeof(e));
	e.txn = "t1";
	/* 2 cases of 12 as a snapshot, then 3 eaches sold. */
	T_EQ_INT(uom_qty(Q(2), Q(12), &cases, &rounded), 0);
	T_EQ_INT(rounded, 0);
	e.qty = cases;
	e.as_of = T0;
	T_EQ_INT(stock_apply(&p, &e, 0), STOCK_APPLIED);
	T_EQ_INT(p.qty, Q(24));
	e.mode = STOCK_DELTA;
	e.qty = Q(-3);
	e.as_of = T0 + 1;
	e.txn = "t2";
	T_EQ_INT(stock_apply(&p, &e, 0), STOCK_APPLIED);
	T_EQ_INT(p.qty, Q(21));
}

T_TEST(stock_rebuild_from_ledger)
{
	struct stock_ledger l;
	struct stock_pos p;

	memset(&l, 0, sizeof(l));
	l.delta_as_of = STOCK_NONE;
	T_EQ_INT(stock_rebuild(&l, &p), 0);
	T_EQ_INT(p.found, 0);
	/* Deltas only: their sum. */
	l.count = 2;
	l.last_as_of = T0 + 5;
	l.delta_as_of = T0 + 5;
	l.later = Q(4);
	T_EQ_INT(stock_rebuild(&l, &p), 1);
	T_EQ_INT(p.qty, Q(4));
	T_EQ_INT(p.snap_as_of, STOCK_NONE);
	T_EQ_STR(p.snap_txn, "");
	/* The latest snapshot plus the deltas after it. */
	l.count = 3;
	l.has_snap = 1;
	l.snap.qty = Q(10);
	l.snap.as_of = T0 + 1;
	l.snap.arr.file = 3;
	l.snap.txn = "s";
	T_EQ_INT(stock_rebuild(&l, &p), 1);
	T_EQ_INT(p.qty, Q(14));
	T_EQ_INT(p.snap_as_of, T0 + 1);
	T_EQ_INT(p.snap_arr.file, 3);
	T_EQ_STR(p.snap_txn, "s");
	T_EQ_INT(p.last_as_of, T0 + 5);
	T_EQ_INT(p.delta_as_of, T0 + 5);
}

T_TEST(stock_arrival_order)
{
	struct stock_arrival a = {2, 0, 9}, b = {2, 1, 1}, c = {3, 0, 0};

	/* File, then member, then line. */
	T_ASSERT(stock_arrival_cmp(&a, &b) < 0);
	T_ASSERT(stock_arrival_cmp(&b, &c) < 0);
	T_ASSERT(stock_arrival_cmp(&c, &a) > 0);
	T_EQ_INT(stock_arrival_cmp(&a, &a), 0);
	b.member = 0;
	T_ASSERT(stock_arrival_cmp(&b, &a) < 0);
	/* Files: mtime first, the name only within one second. */
	T_ASSERT(stock_file_order(10, "z.csv", 11, "a.csv") < 0);
	T_ASSERT(stock_file_order(11, "a.csv", 10, "z.csv") > 0);
	T_ASSERT(stock_file_order(10, "a.csv", 10, "b.csv") < 0);
	T_EQ_INT(stock_file_order(10, "a.csv", 10, "a.csv"), 0);
}

T_TEST(stock_state_names)
{
	char joined[128] = "";
	int s;

	for (s = 0; s < STOCK_NSTATES; s++) {
		T_EQ_INT(stock_state_from_name(stock_state_name(s)), s);
		if (s)
			strcat(joined, "|");
		strcat(joined, stock_state_name(s));
	}
	/* The text the canonical field table and messages list. */
	T_EQ_STR(joined, STOCK_STATE_NAMES);
	T_EQ_INT(stock_state_from_name("on_hand"), STOCK_ST_ON_HAND);
	T_EQ_INT(stock_state_from_name("return_pending"),
		 STOCK_ST_RETURN_PENDING);
	/* Unknown states are rejected, not guessed. */
	T_EQ_INT(stock_state_from_name("sellable"), -1);
	T_EQ_INT(stock_state_from_name("ON_HAND"), -1);
	T_EQ_INT(stock_state_from_name("on_hand|reserved"), -1);
	T_EQ_INT(stock_state_from_name("on_han"), -1);
	T_EQ_INT(stock_state_from_name(""), -1);
	T_EQ_STR(stock_state_name(STOCK_NSTATES), "?");
	T_EQ_INT(stock_mode_of("delta"), STOCK_DELTA);
	T_EQ_INT(stock_mode_of("snapshot"), STOCK_SNAPSHOT);
	T_EQ_INT(stock_mode_of(NULL), STOCK_SNAPSHOT);
	T_ASSERT(stock_set_has(STOCK_SET_NEVER_SELLABLE, STOCK_ST_DAMAGED));
	T_ASSERT(!stock_set_has(STOCK_SET_NEVER_SELLABLE, STOCK_ST_ON_HAND));
	T_ASSERT(!stock_set_has(STOCK_SET_ALL, STOCK_NSTATES));
}

T_TEST(stock_sellable_excludes_unsellable_states)
{
	dec by[STOCK_NSTATES];
	int s;

	for (s = 0; s < STOCK_NSTATES; s++)
		by[s] = Q(1) << s; /* one bit per state: the sum names them */
	T_EQ_INT(stock_sellable(by, STOCK_SET(STOCK_ST_ON_HAND),
				STOCK_SET(STOCK_ST_RESERVED)),
		 Q(1) - Q(2));
	/* Asking for everything never adds damaged, quarantined or
	 * return_pending stock. */
	T_EQ_INT(stock_sellable(by, STOCK_SET_ALL, 0),
		 Q(1) + Q(2) + Q(4) + Q(64));
	T_EQ_INT(stock_sellable(by, STOCK_SET_NEVER_SELLABLE, 0), 0);
	/* They may still be subtracted. */
	T_EQ_INT(stock_sellable(by, STOCK_SET(STOCK_ST_ON_HAND),
				STOCK_SET(STOCK_ST_DAMAGED)),
		 Q(1) - Q(8));
}

T_TEST(stock_atp_rules)
{
	struct stock_atp r;
	dec by[STOCK_NSTATES];
	int neg;

	memset(&r, 0, sizeof(r));
	memset(by, 0, sizeof(by));
	r.sellable = STOCK_SET(STOCK_ST_ON_HAND);
	r.subtract = STOCK_SET(STOCK_ST_RESERVED);
	r.allocation_pct = 100;
	by[STOCK_ST_ON_HAND] = Q(10);
	by[STOCK_ST_RESERVED] = Q(3);
	by[STOCK_ST_DAMAGED] = Q(50);
	T_EQ_INT(stock_atp(&r, by, 0, 0, 0, &neg), Q(7));
	T_EQ_INT(neg, 0);
	r.safety_abs = Q(2);
	T_EQ_INT(stock_atp(&r, by, 0, 0, 0, &neg), Q(5));
	r.safety_abs = 0;
	r.safety_pct = 50; /* 3.5 held back, 3.5 left, whole units: 3 */
	T_EQ_INT(stock_atp(&r, by, 0, 0, 0, &neg), Q(3));
	T_EQ_INT(stock_atp(&r, by, 0, 60, 0, &neg), 0); /* capped at 100% */
	r.safety_pct = 0;
	r.has_cap = 1;
	r.cap = Q(4);
	T_EQ_INT(stock_atp(&r, by, 0, 0, 0, &neg), Q(4));
	r.has_cap = 0;
	r.round_pack = 1;
	T_EQ_INT(stock_atp(&r, by, 0, 0, Q(6), &neg), Q(6));
	r.round_pack = 0;
	by[STOCK_ST_RESERVED] = Q(12);
	T_EQ_INT(stock_atp(&r, by, 0, 0, 0, &neg), 0);
	T_EQ_INT(neg, 1);
}
