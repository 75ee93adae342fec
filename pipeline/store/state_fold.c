/* state_fold.c - folding the stock events of collected runs; see
 * state_fold.h.
 *
 * Which events may go (the rule the tests hold it to). A position is
 * rebuilt from its events only when a document is unloaded (state_load.c,
 * state_unload_doc -> recompute): from the latest applied snapshot (as_of,
 * arrival, txn_id), the applied deltas after it by (as_of, arrival), the
 * newest as_of and the count. Only a document of a run that can still be
 * rerun or resumed is ever unloaded, i.e. one of a run inside the
 * retention window: gc never collects a run that is not concluded or that
 * has unfinished units, and rerun refuses a collected run (runs.gc_at).
 * So an event E may be folded when:
 *   1. E belongs to a document of a collected run (never unloaded), and
 *   2. a snapshot S of the same (sku, location, state) and the same
 *      source, applied, also of a collected run (so no unload can take it
 *      away), is strictly newer than E by (as_of, arr_file, arr_member,
 *      arr_line).
 * Then whatever window documents are unloaded, the latest snapshot left
 * is S or newer, so E is neither that snapshot nor a delta after it; the
 * newest as_of is S's or newer and the count stays above zero: recompute
 * gives the same position with or without E. (The one field that can
 * differ is positions.delta_as_of, the newest delta's as_of, which is
 * only a hint for "sum the deltas after a new snapshot": the deltas it
 * would skip are all before S, where the sum is 0 either way.) The same
 * source keeps `reconcile`'s latest snapshot of each source. The newest
 * covering snapshot is never folded (nothing is newer than it), so folding
 * in any order, and again later, keeps every position's base. Where a
 * run of a window document held a snapshot newer than E, E stays: an
 * unload of that document (a rerun after a mapping fix) may need E.
 *
 * The txn_id of a folded event stays in txn_digests as the first 16
 * bytes of its SHA-256; state_fold_replays makes the load treat such a
 * txn_id as a replay, exactly as it treats one of an existing event.
 *
 * Tables: txn_digests (written), stock_events and stock_event_units
 * (rows deleted).
 */
#include "state_fold.h"
#include "db.h"
#include "state_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sha256.h"

/* The map units (documents) of collected runs. */
#define FOLD_DOCS                                                        \
	"(SELECT u.id FROM units u JOIN runs r ON r.run_id = u.run_id"   \
	" WHERE u.stage = 'map' AND r.gc_at IS NOT NULL)"
/* Event e may be folded (the rule above). */
#define FOLD_COVERED                                                     \
	"e.doc IN " FOLD_DOCS " AND EXISTS (SELECT 1 FROM stock_events s" \
	" WHERE s.sku = e.sku AND s.location = e.location"               \
	" AND s.state = e.state AND s.delta = 0 AND s.applied = 1"       \
	" AND coalesce(s.source, '') = coalesce(e.source, '')"           \
	" AND s.as_of >= e.as_of AND (s.as_of, s.arr_file, s.arr_member," \
	" s.arr_line) > (e.as_of, e.arr_file, e.arr_member, e.arr_line)"  \
	" AND s.doc IN " FOLD_DOCS ")"
/* Events folded per statement round on SQLite. */
#define FOLD_CHUNK 1024

/* This file's statements (state_int.h). */
const struct state_sql state_fold_sql[S_NSTMTS] = {
	[SF_ANY] = {"SELECT 1 FROM txn_digests LIMIT 1", 0},
	[SF_SEEN] = {"SELECT 1 FROM txn_digests WHERE digest = ?", 0},
	[SF_DIGEST_ADD] = {"INSERT INTO txn_digests(digest) VALUES(?)"
			   " ON CONFLICT DO NOTHING", 0},
	[SF_EV_DEL] = {"DELETE FROM stock_events WHERE id = ?", 0},
	/* The unit conversions of the folded events (keyed by txn_id). */
	[SF_UNITS_DEL] = {"DELETE FROM stock_event_units WHERE doc IN "
			  FOLD_DOCS " AND NOT EXISTS (SELECT 1 FROM"
			  " stock_events e WHERE e.txn_id ="
			  " stock_event_units.txn_id)", 0},
};

