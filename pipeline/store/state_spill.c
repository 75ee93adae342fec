/* state_spill.c - a document larger than the load batch, loaded in one
 * sorted pass (state_int.h, struct load_batch; state_sort.h).
 *
 * Sorting each batch alone sent every batch over nearly every page of
 * positions and of the event index (stock_events_key): a document of B
 * batches paid B passes over the store, and the load grew faster than
 * the data. Here a full batch is not applied but marked and written as
 * one sorted run: its dupes (lb_dupes) and its txn_ids asked of the
 * ledger (state_txn_mark, which writes the new keys: they cluster by
 * document, so the ledger is appended to in arrival order), then its
 * records by position, then arrival, with what the marking said. A
 * txn_id seen in an earlier batch of the document is then a replay, as
 * one record at a time would have it. When the document ends
 * (state_lb_apply) the runs are merged and each position's records go
 * to lb_position in arrival order: the same rules, the same result,
 * each page of positions and stock_events_key visited about once per
 * document. The merged records fill the batch's arrays again, many
 * positions at a time (group_apply), so that their events go in as
 * multi-row INSERTs (lb.evq). Memory is the batch's arrays and one read
 * buffer per run.
 */
#include "state.h"
#include "state_int.h"

#include <stdlib.h>
#include <string.h>

/* A record in a pos run: this header, then sku, location, txn_id,
 * source and file, each NUL-terminated (source and file may be NULL:
 * has_source, has_file). Copied out with memcpy: runs are unaligned. */
struct spill_hdr {
	uint64_t seq;              /* arrival: seq0 + index in the batch */
	int64_t doc, qty, as_of, arr_file, arr_member, arr_line;
	uint64_t line;
	uintptr_t stats;           /* the load's counters (live until the
				    * flush, like the batch's pointers) */
	int32_t st, mode;
	unsigned char kept, has_source, has_file;
	unsigned char dupe, ins;   /* as the batch's marking said */
	unsigned char src_doc, file_doc, txn_doc; /* state_lineage_derive's */
	int64_t txn_seq, txn_rec;
};

int state_spill_ok(struct state *s)
{
	return s->lb_on && s->in_tx && !s->lb.bulk_on && !state_is_pg(s) &&
	       s->dir;
}

static int put_pos(struct state *s, const struct lb_rec *e, uint64_t seq,
		   char **buf, size_t *cap, struct err *err)
{
	const char *str[5] = {e->sku, e->loc, e->ev.txn, e->source, e->file};
	size_t len[5], n = sizeof(struct spill_hdr), i;
	struct spill_hdr h;
	char *p;

	memset(&h, 0, sizeof(h));
	for (i = 0; i < 5; i++)
		n += (len[i] = str[i] ? strlen(str[i]) + 1 : 1);
	if (n > *cap) {
		if (!(p = realloc(*buf, n)))
			return err_set(err, E_NOMEM, "out of memory");
		*buf = p;
		*cap = n;
	}
	h.seq = seq;
	h.doc = e->doc;
	h.qty = e->ev.qty;
	h.as_of = e->ev.as_of;
	h.arr_file = e->ev.arr.file;
	h.arr_member = e->ev.arr.member;
	h.arr_line = e->ev.arr.line;
	h.line = e->line;
	h.stats = (uintptr_t)e->stats;
	h.st = e->st;
	h.mode = e->ev.mode;
	h.kept = e->kept;
	h.dupe = e->dupe;
	h.ins = e->ins;
	h.has_source = e->source != NULL;
	h.has_file = e->file != NULL;
	h.src_doc = e->src_doc;
	h.file_doc = e->file_doc;
	h.txn_doc = e->txn_doc;
	h.txn_seq = e->txn_seq;
	h.txn_rec = e->txn_rec;
	memcpy(*buf, &h, sizeof(h));
	p = *buf + sizeof(h);
	for (i = 0; i < 5; i++) {
		if (str[i])
			memcpy(p, str[i], len[i]);
		else
			*p = '\0';
		p += len[i];
	}
	return state_sort_put(&s->lb.pos, s->dir, *buf, n, err);
}

int state_spill_batch(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	char *buf = NULL;
	size_t cap = 0, i;
	int rc = -1;

	if (state_lb_mark(s, err) < 0)
		return -1;
	for (i = 0; i < b->n; i++)
		b->order[i] = (uint32_t)i;
	qsort_r(b->order, b->n, sizeof(*b->order), state_lb_cmp, b->r);
	for (i = 0; i < b->n; i++)
		if (put_pos(s, &b->r[b->order[i]], b->seq0 + b->order[i], &buf,
			    &cap, err) < 0)
			goto out;
	if (state_sort_end_run(&b->pos, err) < 0)
		goto out;
	b->seq0 += b->n;
	b->n = 0;
	b->source = b->file = NULL;
	arena_reset(&b->a);
	rc = 0;
out:
	free(buf);
	return rc;
}

/* ---- the merge ------------------------------------------------------ */

