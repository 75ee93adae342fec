/* state_lineage.c - see state_lineage.h.
 *
 * Before schema 12 every stock event carried its source and file as
 * text: the same two strings for every event of a document, about 12
 * bytes a row (0.66x of the input after two runs of the bench's CSV).
 * They are the map unit's scope and key (stage_map.c names the document
 * so), and doc is that unit's id, so an event now stores them only when
 * they differ from the unit's (a hand-made canonical file, a test's
 * document without a unit): NULL means "the document's". A NULL source
 * of an older load (none is written by the map stage, which names its
 * source or "") reads as the unit's.
 *
 * The txn_id of an event the mapping engine named by default is
 * "<16 hex of the document's SHA-256>:<scope seq>:<record>" (about 25
 * bytes a row, 1.40x of the input after two runs): the hash is the map
 * unit's input_sha (stage_map.c hands it to the mapping), so the event
 * keeps the two numbers (txn_seq, txn_rec) and a NULL txn_id, and
 * STATE_EV_TXN rebuilds the text in SQL wherever it is read. The load
 * decides by rebuilding the text from the numbers and comparing it
 * whole, so nothing else can be stored so (a mapping's own txn_id that
 * happens to look alike is the same text, rebuilt the same).
 *
 * Tables read: units; written by the migration: stock_events.
 */
#include "state_lineage.h"
#include "state_int.h"

#include "db.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* This file's statements (state_int.h). */
const struct state_sql state_lineage_sql[S_NSTMTS] = {
	[SL_DOC] = {"SELECT scope, ukey, input_sha, rejects FROM units"
		    " WHERE id = ?", 0},
	[SL_FLOOR] = {"SELECT coalesce(max(id), 0) FROM stock_events", 0},
	/* A document's new events are above the floor (ids only grow:
	 * SQLite's rowid, PostgreSQL's identity, whose values a concurrent
	 * load may take between ours: the range may hold them, never miss
	 * ours). The upper bound ?3 (INT64_MAX, no bound at all) is there
	 * for PostgreSQL's planner: after five runs of a prepared statement
	 * it may keep a generic plan, which knows no ?2 and takes id > ?2
	 * for a third of the table, so it read every event by a sequential
	 * scan (no index on doc: schema 12), 15 ms growing to 100 ms a
	 * document on the workers bench, while the load held its position
	 * locks: the other worker's load waited that long (issue 20, two
	 * workers 1.78x -> 1.2x). A range of two unknown bounds is taken as
	 * 0.5 % of the rows: the primary key's index, in every plan
	 * (t_state_pgload.c: state_pg_load_reads_no_event_table_scan). */
	[SL_RANGE] = {"INSERT INTO doc_events(doc, lo, hi)"
		     " SELECT doc, min(id), max(id) FROM stock_events"
		     " WHERE id > ?2 AND id <= ?3 AND doc = ?1 GROUP BY doc"
		     " ON CONFLICT(doc) DO UPDATE SET"
		     " lo = CASE WHEN excluded.lo < doc_events.lo"
		     " THEN excluded.lo ELSE doc_events.lo END,"
		     " hi = CASE WHEN excluded.hi > doc_events.hi"
		     " THEN excluded.hi ELSE doc_events.hi END", 0},
	/* SL_RANGE for a batch of one document on SQLite, where the
	 * writer lock makes every event above the floor that document's:
	 * two seeks (the first id above the floor, the greatest id)
	 * instead of reading every new row's doc (1.2k instructions a
	 * record, ~4 % of the load). The same bounds, so the same rows. */
	[SL_RANGE_ONE] = {"INSERT INTO doc_events(doc, lo, hi)"
			 " SELECT ?1, lo, hi FROM (SELECT"
			 " (SELECT min(id) FROM stock_events WHERE id > ?2)"
			 " AS lo, (SELECT max(id) FROM stock_events) AS hi)"
			 " AS r WHERE lo IS NOT NULL"
			 " ON CONFLICT(doc) DO UPDATE SET"
			 " lo = CASE WHEN excluded.lo < doc_events.lo"
			 " THEN excluded.lo ELSE doc_events.lo END,"
			 " hi = CASE WHEN excluded.hi > doc_events.hi"
			 " THEN excluded.hi ELSE doc_events.hi END", 0},
	[SL_RANGE_DEL] = {"DELETE FROM doc_events WHERE doc = ?", 0},
};

