/* state_ic.c - EDI interchanges checked again at load; see state_ic.h.
 * A few statements per EDI document.
 *
 * Tables: doc_interchanges, loaded_interchanges.
 */
#include "state_ic.h"
#include "db.h"
#include "state_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* This file's statements (state_int.h). */
const struct state_sql state_ic_sql[S_NSTMTS] = {
	[S_ICL_DOC_DEL] = {"DELETE FROM doc_interchanges WHERE doc = ?", 0},
	[S_ICL_DOC_ADD] = {"INSERT INTO doc_interchanges(doc, format, sender,"
			   " receiver, control, sha256, first_rec, last_rec)"
			   " VALUES(?, ?, ?, ?, ?, ?, ?, ?)"
			   " ON CONFLICT DO NOTHING", 0},
	[S_ICL_DOC_ROWS] =
		{"SELECT d.format, d.sender, d.receiver, d.control, d.sha256,"
		 " d.first_rec, d.last_rec, l.doc, l.sha256, l.name, l.run_id"
		 " FROM doc_interchanges d LEFT JOIN loaded_interchanges l"
		 " ON l.format = d.format AND l.sender = d.sender"
		 " AND l.receiver = d.receiver AND l.control = d.control"
		 " WHERE d.doc = ? ORDER BY d.first_rec, d.control", 0},
	[S_ICL_CLAIM] =
		{"INSERT INTO loaded_interchanges(format, sender, receiver,"
		 " control, sha256, doc, source, name, run_id)"
		 " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)"
		 " ON CONFLICT(format, sender, receiver, control) DO UPDATE SET"
		 " sha256 = excluded.sha256, doc = excluded.doc,"
		 " source = excluded.source, name = excluded.name,"
		 " run_id = excluded.run_id", 0},
	[S_ICL_UNLOAD] = {"DELETE FROM loaded_interchanges WHERE doc = ?", 0},
};

int state_ic_doc_set(struct state *s, int64_t doc,
		     const struct state_interchange *ics, size_t n,
		     struct err *err)
{
	size_t i;

	if (state_exec(s, S_ICL_DOC_DEL, SA(SA_I(doc)), err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (state_exec(s, S_ICL_DOC_ADD,
			       SA(SA_I(doc), SA_T(ics[i].format),
				  SA_T(ics[i].sender), SA_T(ics[i].receiver),
				  SA_T(ics[i].control), SA_T(ics[i].sha256),
				  SA_I(ics[i].first_rec),
				  SA_I(ics[i].last_rec)),
			       err) < 0)
			return -1;
	return 0;
}

struct ic_row {
	struct state_ic_dup x;
	char sha[65];
	int mine;                /* free, or already this document's */
};

struct ic_rows {
	struct ic_row *v;
	size_t n, cap;
	int64_t doc;
	struct err *err;
};

static int ic_row_add(void *ud, struct db_stmt *st)
{
	struct ic_rows *x = ud;
	struct ic_row *r;

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 8;

		if (!(r = realloc(x->v, cap * sizeof(*r))))
			return err_set(x->err, E_NOMEM, "out of memory");
		x->v = r;
		x->cap = cap;
	}
	r = &x->v[x->n++];
	memset(r, 0, sizeof(*r));
	state_col_copy(st, 0, r->x.format, sizeof(r->x.format));
	state_col_copy(st, 1, r->x.sender, sizeof(r->x.sender));
	state_col_copy(st, 2, r->x.receiver, sizeof(r->x.receiver));
	state_col_copy(st, 3, r->x.control, sizeof(r->x.control));
	state_col_copy(st, 4, r->sha, sizeof(r->sha));
	r->x.first_rec = db_col_int64(st, 5);
	r->x.last_rec = db_col_int64(st, 6);
	r->mine = db_col_null(st, 7) || db_col_int64(st, 7) == x->doc;
	if (!r->mine) {
		const char *prev = db_col_text(st, 8);

		r->x.same = prev && !strcmp(prev, r->sha);
		state_col_copy(st, 9, r->x.prev_doc, sizeof(r->x.prev_doc));
		r->x.prev_run = db_col_int64(st, 10);
	}
	return 0;
}

int state_ic_load_claim(struct state *s, int64_t doc, const char *source,
			const char *name, int64_t run_id,
			struct state_ic_dup **dups, size_t *n,
			struct err *err)
{
	struct ic_rows rows = {NULL, 0, 0, doc, err};
	struct ic_row *r;
	size_t i, k = 0;

	*dups = NULL;
	*n = 0;
	if (state_rows(s, S_ICL_DOC_ROWS, SA(SA_I(doc)), ic_row_add, &rows,
		       err) < 0)
		goto fail;
	/* A load without the writer lock (db.h): two documents carrying
	 * the same interchange must not both find it free, so one with
	 * interchanges takes the lock and reads them again under it. */
	if (rows.n && s->rows_tx) {
		rows.n = 0;
		if (state_lock_store(s, err) < 0 ||
		    state_rows(s, S_ICL_DOC_ROWS, SA(SA_I(doc)), ic_row_add,
			       &rows, err) < 0)
			goto fail;
	}
	for (i = 0; i < rows.n; i++) {
		r = &rows.v[i];
		if (!r->mine) {
			/* the duplicates first in rows, in order */
			rows.v[k++].x = r->x;
			continue;
		}
		if (state_exec(s, S_ICL_CLAIM,
			       SA(SA_T(r->x.format), SA_T(r->x.sender),
				  SA_T(r->x.receiver), SA_T(r->x.control),
				  SA_T(r->sha), SA_I(doc), SA_T(source),
				  SA_T(name), SA_I(run_id)),
			       err) < 0)
			goto fail;
	}
	if (k) {
		struct state_ic_dup *out = malloc(k * sizeof(*out));

		if (!out) {
			err_set(err, E_NOMEM, "out of memory");
			goto fail;
		}
		for (i = 0; i < k; i++)
			out[i] = rows.v[i].x;
		*dups = out;
		*n = k;
	}
	free(rows.v);
	return 0;
fail:
	free(rows.v);
	return -1;
}

int state_ic_unload(struct state *s, int64_t doc, struct err *err)
{
	return state_exec(s, S_ICL_UNLOAD, SA(SA_I(doc)), err);
}
