/* state_report.c - see state_report.h. Each function is its statement
 * and a call of the binder (state_int.h).
 */
#include "state_report.h"
#include "state_int.h"

#include <string.h>

/* This file's statements (state_int.h). */
const struct state_sql state_report_sql[S_NSTMTS] = {
	[S_REP_PREV_DELIV] = {"SELECT delivered_at, file_name, sha256, run_id"
			     " FROM deliveries WHERE target = ?1 AND seq <"
			     " (SELECT seq FROM deliveries WHERE target = ?1"
			     " AND file_name = ?2)"
			     " ORDER BY seq DESC LIMIT 1", 0},
	/* The map unit of a document is its doc id (state_load.c). */
	[S_REP_AGES] = {"SELECT e.sku, e.location, e.state, max(e.as_of)"
		       " FROM stock_events e WHERE e.applied = 1 AND e.doc IN"
		       " (SELECT id FROM units WHERE stage = 'map'"
		       " AND run_id <= ?)"
		       " GROUP BY e.sku, e.location, e.state"
		       " ORDER BY e.sku, e.location, e.state", DB_STREAM},
	[S_REP_SRC_LAST] = {"SELECT coalesce(max(run_id), 0) FROM files"
			   " WHERE source = ? AND run_id <= ?", 0},
};

struct deliv_out {
	struct state_delivery *d;
	int *found;
};

static int deliv_row(void *ud, struct db_stmt *p)
{
	struct deliv_out *x = ud;

	x->d->delivered_at = db_col_int64(p, 0);
	state_col_copy(p, 1, x->d->file_name, sizeof(x->d->file_name));
	state_col_copy(p, 2, x->d->sha256, sizeof(x->d->sha256));
	x->d->run_id = db_col_int64(p, 3);
	*x->found = 1;
	return 1;
}

int state_report_prev_delivery(struct state *s, const char *target,
			       const char *file_name,
			       struct state_delivery *out, int *found,
			       struct err *err)
{
	struct deliv_out x = {out, found};

	memset(out, 0, sizeof(*out));
	*found = 0;
	return state_rows(s, S_REP_PREV_DELIV,
			  SA(SA_T(target), SA_T(file_name)), deliv_row, &x,
			  err);
}

struct ages_cb {
	int (*cb)(void *ud, const char *sku, const char *location, int state,
		  int64_t as_of);
	void *ud;
};

static int ages_row(void *ud, struct db_stmt *p)
{
	struct ages_cb *c = ud;
	const char *sku = db_col_text(p, 0), *loc = db_col_text(p, 1);

	return c->cb(c->ud, sku ? sku : "", loc ? loc : "",
		     (int)db_col_int64(p, 2), db_col_int64(p, 3));
}

int state_report_ages_each(struct state *s, int64_t run_id,
			   int (*cb)(void *ud, const char *sku,
				     const char *location, int state,
				     int64_t as_of),
			   void *ud, struct err *err)
{
	struct ages_cb c = {cb, ud};

	return state_rows(s, S_REP_AGES, SA(SA_I(run_id)), ages_row, &c, err);
}

int state_report_source_last_run(struct state *s, const char *source,
				 int64_t run_id, int64_t *last_run,
				 struct err *err)
{
	*last_run = 0;
	return state_rows(s, S_REP_SRC_LAST, SA(SA_T(source), SA_I(run_id)),
			  state_row_int, last_run, err);
}