static void names_clear(struct state_doc_names *n)
{
	free(n->scope);
	free(n->ukey);
	free(n->sha);
	n->scope = n->ukey = n->sha = NULL;
	n->known = 0;
}

void state_lineage_forget(struct state *s)
{
	s->docn.known = 0;
	s->docn.ndocs = 0;
}

void state_lineage_free(struct state *s)
{
	names_clear(&s->docn);
	free(s->docn.docs);
	s->docn.docs = NULL;
	s->docn.ndocs = s->docn.capdocs = 0;
}

/* Notes document doc as queued (records come document by document:
 * the last one is looked at only). */
static int queued(struct state_doc_names *n, int64_t doc, struct err *err)
{
	int64_t *d;

	if (n->ndocs && n->docs[n->ndocs - 1] == doc)
		return 0;
	if (n->ndocs == n->capdocs) {
		size_t cap = n->capdocs ? n->capdocs * 2 : 8;

		if (!(d = realloc(n->docs, cap * sizeof(*d))))
			return err_set(err, E_NOMEM, "out of memory");
		n->docs = d;
		n->capdocs = cap;
	}
	n->docs[n->ndocs++] = doc;
	return 0;
}

int state_lineage_floor(struct state *s, int64_t *floor, struct err *err)
{
	struct db_stmt *p = state_stmt(s, SL_FLOOR, err);

	*floor = 0;
	if (!p || state_one_row(db_step(p, err), p, err) < 0)
		return -1;
	*floor = db_col_int64(p, 0);
	db_reset(p);
	return 0;
}

int state_lineage_ranges(struct state *s, int64_t floor, struct err *err)
{
	struct state_doc_names *n = &s->docn;
	/* PostgreSQL: a concurrent load may take ids between ours */
	enum stmt_id one = n->ndocs == 1 && !state_is_pg(s) ? SL_RANGE_ONE
							    : SL_RANGE;
	size_t i;

	for (i = 0; i < n->ndocs; i++) {
		int64_t d = n->docs[i];
		int rc = one == SL_RANGE_ONE
				 ? state_exec(s, one, SA(SA_I(d), SA_I(floor)), err)
				 : state_exec(s, SL_RANGE,
					      SA(SA_I(d), SA_I(floor),
						 SA_I(INT64_MAX)), err);

		if (rc < 0)
			return -1;
	}
	n->ndocs = 0;
	return 0;
}

int state_lineage_range_drop(struct state *s, int64_t doc, struct err *err)
{
	return state_exec(s, SL_RANGE_DEL, SA(SA_I(doc)), err);
}

/* Column i as a malloc'd copy into *out (NULL for NULL); -1 when out
 * of memory. */
static int col_dup(struct db_stmt *p, int i, char **out)
{
	const char *t = db_col_null(p, i) ? NULL : db_col_text(p, i);

	*out = NULL;
	if (!t)
		return 0;
	return (*out = strdup(t)) ? 0 : -1;
}

/* Reads the unit of document doc into s->docn. */
static int names_read(struct state *s, int64_t doc, struct err *err)
{
	struct state_doc_names *n = &s->docn;
	struct db_stmt *p = state_stmt(s, SL_DOC, err);
	int rc;

	names_clear(n);
	if (!p)
		return -1;
	db_bind_int64(p, 1, doc);
	rc = db_step(p, err);
	if (rc == 1 && (col_dup(p, 0, &n->scope) < 0 ||
			col_dup(p, 1, &n->ukey) < 0 ||
			col_dup(p, 2, &n->sha) < 0)) {
		db_reset(p);
		names_clear(n);
		return err_set(err, E_NOMEM, "out of memory");
	}
	n->rejects = rc == 1 && !db_col_null(p, 3) ? db_col_int64(p, 3) : 0;
	db_reset(p);
	if (rc < 0)
		return -1;
	n->id = doc;
	n->known = 1;
	return 0;
}

static int same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* A number of a default txn_id at *p: digits, no leading zero, within
 * int64; *p moves past it. */
static int txn_num(const char **p, int64_t *v)
{
	const char *c = *p;

	*v = 0;
	if (*c < '0' || *c > '9' || (*c == '0' && c[1] >= '0' && c[1] <= '9'))
		return 0;
	for (; *c >= '0' && *c <= '9'; c++) {
		if (*v > (INT64_MAX - (*c - '0')) / 10)
			return 0;
		*v = *v * 10 + (*c - '0');
	}
	*p = c;
	return 1;
}

