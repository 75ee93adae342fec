/* stock.c - see stock.h. */
#include "stock.h"

#include <string.h>

static const char *const state_names[STOCK_NSTATES] = {
	[STOCK_ST_ON_HAND] = "on_hand",
	[STOCK_ST_RESERVED] = "reserved",
	[STOCK_ST_IN_TRANSIT] = "in_transit",
	[STOCK_ST_DAMAGED] = "damaged",
	[STOCK_ST_QUARANTINED] = "quarantined",
	[STOCK_ST_RETURN_PENDING] = "return_pending",
	[STOCK_ST_AVAILABLE] = "available",
};

const char *stock_state_name(enum stock_state s)
{
	return (unsigned)s < STOCK_NSTATES ? state_names[s] : "?";
}

int stock_state_from_name(const char *name)
{
	int s;

	for (s = 0; s < STOCK_NSTATES; s++)
		if (state_names[s][0] == name[0] &&
		    !strcmp(state_names[s], name))
			return s;
	return -1;
}

int stock_set_has(unsigned set, enum stock_state s)
{
	return (unsigned)s < STOCK_NSTATES && (set & STOCK_SET(s)) != 0;
}

enum stock_mode stock_mode_of(const char *mode)
{
	return mode && !strcmp(mode, "delta") ? STOCK_DELTA : STOCK_SNAPSHOT;
}

int stock_arrival_cmp(const struct stock_arrival *a,
		      const struct stock_arrival *b)
{
	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	if (a->member != b->member)
		return a->member < b->member ? -1 : 1;
	return (a->line > b->line) - (a->line < b->line);
}

int stock_file_order(int64_t mtime_a, const char *name_a, int64_t mtime_b,
		     const char *name_b)
{
	if (mtime_a != mtime_b)
		return mtime_a < mtime_b ? -1 : 1;
	/* Files of one second: the name decides, so a listing numbers them
	 * the same whatever order the source listed them in. */
	return strcmp(name_a, name_b);
}

void stock_pos_init(struct stock_pos *p)
{
	memset(p, 0, sizeof(*p));
	p->snap_as_of = STOCK_NONE;
	p->delta_as_of = STOCK_NONE;
}

/* The position's kept copy of a snapshot's txn_id: cut as the store's
 * column always was (stock.h, STOCK_TXN_MAX). */
static void txn_keep(char *dst, const char *txn)
{
	size_t n = strlen(txn);

	if (n >= STOCK_TXN_MAX)
		n = STOCK_TXN_MAX - 1;
	memcpy(dst, txn, n);
	dst[n] = '\0';
}

enum stock_outcome stock_judge(const struct stock_pos *p,
			       const struct stock_event *e)
{
	int c;

	if (e->replay)
		return STOCK_DUPLICATE;
	if (!p->found || p->snap_as_of == STOCK_NONE ||
	    e->as_of > p->snap_as_of)
		return STOCK_APPLIED;
	if (e->as_of < p->snap_as_of)
		return STOCK_STALE;
	/* Equal as_of: the later arrival wins. A delta that arrived with the
	 * snapshot (or before it) is part of what the snapshot counted. */
	c = stock_arrival_cmp(&e->arr, &p->snap_arr);
	if (e->mode == STOCK_DELTA)
		return c <= 0 ? STOCK_STALE : STOCK_APPLIED;
	/* Two snapshots with one arrival key (records loaded without one):
	 * the greater txn_id wins, so any load order ends the same. */
	if (c < 0 || (c == 0 && strcmp(e->txn, p->snap_txn) < 0))
		return STOCK_STALE;
	return STOCK_APPLIED;
}

int stock_needs_later(const struct stock_pos *p, const struct stock_event *e)
{
	return e->mode == STOCK_SNAPSHOT && p->found &&
	       p->delta_as_of >= e->as_of &&
	       stock_judge(p, e) == STOCK_APPLIED;
}

enum stock_outcome stock_apply(struct stock_pos *p,
			       const struct stock_event *e, dec later)
{
	enum stock_outcome o = stock_judge(p, e);
	dec q;

	if (o != STOCK_APPLIED)
		return o;
	if (e->mode == STOCK_DELTA) {
		if (dec_add(p->qty, e->qty, &q) < 0)
			return STOCK_OVERFLOW;
		p->qty = q;
		if (!p->found)
			p->snap_as_of = STOCK_NONE;
		if (e->as_of > p->delta_as_of)
			p->delta_as_of = e->as_of;
	} else {
		p->qty = e->qty + later;
		p->snap_as_of = e->as_of;
		p->snap_arr = e->arr;
		txn_keep(p->snap_txn, e->txn);
	}
	if (e->as_of > p->last_as_of || !p->found)
		p->last_as_of = e->as_of;
	p->found = 1;
	return STOCK_APPLIED;
}

int stock_rebuild(const struct stock_ledger *l, struct stock_pos *p)
{
	stock_pos_init(p);
	if (l->count == 0)
		return 0;
	p->found = 1;
	if (l->has_snap) {
		p->qty = l->snap.qty;
		p->snap_as_of = l->snap.as_of;
		p->snap_arr = l->snap.arr;
		txn_keep(p->snap_txn, l->snap.txn ? l->snap.txn : "");
	}
	p->qty += l->later;
	p->last_as_of = l->last_as_of;
	p->delta_as_of = l->delta_as_of;
	return 1;
}

dec stock_sellable(const dec by_state[STOCK_NSTATES], unsigned sellable,
		   unsigned subtract)
{
	dec v = 0;
	int i;

	sellable &= ~STOCK_SET_NEVER_SELLABLE;
	for (i = 0; i < STOCK_NSTATES; i++) {
		if (sellable & STOCK_SET(i))
			v += by_state[i];
		if (subtract & STOCK_SET(i))
			v -= by_state[i];
	}
	return v;
}

dec stock_atp(const struct stock_atp *r, const dec by_state[STOCK_NSTATES],
	      dec extra_abs, int extra_pct, dec pack, int *was_negative)
{
	dec v = stock_sellable(by_state, r->sellable, r->subtract), held, step;
	int pct = r->safety_pct + extra_pct;

	*was_negative = v < 0;
	if (v <= 0)
		return 0;
	held = r->safety_abs + extra_abs;
	if (pct)
		held += v * (pct > 100 ? 100 : pct) / 100;
	v -= held;
	if (v <= 0)
		return 0;
	v = v * r->allocation_pct / 100;
	if (r->has_cap && v > r->cap)
		v = r->cap;
	/* Whole units only (a channel cannot sell 0.4 of a shoe), or whole
	 * packs when the channel sells by the pack. */
	step = r->round_pack && pack > 0 ? pack : DEC_SCALE;
	return dec_floor_to(v, step);
}
