/* state_ledger.c - the state store's ledgers of what came in and what
 * went out: the tables files (the file ledger of the sources),
 * source_fetches, deliveries and target_checks. See state.h; the SQL is
 * in state.c's statement table.
 */
#include "state.h"
#include "state_int.h"

#include <string.h>

/* This file's statements (state_int.h): SQL in the common dialect
 * of db.h, prepared once per handle by state_stmt. */
const struct state_sql state_ledger_sql[S_NSTMTS] = {
	[S_FILE_KNOWN] = {"SELECT 1 FROM files WHERE source = ? AND name = ?"
			 " AND size = ? AND mtime = ?", 0},
	[S_FILE_SAME] = {"SELECT name FROM files WHERE source = ? AND sha256 = ?"
			" LIMIT 1", 0},
	[S_FILE_ADD] = {"INSERT INTO files VALUES(?, ?, ?, ?, ?, ?, ?)"
		       " ON CONFLICT DO NOTHING", 0},
	[S_FILE_POST] = {"UPDATE files SET post_state = ? WHERE source = ?"
			" AND name = ? AND size = ? AND mtime = ?"
			" AND sha256 = ?", 0},
	[S_FILE_KNOWN_SHA] = {"SELECT 1 FROM files WHERE source = ?"
			     " AND name = ? AND size = ? AND mtime = ?"
			     " AND sha256 = ?", 0},
	/* Only the newest delivery counts: stock that goes A -> B -> A must
	 * reach the target as A again, though A was delivered once before. */
	[S_DELIV_FIND] = {"SELECT file_name FROM deliveries WHERE target = ?"
			 " AND sha256 = ? AND seq = (SELECT max(seq)"
			 " FROM deliveries WHERE target = ?)", 0},
	/* seq orders the deliveries (rowid did before schema 2); writers
	 * hold the writer lock, so max + 1 is never taken twice. */
	[S_DELIV_ADD] = {"INSERT INTO deliveries(target, sha256, run_id,"
			" file_name, delivered_at, seq) VALUES(?, ?, ?, ?, ?,"
			" (SELECT coalesce(max(seq), 0) + 1 FROM deliveries))"
			" ON CONFLICT DO NOTHING", 0},
	[S_DELIV_LATEST] = {"SELECT file_name FROM deliveries WHERE target = ?"
			   " ORDER BY seq DESC LIMIT 1", 0},
	[S_SRC_FETCHED] = {"INSERT INTO source_fetches VALUES(?, ?)"
			  " ON CONFLICT(source) DO UPDATE SET"
			  " last_at = CASE WHEN excluded.last_at >"
			  " source_fetches.last_at THEN excluded.last_at"
			  " ELSE source_fetches.last_at END", 0},
	[S_SRC_LAST] = {"SELECT last_at FROM source_fetches WHERE source = ?", 0},
	[S_DELIV_NAME] = {"SELECT 1 FROM deliveries WHERE target = ?"
			 " AND file_name = ?", 0},
	[S_DELIV_LAST] = {"SELECT coalesce(max(delivered_at), 0)"
			 " FROM deliveries WHERE target = ?", 0},
	[S_RUN_DELIVS] = {"SELECT target, file_name, delivered_at"
			 " FROM deliveries WHERE run_id = ?"
			 " ORDER BY target, delivered_at, file_name", 0},
	[S_CHECK_SET] = {"INSERT INTO target_checks VALUES(?, ?)"
			" ON CONFLICT(target) DO UPDATE SET"
			" last_due_at = excluded.last_due_at", 0},
	[S_CHECK_GET] = {"SELECT last_due_at FROM target_checks"
			" WHERE target = ?", 0},
	[S_DELIV_INFO] = {"SELECT delivered_at, file_name, sha256, run_id"
			 " FROM deliveries WHERE target = ?"
			 " ORDER BY seq DESC LIMIT 1", 0},
};


int state_file_known(struct state *s, const char *source, const char *name,
		     uint64_t size, int64_t mtime, int *known,
		     struct err *err)
{
	*known = 0;
	return state_rows(s, S_FILE_KNOWN,
			  SA(SA_T(source), SA_T(name), SA_I((int64_t)size),
			     SA_I(mtime)),
			  state_row_found, known, err);
}

int state_file_version_known(struct state *s, const char *source,
			     const char *name, uint64_t size, int64_t mtime,
			     const char *sha, int *known, struct err *err)
{
	*known = 0;
	return state_rows(s, S_FILE_KNOWN_SHA,
			  SA(SA_T(source), SA_T(name), SA_I((int64_t)size),
			     SA_I(mtime), SA_T(sha)),
			  state_row_found, known, err);
}

int state_file_same_content(struct state *s, const char *source,
			    const char *sha, char *prev, size_t n,
			    struct err *err)
{
	struct state_text t = {prev, n, 0};

	prev[0] = '\0';
	return state_rows(s, S_FILE_SAME, SA(SA_T(source), SA_T(sha)),
			  state_row_text, &t, err);
}