int state_txn_default(const char *txn, const char *sha, int64_t *seq,
		      int64_t *rec)
{
	const char *p;

	*seq = *rec = 0;
	if (!txn || !sha || strnlen(sha, 16) < 16 || strncmp(txn, sha, 16) ||
	    txn[16] != ':')
		return 0;
	p = txn + 17;
	if (!txn_num(&p, seq) || *p++ != ':' || !txn_num(&p, rec) || *p) {
		*seq = *rec = 0;
		return 0;
	}
	return 1;
}

int state_lineage_derive(struct state *s, struct lb_rec *e, struct err *err)
{
	struct state_doc_names *n = &s->docn;

	if ((!n->known || n->id != e->doc) && names_read(s, e->doc, err) < 0)
		return -1;
	if (queued(n, e->doc, err) < 0)
		return -1;
	e->src_doc = (unsigned char)same(e->source, n->scope);
	e->file_doc = (unsigned char)same(e->file, n->ukey);
	e->txn_doc = (unsigned char)state_txn_default(e->ev.txn, n->sha,
						      &e->txn_seq,
						      &e->txn_rec);
	e->doc_rej = n->rejects > 0;
	return 0;
}

/* ---- schema 12: the events already loaded ------------------------------ */

/* Events read per round (by id, so the reads and writes do not share a
 * cursor). */
#define FILL_CHUNK 4096

struct fill_row {
	int64_t id, seq, rec;
};

/* One round: the default txn_ids of the events after *last into rows;
 * *n of them, *seen events read. */
static int fill_read(struct db_stmt *sel, int64_t *last, struct fill_row *rows,
		     size_t *n, size_t *seen, struct err *err)
{
	int r;

	*n = *seen = 0;
	db_reset(sel);
	db_bind_int64(sel, 1, *last);
	while ((r = db_step(sel, err)) == 1) {
		const char *sha = db_col_null(sel, 2) ? NULL
						       : db_col_text(sel, 2);
		struct fill_row *w = &rows[*n];

		*last = db_col_int64(sel, 0);
		(*seen)++;
		if (state_txn_default(db_col_text(sel, 1), sha, &w->seq,
				      &w->rec)) {
			w->id = *last;
			(*n)++;
		}
	}
	db_reset(sel);
	return r < 0 ? -1 : 0;
}

int state_lineage_fill(struct db *d, struct err *err)
{
	struct db_stmt *sel = NULL, *put = NULL;
	struct fill_row *rows = malloc(FILL_CHUNK * sizeof(*rows));
	int64_t last = 0;
	size_t n, seen, i;
	int rc = -1;

	if (!rows) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	if (db_exec(d,
		    "UPDATE stock_events SET source = NULL WHERE source ="
		    " (SELECT u.scope FROM units u WHERE u.id = stock_events.doc);"
		    "UPDATE stock_events SET file = NULL WHERE file ="
		    " (SELECT u.ukey FROM units u WHERE u.id = stock_events.doc)",
		    err) < 0)
		goto out;
	if (!(sel = db_prepare(d, "SELECT e.id, e.txn_id, u.input_sha"
			       " FROM stock_events e JOIN units u"
			       " ON u.id = e.doc WHERE e.id > ?"
			       " AND e.txn_id IS NOT NULL ORDER BY e.id"
			       " LIMIT 4096", 0, err)) ||
	    !(put = db_prepare(d, "UPDATE stock_events SET txn_id = NULL,"
			       " txn_seq = ?, txn_rec = ? WHERE id = ?", 0,
			       err)))
		goto out;
	do {
		if (fill_read(sel, &last, rows, &n, &seen, err) < 0)
			goto out;
		for (i = 0; i < n; i++) {
			db_reset(put);
			db_bind_int64(put, 1, rows[i].seq);
			db_bind_int64(put, 2, rows[i].rec);
			db_bind_int64(put, 3, rows[i].id);
			if (db_step(put, err) < 0)
				goto out;
			db_reset(put);
		}
	} while (seen == FILL_CHUNK);
	rc = 0;
out:
	db_finalize(sel);
	db_finalize(put);
	free(rows);
	return rc;
}