/* PostgreSQL's own (SQLite has neither the functions nor an alias in a
 * DELETE), prepared per call (state_sql_rows): once per batch or gc.
 * The digests of a whole batch in one round trip, as one comma-separated
 * list of hex digests: */
static const char seen_pg_sql[] =
	"SELECT encode(digest, 'hex') FROM txn_digests WHERE digest IN"
	" (SELECT decode(h, 'hex') FROM unnest(string_to_array(?, ','))"
	" AS t(h))";
/* SQLite: the newest covering snapshot of each (position, source), once
 * (one pass over the events, sorted), then the events in id order, each
 * looked up in it: a correlated EXISTS per event read the events table
 * at random (minutes on a store larger than the page cache). Folding in
 * chunks never changes a row of the cover: its own snapshot is not older
 * than itself. The events drive the join (CROSS JOIN keeps that order),
 * so each chunk starts where the last one ended. */
static const char cover_lite_sql[] =
	"CREATE TEMP TABLE fold_cover(sku TEXT, location TEXT, state INTEGER,"
	" src TEXT, as_of INTEGER, arr_file INTEGER, arr_member INTEGER,"
	" arr_line INTEGER, PRIMARY KEY(sku, location, state, src))"
	" WITHOUT ROWID;"
	"INSERT INTO fold_cover SELECT sku, location, state, src, as_of,"
	" arr_file, arr_member, arr_line FROM (SELECT s.sku, s.location,"
	" s.state, coalesce(s.source, '') AS src, s.as_of, s.arr_file,"
	" s.arr_member, s.arr_line, row_number() OVER (PARTITION BY s.sku,"
	" s.location, s.state, coalesce(s.source, '') ORDER BY s.as_of DESC,"
	" s.arr_file DESC, s.arr_member DESC, s.arr_line DESC) AS rn"
	" FROM stock_events s WHERE s.delta = 0 AND s.applied = 1"
	" AND s.doc IN " FOLD_DOCS ") WHERE rn = 1";
static const char pick_lite_sql[] =
	"SELECT e.id, e.txn_id FROM stock_events e CROSS JOIN"
	" temp.fold_cover c ON c.sku = e.sku AND c.location = e.location"
	" AND c.state = e.state AND c.src = coalesce(e.source, '')"
	" WHERE e.id > ? AND e.doc IN " FOLD_DOCS " AND (e.as_of,"
	" e.arr_file, e.arr_member, e.arr_line) < (c.as_of, c.arr_file,"
	" c.arr_member, c.arr_line) ORDER BY e.id LIMIT 1024";
static const char cover_drop_sql[] = "DROP TABLE IF EXISTS temp.fold_cover";
/* Folding in two set statements (sha256() is the digest
 * state_fold_digest computes), digests first: both see the events as
 * they were. */
static const char digest_add_pg_sql[] =
	"INSERT INTO txn_digests(digest) SELECT substring(sha256(convert_to("
	"e.txn_id, 'UTF8')) FROM 1 FOR 16) FROM stock_events e WHERE "
	FOLD_COVERED " ON CONFLICT DO NOTHING";
static const char ev_del_pg_sql[] =
	"DELETE FROM stock_events e WHERE " FOLD_COVERED;

static int hexval(char c)
{
	return c >= 'a' ? c - 'a' + 10 : c - '0';
}

int state_fold_digest(const char *txn, unsigned char out[STATE_FOLD_DIGEST],
		      struct err *err)
{
	char hex[SHA256_HEX_LEN];
	int i;

	if (sha256_hex_of(txn, strlen(txn), hex, err) < 0)
		return -1;
	for (i = 0; i < STATE_FOLD_DIGEST; i++)
		out[i] = (unsigned char)(hexval(hex[2 * i]) << 4 |
					 hexval(hex[2 * i + 1]));
	return 0;
}

static void digest_hex(const unsigned char d[STATE_FOLD_DIGEST],
		       char out[2 * STATE_FOLD_DIGEST + 1])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < STATE_FOLD_DIGEST; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * STATE_FOLD_DIGEST] = '\0';
}

