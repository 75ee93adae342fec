/* state_arrival.c - arrival keys of fetched files and documents; see
 * state_arrival.h. A few statements per file or document, never per
 * record.
 *
 * Tables: none of its own; the arrival columns of units (the rest of
 * units is state_runs.c's).
 */
#include "state_arrival.h"
#include "db.h"
#include "transforms/model/stock.h"
#include "state_int.h"

#include <stdlib.h>
#include <string.h>

/* This file's statements (state_int.h). */
const struct state_sql state_arrival_sql[S_NSTMTS] = {
	[S_ARR_GET] = {"SELECT arr_file FROM units WHERE id = ?", 0},
	[S_ARR_SET] = {"UPDATE units SET arr_file = ? WHERE id = ?", 0},
	/* m = the document's map unit, p = the unpack unit above it, whose
	 * parent f is the fetch unit of the file. */
	[S_ARR_DOC] = {"SELECT f.id, f.arr_file, (SELECT count(*) FROM units x"
		       " WHERE x.parent = m.parent AND x.stage = 'map'"
		       " AND x.id < m.id) FROM units m"
		       " JOIN units p ON p.id = m.parent"
		       " JOIN units f ON f.id = p.parent AND f.stage = 'fetch'"
		       " WHERE m.id = ?", 0},
};

/* The unit's arr_file, 0 for a NULL; -1 stays when there is no row. */
static int seq_row(void *ud, struct db_stmt *st)
{
	*(int64_t *)ud = db_col_int64(st, 0);
	return 1;
}

int state_arrival_fetch(struct state *s, int64_t unit, struct err *err)
{
	int64_t seq = -1;

	if (state_rows(s, S_ARR_GET, SA(SA_I(unit)), seq_row, &seq, err) < 0)
		return -1;
	if (seq < 0)
		return err_set(err, E_INTERNAL, "no fetch unit %lld",
			       (long long)unit);
	if (seq > 0)
		return 0;
	if (state_counter_next(s, "arrival:fetch", &seq, err) < 0)
		return -1;
	return state_exec(s, S_ARR_SET, SA(SA_I(seq), SA_I(unit)), err);
}

struct doc_arr {
	struct state_arrival *a;
	int64_t fetch;
	int found;
};

static int doc_row(void *ud, struct db_stmt *st)
{
	struct doc_arr *x = ud;

	x->found = 1;
	x->fetch = db_col_int64(st, 0);
	x->a->file = db_col_int64(st, 1);
	x->a->member = db_col_int64(st, 2);
	return 1;
}

int state_arrival_doc(struct state *s, int64_t doc, struct state_arrival *a,
		      struct err *err)
{
	struct doc_arr x = {a, 0, 0};

	memset(a, 0, sizeof(*a));
	if (state_rows(s, S_ARR_DOC, SA(SA_I(doc)), doc_row, &x, err) < 0)
		return -1;
	if (!x.found || a->file > 0)
		return 0;
	if (state_arrival_fetch(s, x.fetch, err) < 0)
		return -1;
	return state_arrival_doc(s, doc, a, err);
}

int state_arrival_plan_add(struct state_arrival_plan *p, int64_t unit,
			   int64_t mtime, const char *name, struct err *err)
{
	struct state_arrival_file *f;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;

		if (!(f = realloc(p->a, cap * sizeof(*f))))
			return err_set(err, E_NOMEM, "out of memory");
		p->a = f;
		p->cap = cap;
	}
	f = &p->a[p->n];
	if (!(f->name = strdup(name)))
		return err_set(err, E_NOMEM, "out of memory");
	f->unit = unit;
	f->mtime = mtime;
	p->n++;
	return 0;
}

static int file_cmp(const void *x, const void *y)
{
	const struct state_arrival_file *a = x, *b = y;

	return stock_file_order(a->mtime, a->name, b->mtime, b->name);
}

int state_arrival_plan_assign(struct state_arrival_plan *p, struct state *s,
			      struct err *err)
{
	size_t i;

	if (p->n > 1)
		qsort(p->a, p->n, sizeof(*p->a), file_cmp);
	for (i = 0; i < p->n; i++)
		if (state_arrival_fetch(s, p->a[i].unit, err) < 0)
			return -1;
	return 0;
}

void state_arrival_plan_free(struct state_arrival_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->a[i].name);
	free(p->a);
	memset(p, 0, sizeof(*p));
}
