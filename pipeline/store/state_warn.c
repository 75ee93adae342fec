/* state_warn.c - a map unit's warnings; see state_warn.h. A few rows per
 * document, never per record.
 *
 * Tables: unit_warnings.
 */
#include "state_warn.h"
#include "db.h"
#include "state_int.h"

#include <string.h>

/* This file's statements (state_int.h). */
const struct state_sql state_warn_sql[S_NSTMTS] = {
	[S_WARN_DEL] = {"DELETE FROM unit_warnings WHERE unit_id = ?", 0},
	[S_WARN_ADD] = {"INSERT INTO unit_warnings(unit_id, seq, code, file,"
			" line, col, seg, byte_off, message)"
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", 0},
	[S_WARN_LIST] = {"SELECT code, file, line, col, seg, byte_off, message"
			 " FROM unit_warnings WHERE unit_id = ? ORDER BY seq",
			 0},
	[S_WARN_RUN] = {"SELECT w.code, w.file, w.line, w.col, w.seg,"
			" w.byte_off, w.message, u.scope, u.ukey"
			" FROM unit_warnings w JOIN units u ON u.id = w.unit_id"
			" WHERE u.run_id = ? ORDER BY w.unit_id, w.seq", 0},
};

int state_warn_set(struct state *s, int64_t unit,
		   const struct state_warning *w, size_t n, struct err *err)
{
	size_t i;
	int bad;

	if (state_begin(s, err) < 0)
		return -1;
	bad = state_exec(s, S_WARN_DEL, SA(SA_I(unit)), err) < 0;
	for (i = 0; !bad && i < n; i++)
		bad = state_exec(s, S_WARN_ADD,
				 SA(SA_I(unit), SA_I((int64_t)i + 1),
				    SA_T(w[i].code), SA_T(w[i].file),
				    SA_I((int64_t)w[i].loc.line),
				    SA_I((int64_t)w[i].loc.col),
				    SA_I((int64_t)w[i].loc.seg),
				    SA_I((int64_t)w[i].loc.offset),
				    SA_T(w[i].message)),
				 err) < 0;
	if (bad) {
		state_rollback(s);
		return -1;
	}
	return state_commit(s, err);
}

struct warn_walk {
	int (*cb)(void *ud, const struct state_warning *w);
	void *ud;
	int run;        /* the rows carry the unit's scope and key */
};

static int warn_row(void *ud, struct db_stmt *st)
{
	struct warn_walk *x = ud;
	struct state_warning w;
	char code[32], file[512], msg[1024], scope[128], ukey[512];

	state_col_copy(st, 0, code, sizeof(code));
	state_col_copy(st, 1, file, sizeof(file));
	state_col_copy(st, 6, msg, sizeof(msg));
	memset(&w, 0, sizeof(w));
	w.code = code;
	w.file = file;
	w.message = msg;
	w.loc.line = (unsigned long)db_col_int64(st, 2);
	w.loc.col = (unsigned)db_col_int64(st, 3);
	w.loc.seg = (unsigned long)db_col_int64(st, 4);
	w.loc.offset = (unsigned long long)db_col_int64(st, 5);
	if (x->run) {
		state_col_copy(st, 7, scope, sizeof(scope));
		state_col_copy(st, 8, ukey, sizeof(ukey));
		w.scope = scope;
		w.ukey = ukey;
	}
	return x->cb(x->ud, &w);
}

int state_warn_each(struct state *s, int64_t unit,
		    int (*cb)(void *ud, const struct state_warning *w),
		    void *ud, struct err *err)
{
	struct warn_walk x = {cb, ud, 0};

	return state_rows(s, S_WARN_LIST, SA(SA_I(unit)), warn_row, &x, err);
}

int state_warn_run_each(struct state *s, int64_t run_id,
			int (*cb)(void *ud, const struct state_warning *w),
			void *ud, struct err *err)
{
	struct warn_walk x = {cb, ud, 1};

	return state_rows(s, S_WARN_RUN, SA(SA_I(run_id)), warn_row, &x,
			  err);
}