/* ---- the load's hook ------------------------------------------------- */

/* The records of the batch the digest ledger may hold: not a dupe of an
 * earlier record of the batch. */
static int fold_candidate(const struct lb_rec *e)
{
	return !e->dupe && e->ev.txn;
}

struct seen_pg {
	struct load_batch *b;
	char (*hex)[2 * STATE_FOLD_DIGEST + 1];
	uint32_t *idx; /* candidates, sorted by hex */
	size_t n;
};

static struct seen_pg *seen_sort_ctx;

static int seen_cmp(const void *x, const void *y)
{
	return strcmp(seen_sort_ctx->hex[*(const uint32_t *)x],
		      seen_sort_ctx->hex[*(const uint32_t *)y]);
}

static int seen_row(void *ud, struct db_stmt *p)
{
	struct seen_pg *c = ud;
	const char *h = db_col_text(p, 0);
	size_t lo = 0, hi = c->n, mid;
	int k;

	while (h && lo < hi) {
		mid = (lo + hi) / 2;
		k = strcmp(h, c->hex[c->idx[mid]]);
		if (!k) {
			c->b->r[c->idx[mid]].dupe = 1;
			break;
		}
		if (k < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* PostgreSQL: one query for the batch. */
static int replays_pg(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	struct seen_pg c = {b, NULL, NULL, 0};
	unsigned char d[STATE_FOLD_DIGEST];
	char *list = NULL;
	size_t i, o = 0;
	int rc = -1;

	c.hex = malloc(b->n * sizeof(*c.hex));
	c.idx = malloc(b->n * sizeof(*c.idx));
	list = malloc(b->n * (2 * STATE_FOLD_DIGEST + 1) + 1);
	if (!c.hex || !c.idx || !list) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < b->n; i++) {
		if (!fold_candidate(&b->r[i]))
			continue;
		if (state_fold_digest(b->r[i].ev.txn, d, err) < 0)
			goto out;
		digest_hex(d, c.hex[i]);
		if (c.n)
			list[o++] = ',';
		memcpy(list + o, c.hex[i], 2 * STATE_FOLD_DIGEST);
		o += 2 * STATE_FOLD_DIGEST;
		c.idx[c.n++] = (uint32_t)i;
	}
	list[o] = '\0';
	seen_sort_ctx = &c;
	qsort(c.idx, c.n, sizeof(*c.idx), seen_cmp);
	rc = c.n ? state_sql_rows(s, seen_pg_sql, SA(SA_T(list)), seen_row, &c,
				   err)
		 : 0;
out:
	free(c.hex);
	free(c.idx);
	free(list);
	return rc;
}

int state_fold_replays(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	unsigned char d[STATE_FOLD_DIGEST];
	size_t i;
	int any = 0, seen;

	/* A store that never folded anything (every store until its first
	 * gc with retention) pays one indexed probe per batch. */
	if (!b->n)
		return 0;
	if (state_rows(s, SF_ANY, SA_NONE, state_row_found, &any, err) < 0)
		return -1;
	if (!any)
		return 0;
	if (state_is_pg(s))
		return replays_pg(s, err);
	for (i = 0; i < b->n; i++) {
		if (!fold_candidate(&b->r[i]))
			continue;
		seen = 0;
		if (state_fold_digest(b->r[i].ev.txn, d, err) < 0 ||
		    state_rows(s, SF_SEEN, SA(SA_B(d, sizeof(d))),
			       state_row_found, &seen, err) < 0)
			return -1;
		if (seen)
			b->r[i].dupe = 1;
	}
	return 0;
}

/* ---- folding --------------------------------------------------------- */

struct pick {
	int64_t id[FOLD_CHUNK];
	unsigned char d[FOLD_CHUNK][STATE_FOLD_DIGEST];
	size_t n;
	struct err *err;
	int failed;
};

static int pick_row(void *ud, struct db_stmt *p)
{
	struct pick *k = ud;
	const char *t = db_col_text(p, 1);

	if (k->n == FOLD_CHUNK)
		return 1;
	if (state_fold_digest(t ? t : "", k->d[k->n], k->err) < 0)
		return k->failed = 1, -1;
	k->id[k->n++] = db_col_int64(p, 0);
	return 0;
}

/* SQLite: chunks of FOLD_CHUNK events in id order, each picked, its
 * digests added and its rows deleted. */
static int fold_lite(struct state *s, int64_t *folded, struct err *err)
{
	struct pick *k = malloc(sizeof(*k));
	int64_t last = 0;
	size_t i;
	int rc = -1;

	if (!k)
		return err_set(err, E_NOMEM, "out of memory");
	if (db_exec(s->db, cover_drop_sql, err) < 0 ||
	    db_exec(s->db, cover_lite_sql, err) < 0)
		goto out;
	for (;;) {
		k->n = 0;
		k->err = err;
		k->failed = 0;
		if (state_sql_rows(s, pick_lite_sql, SA(SA_I(last)), pick_row,
				   k, err) < 0 ||
		    k->failed)
			goto out;
		for (i = 0; i < k->n; i++)
			if (state_exec(s, SF_DIGEST_ADD,
				       SA(SA_B(k->d[i], STATE_FOLD_DIGEST)),
				       err) < 0 ||
			    state_exec(s, SF_EV_DEL, SA(SA_I(k->id[i])), err) <
				    0)
				goto out;
		*folded += (int64_t)k->n;
		if (k->n < FOLD_CHUNK)
			break;
		last = k->id[k->n - 1];
	}
	rc = db_exec(s->db, cover_drop_sql, err);
out:
	free(k);
	return rc;
}

int state_fold_events(struct state *s, int64_t *folded, struct err *err)
{
	*folded = 0;
	if (state_begin(s, err) < 0)
		return -1;
	if (state_is_pg(s)) {
		if (state_sql_rows(s, digest_add_pg_sql, SA_NONE, NULL, NULL,
				   err) < 0 ||
		    state_sql_rows(s, ev_del_pg_sql, SA_NONE, NULL, NULL,
				   err) < 0)
			goto fail;
		*folded = state_changes(s);
	} else if (fold_lite(s, folded, err) < 0) {
		goto fail;
	}
	if (*folded && state_exec(s, SF_UNITS_DEL, SA_NONE, err) < 0)
		goto fail;
	return state_commit(s, err);
fail:
	state_rollback(s);
	return -1;
}

/* One integer of a PRAGMA (SQLite). */
static int pragma(struct state *s, const char *sql, int64_t *v,
		  struct err *err)
{
	*v = 0;
	return state_sql_rows(s, sql, SA_NONE, state_row_int, v, err);
}

int state_fold_reclaim(struct state *s, int64_t *freed, struct err *err)
{
	int64_t mode, pages, free_pages, size, after;

	*freed = 0;
	if (state_is_pg(s))
		return 0;
	if (pragma(s, "PRAGMA auto_vacuum", &mode, err) < 0 ||
	    pragma(s, "PRAGMA page_count", &pages, err) < 0 ||
	    pragma(s, "PRAGMA freelist_count", &free_pages, err) < 0 ||
	    pragma(s, "PRAGMA page_size", &size, err) < 0)
		return -1;
	if (mode == 2) {
		/* INCREMENTAL: the free pages at the end of the file go. */
		if (free_pages && db_exec(s->db, "PRAGMA incremental_vacuum",
					  err) < 0)
			return -1;
	} else if (free_pages * 4 >= pages &&
		   free_pages * size >= (1 << 20)) {
		/* auto_vacuum can only change with a VACUUM (or on an empty
		 * file): this one rewrites the file once without its free
		 * pages, and later gcs need only the incremental kind. */
		if (db_exec(s->db, "PRAGMA auto_vacuum = INCREMENTAL", err) <
			    0 ||
		    db_exec(s->db, "VACUUM", err) < 0)
			return -1;
	} else {
		return 0;
	}
	/* In WAL mode the file shrinks at a checkpoint. */
	if (db_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", err) < 0 ||
	    pragma(s, "PRAGMA page_count", &after, err) < 0)
		return -1;
	*freed = (pages - after) * size;
	return 0;
}