int state_file_add(struct state *s, const char *source, const char *name,
		   uint64_t size, int64_t mtime, const char *sha,
		   int64_t run_id, const char *post_state, struct err *err)
{
	return state_exec(s, S_FILE_ADD,
			  SA(SA_T(source), SA_T(name), SA_I((int64_t)size),
			     SA_I(mtime), SA_T(sha), SA_I(run_id),
			     SA_T(post_state)),
			  err);
}

int state_file_post_set(struct state *s, const char *source,
			const char *name, uint64_t size, int64_t mtime,
			const char *sha, const char *post_state,
			struct err *err)
{
	return state_exec(s, S_FILE_POST,
			  SA(SA_T(post_state), SA_T(source), SA_T(name),
			     SA_I((int64_t)size), SA_I(mtime), SA_T(sha)),
			  err);
}

int state_delivery_find(struct state *s, const char *target, const char *sha,
			char *file_name, size_t n, int *found,
			struct err *err)
{
	struct state_text t = {file_name, n, 0};

	if (file_name && n)
		file_name[0] = '\0';
	*found = 0;
	if (state_rows(s, S_DELIV_FIND,
		       SA(SA_T(target), SA_T(sha), SA_T(target)),
		       state_row_text, &t, err) < 0)
		return -1;
	*found = t.found;
	return 0;
}

int state_delivery_add(struct state *s, const char *target, const char *sha,
		       int64_t run_id, const char *file_name,
		       int64_t delivered_at, struct err *err)
{
	return state_exec(s, S_DELIV_ADD,
			  SA(SA_T(target), SA_T(sha), SA_I(run_id),
			     SA_T(file_name), SA_I(delivered_at)),
			  err);
}

int state_delivery_latest(struct state *s, const char *target,
			  char *file_name, size_t n, int *found,
			  struct err *err)
{
	struct state_text t = {file_name, n, 0};

	*found = 0;
	if (state_rows(s, S_DELIV_LATEST, SA(SA_T(target)), state_row_text,
		       &t, err) < 0)
		return -1;
	*found = t.found;
	return 0;
}

int state_delivery_name_used(struct state *s, const char *target,
			     const char *file_name, int *used,
			     struct err *err)
{
	*used = 0;
	return state_rows(s, S_DELIV_NAME, SA(SA_T(target), SA_T(file_name)),
			  state_row_found, used, err);
}

int state_delivery_last(struct state *s, const char *target, int64_t *at,
			struct err *err)
{
	*at = 0;
	return state_rows(s, S_DELIV_LAST, SA(SA_T(target)), state_row_int,
			  at, err);
}

int state_source_fetched(struct state *s, const char *source, int64_t at,
			 struct err *err)
{
	return state_exec(s, S_SRC_FETCHED, SA(SA_T(source), SA_I(at)), err);
}

int state_source_last_fetch(struct state *s, const char *source,
			    int64_t *at, struct err *err)
{
	*at = 0;
	return state_rows(s, S_SRC_LAST, SA(SA_T(source)), state_row_int, at,
			  err);
}

struct deliv_cb {
	int (*cb)(void *ud, const char *target, const char *file_name,
		  int64_t delivered_at);
	void *ud;
};

static int deliv_row(void *ud, struct db_stmt *p)
{
	struct deliv_cb *d = ud;
	const char *t = db_col_text(p, 0), *f = db_col_text(p, 1);

	/* the callback's nonzero only stops the walk */
	return d->cb(d->ud, t ? t : "", f ? f : "", db_col_int64(p, 2)) != 0;
}

int state_run_deliveries_each(struct state *s, int64_t run_id,
			      int (*cb)(void *ud, const char *target,
					const char *file_name,
					int64_t delivered_at),
			      void *ud, struct err *err)
{
	struct deliv_cb d = {cb, ud};

	return state_rows(s, S_RUN_DELIVS, SA(SA_I(run_id)), deliv_row, &d,
			  err);
}

int state_target_checked(struct state *s, const char *target, int64_t at,
			 struct err *err)
{
	return state_exec(s, S_CHECK_SET, SA(SA_T(target), SA_I(at)), err);
}

int state_target_last_check(struct state *s, const char *target,
			    int64_t *at, struct err *err)
{
	*at = 0;
	return state_rows(s, S_CHECK_GET, SA(SA_T(target)), state_row_int, at,
			  err);
}

struct info {
	struct state_delivery *out;
	int found;
};

static int info_row(void *ud, struct db_stmt *p)
{
	struct info *x = ud;

	x->found = 1;
	x->out->delivered_at = db_col_int64(p, 0);
	state_col_copy(p, 1, x->out->file_name, sizeof(x->out->file_name));
	state_col_copy(p, 2, x->out->sha256, sizeof(x->out->sha256));
	x->out->run_id = db_col_int64(p, 3);
	return 1;
}

int state_delivery_info(struct state *s, const char *target,
			struct state_delivery *out, int *found,
			struct err *err)
{
	struct info x = {out, 0};

	memset(out, 0, sizeof(*out));
	*found = 0;
	if (state_rows(s, S_DELIV_INFO, SA(SA_T(target)), info_row, &x,
		       err) < 0)
		return -1;
	*found = x.found;
	return 0;
}
