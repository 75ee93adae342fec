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
			" AND name = ? AND size = ? AND mtime = ?", 0},
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
	struct db_stmt *p = state_stmt(s, S_FILE_KNOWN, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	db_bind_text(p, 2, name);
	db_bind_int64(p, 3, (int64_t)size);
	db_bind_int64(p, 4, mtime);
	rc = db_step(p, err);
	db_reset(p);
	if (rc < 0)
		return -1;
	*known = rc == 1;
	return 0;
}

int state_file_same_content(struct state *s, const char *source,
			    const char *sha, char *prev, size_t n,
			    struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_FILE_SAME, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	db_bind_text(p, 2, sha);
	prev[0] = '\0';
	rc = db_step(p, err);
	if (rc == 1)
		state_col_copy(p, 0, prev, n);
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_file_add(struct state *s, const char *source, const char *name,
		   uint64_t size, int64_t mtime, const char *sha,
		   int64_t run_id, const char *post_state, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_FILE_ADD, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	db_bind_text(p, 2, name);
	db_bind_int64(p, 3, (int64_t)size);
	db_bind_int64(p, 4, mtime);
	db_bind_text(p, 5, sha);
	db_bind_int64(p, 6, run_id);
	db_bind_text(p, 7, post_state);
	return state_step_done(p, err);
}

int state_file_post_set(struct state *s, const char *source,
			const char *name, uint64_t size, int64_t mtime,
			const char *post_state, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_FILE_POST, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, post_state);
	db_bind_text(p, 2, source);
	db_bind_text(p, 3, name);
	db_bind_int64(p, 4, (int64_t)size);
	db_bind_int64(p, 5, mtime);
	return state_step_done(p, err);
}

int state_delivery_find(struct state *s, const char *target, const char *sha,
			char *file_name, size_t n, int *found,
			struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_FIND, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	db_bind_text(p, 2, sha);
	db_bind_text(p, 3, target);
	rc = db_step(p, err);
	*found = rc == 1;
	if (file_name && n) {
		file_name[0] = '\0';
		if (*found)
			state_col_copy(p, 0, file_name, n);
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_delivery_add(struct state *s, const char *target, const char *sha,
		       int64_t run_id, const char *file_name,
		       int64_t delivered_at, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_ADD, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	db_bind_text(p, 2, sha);
	db_bind_int64(p, 3, run_id);
	db_bind_text(p, 4, file_name);
	db_bind_int64(p, 5, delivered_at);
	return state_step_done(p, err);
}

int state_delivery_latest(struct state *s, const char *target,
			  char *file_name, size_t n, int *found,
			  struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_LATEST, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	rc = db_step(p, err);
	*found = rc == 1;
	if (*found)
		state_col_copy(p, 0, file_name, n);
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_delivery_name_used(struct state *s, const char *target,
			     const char *file_name, int *used,
			     struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_NAME, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	db_bind_text(p, 2, file_name);
	rc = db_step(p, err);
	*used = rc == 1;
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_delivery_last(struct state *s, const char *target, int64_t *at,
			struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_LAST, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	*at = 0;
	if (state_one_row(db_step(p, err), p, err) < 0)
		return -1;
	*at = db_col_int64(p, 0);
	db_reset(p);
	return 0;
}

int state_source_fetched(struct state *s, const char *source, int64_t at,
			 struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_SRC_FETCHED, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	db_bind_int64(p, 2, at);
	return state_step_done(p, err);
}

int state_source_last_fetch(struct state *s, const char *source,
			    int64_t *at, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_SRC_LAST, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	rc = db_step(p, err);
	*at = rc == 1 ? db_col_int64(p, 0) : 0;
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_run_deliveries_each(struct state *s, int64_t run_id,
			      int (*cb)(void *ud, const char *target,
					const char *file_name,
					int64_t delivered_at),
			      void *ud, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_RUN_DELIVS, err);
	int rc;

	if (!p)
		return -1;
	db_bind_int64(p, 1, run_id);
	while ((rc = db_step(p, err)) == 1) {
		const char *t = db_col_text(p, 0);
		const char *f = db_col_text(p, 1);

		if (cb(ud, t ? t : "", f ? f : "",
		       db_col_int64(p, 2)) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_target_checked(struct state *s, const char *target, int64_t at,
			 struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_CHECK_SET, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	db_bind_int64(p, 2, at);
	return state_step_done(p, err);
}

int state_target_last_check(struct state *s, const char *target,
			    int64_t *at, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_CHECK_GET, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	return state_one_int(p, at, NULL, err);
}

int state_delivery_info(struct state *s, const char *target,
			struct state_delivery *out, int *found,
			struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_INFO, err);
	int rc;

	memset(out, 0, sizeof(*out));
	*found = 0;
	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	rc = db_step(p, err);
	if (rc == 1) {
		*found = 1;
		out->delivered_at = db_col_int64(p, 0);
		state_col_copy(p, 1, out->file_name, sizeof(out->file_name));
		state_col_copy(p, 2, out->sha256, sizeof(out->sha256));
		out->run_id = db_col_int64(p, 3);
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}