struct spill_merge {
	struct state *s;
	struct err *err;
};

/* A pos record's header and strings (pointing into rec). */
static void pos_decode(const void *rec, struct spill_hdr *h,
		       const char *str[5])
{
	const char *p = (const char *)rec + sizeof(*h);
	int i;

	memcpy(h, rec, sizeof(*h));
	for (i = 0; i < 5; i++) {
		str[i] = p;
		p += strlen(p) + 1;
	}
	if (!h->has_source)
		str[3] = NULL;
	if (!h->has_file)
		str[4] = NULL;
}

/* lb_cmp's order over pos records: position, then arrival. */
static int pos_wire_cmp(const void *a, size_t an, const void *b, size_t bn,
			void *ud)
{
	struct spill_hdr x, y;
	const char *xs = (const char *)a + sizeof(x),
		   *ys = (const char *)b + sizeof(y);
	int c;

	(void)an;
	(void)bn;
	(void)ud;
	if ((c = strcmp(xs, ys)) ||
	    (c = strcmp(xs + strlen(xs) + 1, ys + strlen(ys) + 1)))
		return c;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	if (x.st != y.st)
		return (x.st > y.st) - (x.st < y.st);
	return (x.seq > y.seq) - (x.seq < y.seq);
}

/* Applies the waiting records lb.r[0..n), in position order, each
 * position's run with state_lb_position; many positions at a time, so
 * that their events go in as one multi-row INSERT (lb.evq). A position
 * cut by a full batch or arena is applied in two calls, as before: the
 * second reads what the first wrote. */
static int group_apply(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	size_t i, j;
	int rc = 0;

	if (!b->n)
		return 0;
	for (i = 0; i < b->n; i++)
		b->order[i] = (uint32_t)i;
	for (i = 0; i < b->n && !rc; i = j) {
		for (j = i + 1;
		     j < b->n && !state_lb_keycmp(&b->r[i], &b->r[j]); j++)
			;
		rc = state_lb_position(s, b->order + i, j - i, err);
	}
	/* the queued events point into the arena */
	if (!rc)
		rc = state_lb_events_flush(s, err);
	b->nevq = 0;
	b->n = 0;
	b->source = b->file = NULL;
	arena_reset(&b->a);
	return rc;
}

/* The strings of a merged record copied into the batch's arena; 0 when
 * the arena is full. */
static int copy_strs(struct load_batch *b, const char *str[5],
		     const char *out[5])
{
	int i;

	for (i = 0; i < 5; i++)
		if (!str[i])
			out[i] = NULL;
		else if (!(out[i] = arena_strdup(&b->a, str[i])))
			return 0;
	return 1;
}

/* One merged record: a full batch or arena applies what it holds
 * (group_apply), then goes on; a position cut there is read again by
 * lb_position. */
static int pos_each(const void *rec, size_t n, void *ud)
{
	struct spill_merge *m = ud;
	struct load_batch *b = &m->s->lb;
	struct spill_hdr h;
	const char *str[5], *cp[5];
	struct lb_rec *e;
	int tries;

	(void)n;
	if (m->s->apply_cb)
		m->s->apply_cb(m->s->apply_ud);
	pos_decode(rec, &h, str);
	if (b->n == b->max && group_apply(m->s, m->err) < 0)
		return -1;
	for (tries = 0; !copy_strs(b, str, cp); tries++) {
		if (tries || !b->n)
			return err_set(m->err, E_NOMEM,
				       "load: a record larger than the batch");
		if (group_apply(m->s, m->err) < 0)
			return -1;
	}
	e = &b->r[b->n++];
	memset(e, 0, sizeof(*e));
	e->sku = cp[0];
	e->skey = state_lb_skey(cp[0]);
	e->loc = cp[1];
	e->ev.txn = cp[2];
	e->source = cp[3];
	e->file = cp[4];
	e->src_doc = h.src_doc;
	e->file_doc = h.file_doc;
	e->txn_doc = h.txn_doc;
	e->txn_seq = h.txn_seq;
	e->txn_rec = h.txn_rec;
	e->stats = (struct load_stats *)h.stats;
	e->ev.arr.file = h.arr_file;
	e->ev.arr.member = h.arr_member;
	e->ev.arr.line = h.arr_line;
	e->doc = h.doc;
	e->ev.as_of = h.as_of;
	e->ev.qty = h.qty;
	e->line = (unsigned long)h.line;
	e->st = (enum stock_state)h.st;
	e->ev.mode = (enum stock_mode)h.mode;
	e->kept = h.kept;
	e->dupe = h.dupe;
	e->ins = h.ins;
	return 0;
}

int state_spill_apply(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	struct spill_merge m = {s, err};
	int rc = -1;

	if (b->n && state_spill_batch(s, err) < 0)
		goto out;
	if (state_sort_merge(&b->pos, pos_wire_cmp, pos_each, &m, err) < 0 ||
	    group_apply(s, err) < 0)
		goto out;
	rc = 0;
out:
	state_lb_discard(s);
	return rc;
}
