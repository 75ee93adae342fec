/* state_ic.c - EDI interchanges checked again at load; see state_ic.h.
 * A few statements per EDI document, prepared per call.
 *
 * Tables: doc_interchanges, loaded_interchanges.
 */
#include "state_ic.h"
#include "db.h"
#include "state_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_col(struct db_stmt *st, int i, char *out, size_t n)
{
	const char *v = db_col_text(st, i);

	snprintf(out, n, "%s", v ? v : "");
}

int state_ic_doc_set(struct state *s, int64_t doc,
		     const struct state_interchange *ics, size_t n,
		     struct err *err)
{
	struct db *d = state_db(s);
	struct db_stmt *st;
	size_t i;
	int rc;

	if (!(st = db_prepare(d, "DELETE FROM doc_interchanges WHERE doc = ?",
			      0, err)))
		return -1;
	db_bind_int64(st, 1, doc);
	rc = db_step(st, err);
	db_finalize(st);
	if (rc < 0)
		return -1;
	if (!n)
		return 0;
	if (!(st = db_prepare(d,
			      "INSERT INTO doc_interchanges(doc, format, sender,"
			      " receiver, control, sha256, first_rec, last_rec)"
			      " VALUES(?, ?, ?, ?, ?, ?, ?, ?)"
			      " ON CONFLICT DO NOTHING",
			      0, err)))
		return -1;
	for (i = 0; i < n && rc >= 0; i++) {
		if (i)
			db_reset(st);
		db_bind_int64(st, 1, doc);
		db_bind_text(st, 2, ics[i].format);
		db_bind_text(st, 3, ics[i].sender);
		db_bind_text(st, 4, ics[i].receiver);
		db_bind_text(st, 5, ics[i].control);
		db_bind_text(st, 6, ics[i].sha256);
		db_bind_int64(st, 7, ics[i].first_rec);
		db_bind_int64(st, 8, ics[i].last_rec);
		rc = db_step(st, err);
	}
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

struct ic_row {
	struct state_ic_dup x;
	char sha[65];
	int mine;                /* free, or already this document's */
};

int state_ic_load_claim(struct state *s, int64_t doc, const char *source,
			const char *name, int64_t run_id,
			struct state_ic_dup **dups, size_t *n,
			struct err *err)
{
	static const char q[] =
		"SELECT d.format, d.sender, d.receiver, d.control, d.sha256,"
		" d.first_rec, d.last_rec, l.doc, l.sha256, l.name, l.run_id"
		" FROM doc_interchanges d LEFT JOIN loaded_interchanges l"
		" ON l.format = d.format AND l.sender = d.sender"
		" AND l.receiver = d.receiver AND l.control = d.control"
		" WHERE d.doc = ? ORDER BY d.first_rec, d.control";
	static const char claim[] =
		"INSERT INTO loaded_interchanges(format, sender, receiver,"
		" control, sha256, doc, source, name, run_id)"
		" VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)"
		" ON CONFLICT(format, sender, receiver, control) DO UPDATE SET"
		" sha256 = excluded.sha256, doc = excluded.doc,"
		" source = excluded.source, name = excluded.name,"
		" run_id = excluded.run_id";
	struct db *d = state_db(s);
	struct db_stmt *st = db_prepare(d, q, 0, err);
	struct ic_row *rows = NULL, *grown;
	size_t nrows = 0, cap = 0, i, k = 0;
	int rc;

	*dups = NULL;
	*n = 0;
	if (!st)
		return -1;
	db_bind_int64(st, 1, doc);
	while ((rc = db_step(st, err)) == 1) {
		struct ic_row *r;

		if (nrows == cap) {
			cap = cap ? cap * 2 : 8;
			if (!(grown = realloc(rows, cap * sizeof(*rows)))) {
				rc = err_set(err, E_NOMEM, "out of memory");
				break;
			}
			rows = grown;
		}
		r = &rows[nrows++];
		memset(r, 0, sizeof(*r));
		copy_col(st, 0, r->x.format, sizeof(r->x.format));
		copy_col(st, 1, r->x.sender, sizeof(r->x.sender));
		copy_col(st, 2, r->x.receiver, sizeof(r->x.receiver));
		copy_col(st, 3, r->x.control, sizeof(r->x.control));
		copy_col(st, 4, r->sha, sizeof(r->sha));
		r->x.first_rec = db_col_int64(st, 5);
		r->x.last_rec = db_col_int64(st, 6);
		r->mine = db_col_null(st, 7) || db_col_int64(st, 7) == doc;
		if (!r->mine) {
			const char *prev = db_col_text(st, 8);

			r->x.same = prev && !strcmp(prev, r->sha);
			copy_col(st, 9, r->x.prev_doc, sizeof(r->x.prev_doc));
			r->x.prev_run = db_col_int64(st, 10);
		}
	}
	db_finalize(st);
	if (rc < 0)
		goto fail;
	if (!(st = db_prepare(d, claim, 0, err)))
		goto fail;
	for (i = 0; i < nrows; i++) {
		if (!rows[i].mine) {
			/* the duplicates first in rows, in order */
			rows[k++].x = rows[i].x;
			continue;
		}
		db_reset(st);
		db_bind_text(st, 1, rows[i].x.format);
		db_bind_text(st, 2, rows[i].x.sender);
		db_bind_text(st, 3, rows[i].x.receiver);
		db_bind_text(st, 4, rows[i].x.control);
		db_bind_text(st, 5, rows[i].sha);
		db_bind_int64(st, 6, doc);
		db_bind_text(st, 7, source);
		db_bind_text(st, 8, name);
		db_bind_int64(st, 9, run_id);
		if (db_step(st, err) < 0) {
			db_finalize(st);
			goto fail;
		}
	}
	db_finalize(st);
	if (k) {
		struct state_ic_dup *out = malloc(k * sizeof(*out));

		if (!out) {
			err_set(err, E_NOMEM, "out of memory");
			goto fail;
		}
		for (i = 0; i < k; i++)
			out[i] = rows[i].x;
		*dups = out;
		*n = k;
	}
	free(rows);
	return 0;
fail:
	free(rows);
	return -1;
}

int state_ic_unload(struct state *s, int64_t doc, struct err *err)
{
	struct db_stmt *st = db_prepare(
		state_db(s), "DELETE FROM loaded_interchanges WHERE doc = ?", 0,
		err);
	int rc;

	if (!st)
		return -1;
	db_bind_int64(st, 1, doc);
	rc = db_step(st, err);
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}
