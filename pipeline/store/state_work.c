/* state_work.c - unit claims and leases for workers; see state_work.h.
 *
 * These statements run a few times per unit, not per record, so they are
 * prepared per call rather than cached. Times are milliseconds on the
 * store's clock. Unit states (enum unit_state) and stage names are bound
 * as parameters, never written into the SQL.
 *
 * Tables: leases; the claim columns of units (the rest of units is
 * state_runs.c's).
 */
#include "state_work.h"
#include "db.h"
#include "state_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *now_ms_sql(struct db *d)
{
	return db_kind_of(d) == DB_POSTGRES
		       ? "CAST(floor(extract(epoch FROM clock_timestamp()) "
			 "* 1000) AS BIGINT)"
		       : "CAST((julianday('now') - 2440587.5) * 86400000.0 "
			 "AS INTEGER)";
}

static const char *const known_stages[] = {"fetch",  "unpack", "map",
					   "load",   "render", "deliver"};
#define NSTAGES (sizeof(known_stages) / sizeof(known_stages[0]))

/* The stages of a list such as "fetch,map" (stage names only), as
 * parameters numbered from first: the filter "stage IN (?5, ?6)" and the
 * names to bind (stage_bind). NULL: every stage ("1 = 1", none). */
struct stage_list {
	char sql[128];
	const char *name[NSTAGES];
	int n, first;
};

static int stage_filter(const char *stages, int first, struct stage_list *sl,
			struct err *err)
{
	size_t len, i;
	const char *p = stages;

	sl->n = 0;
	sl->first = first;
	if (!stages)
		return snprintf(sl->sql, sizeof(sl->sql), "1 = 1"), 0;
	len = (size_t)snprintf(sl->sql, sizeof(sl->sql), "stage IN (");
	while (*p) {
		size_t w = strcspn(p, ",");

		for (i = 0; i < NSTAGES; i++)
			if (strlen(known_stages[i]) == w &&
			    !strncmp(known_stages[i], p, w))
				break;
		/* a stage at most once: 6 of "?NN, " always fit */
		if (i == NSTAGES || sl->n == (int)NSTAGES)
			return err_set(err, E_INTERNAL, "bad stage list '%s'",
				       stages);
		len += (size_t)snprintf(sl->sql + len, sizeof(sl->sql) - len,
					"%s?%d", sl->n ? ", " : "",
					first + sl->n);
		sl->name[sl->n++] = known_stages[i];
		p += w;
		if (*p == ',')
			p++;
	}
	snprintf(sl->sql + len, sizeof(sl->sql) - len, ")");
	return 0;
}

static void stage_bind(struct db_stmt *st, const struct stage_list *sl)
{
	int i;

	for (i = 0; i < sl->n; i++)
		db_bind_text(st, sl->first + i, sl->name[i]);
}

/* Prepares q, runs it with the binds a caller already made via setup,
 * and hands each row to row(); one helper so every function below has
 * the same error path. */
struct q {
	struct db *d;
	struct db_stmt *st;
};

static int q_prepare(struct q *q, struct state *s, const char *sql,
		     struct err *err)
{
	q->d = state_db(s);
	q->st = db_prepare(q->d, sql, 0, err);
	return q->st ? 0 : -1;
}

int state_work_claim(struct state *s, int64_t run_id, const char *stages,
		     const char *scope, const char *worker, int64_t lease_ms,
		     int64_t *id, struct err *err)
{
	char sql[1400];
	struct stage_list sl;
	struct q q;
	struct db *d = state_db(s);
	const char *now = now_ms_sql(d);
	int rc;

	*id = 0;
	if (stage_filter(stages, 7, &sl, err) < 0)
		return -1;
	/* The subquery picks; FOR UPDATE SKIP LOCKED (PostgreSQL) lets
	 * several workers claim at once without taking the same row or
	 * waiting for each other. */
	snprintf(sql, sizeof(sql),
		 "UPDATE units SET state = ?5, worker = ?1,"
		 " lease_until = %s + ?2"
		 " WHERE id = (SELECT id FROM units WHERE run_id = ?3 AND %s"
		 " AND (CAST(?4 AS TEXT) IS NULL OR scope = ?4)"
		 " AND (state = ?6 OR (state = ?5 AND (lease_until IS NULL"
		 " OR lease_until < %s)))"
		 " ORDER BY id LIMIT 1%s)"
		 " RETURNING id",
		 now, sl.sql, now,
		 db_kind_of(d) == DB_POSTGRES ? " FOR UPDATE SKIP LOCKED" : "");
	if (db_begin_light(d, err) < 0)
		return -1;
	if (q_prepare(&q, s, sql, err) < 0)
		goto fail;
	db_bind_text(q.st, 1, worker);
	db_bind_int64(q.st, 2, lease_ms);
	db_bind_int64(q.st, 3, run_id);
	db_bind_text(q.st, 4, scope);
	db_bind_int64(q.st, 5, US_RUNNING);
	db_bind_int64(q.st, 6, US_PENDING);
	stage_bind(q.st, &sl);
	rc = db_step(q.st, err);
	if (rc > 0)
		*id = db_col_int64(q.st, 0);
	db_finalize(q.st);
	if (rc < 0)
		goto fail;
	return db_commit(d, err);
fail:
	db_rollback(d);
	return -1;
}

int state_work_take(struct state *s, int64_t id, const char *worker,
		    int64_t lease_ms, int *got, struct err *err)
{
	char sql[600];
	struct q q;
	struct db *d = state_db(s);
	const char *now = now_ms_sql(d);
	int rc;

	*got = 0;
	snprintf(sql, sizeof(sql),
		 "UPDATE units SET worker = ?1, lease_until = %s + ?2"
		 " WHERE id = ?3 AND (state != ?4 OR worker IS NULL"
		 " OR worker = ?1 OR lease_until IS NULL OR lease_until < %s)"
		 " RETURNING id",
		 now, now);
	if (db_begin_light(d, err) < 0)
		return -1;
	if (q_prepare(&q, s, sql, err) < 0)
		goto fail;
	db_bind_text(q.st, 1, worker);
	db_bind_int64(q.st, 2, lease_ms);
	db_bind_int64(q.st, 3, id);
	db_bind_int64(q.st, 4, US_RUNNING);
	rc = db_step(q.st, err);
	*got = rc > 0;
	db_finalize(q.st);
	if (rc < 0)
		goto fail;
	return db_commit(d, err);
fail:
	db_rollback(d);
	return -1;
}

int state_work_heartbeat(struct state *s, int64_t run_id, const char *worker,
			 int64_t lease_ms, struct err *err)
{
	struct db *d = state_db(s);
	char sql[300];
	struct q q;
	size_t i;
	int rc;

	if (db_begin_light(d, err) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		if (i == 0)
			snprintf(sql, sizeof(sql),
				 "UPDATE units SET lease_until = %s + ?1"
				 " WHERE run_id = ?2 AND worker = ?3"
				 " AND state = ?4",
				 now_ms_sql(d));
		else
			snprintf(sql, sizeof(sql),
				 "UPDATE leases SET lease_until = %s + ?1"
				 " WHERE run_id = ?2 AND worker = ?3"
				 " AND done = 0",
				 now_ms_sql(d));
		if (q_prepare(&q, s, sql, err) < 0)
			goto fail;
		db_bind_int64(q.st, 1, lease_ms);
		db_bind_int64(q.st, 2, run_id);
		db_bind_text(q.st, 3, worker);
		if (i == 0)
			db_bind_int64(q.st, 4, US_RUNNING);
		rc = db_step(q.st, err);
		db_finalize(q.st);
		if (rc < 0)
			goto fail;
	}
	return db_commit(d, err);
fail:
	db_rollback(d);
	return -1;
}

int state_lease_take(struct state *s, int64_t run_id, const char *name,
		     const char *worker, int64_t lease_ms, int *got, int *done,
		     struct err *err)
{
	struct db *d = state_db(s);
	const char *now = now_ms_sql(d);
	char sql[600];
	struct q q;
	int rc;

	*got = *done = 0;
	if (db_begin_light(d, err) < 0)
		return -1;
	if (q_prepare(&q, s,
		      "INSERT INTO leases(run_id, name, worker, lease_until,"
		      " done) VALUES(?1, ?2, NULL, 0, 0) ON CONFLICT DO NOTHING",
		      err) < 0)
		goto fail;
	db_bind_int64(q.st, 1, run_id);
	db_bind_text(q.st, 2, name);
	rc = db_step(q.st, err);
	db_finalize(q.st);
	if (rc < 0)
		goto fail;
	/* On PostgreSQL a second taker waits for the first one's commit on
	 * the row lock, then sees its lease and takes nothing. */
	snprintf(sql, sizeof(sql),
		 "UPDATE leases SET worker = ?1, lease_until = %s + ?2"
		 " WHERE run_id = ?3 AND name = ?4 AND done = 0"
		 " AND (worker IS NULL OR worker = ?1 OR lease_until < %s)"
		 " RETURNING 1",
		 now, now);
	if (q_prepare(&q, s, sql, err) < 0)
		goto fail;
	db_bind_text(q.st, 1, worker);
	db_bind_int64(q.st, 2, lease_ms);
	db_bind_int64(q.st, 3, run_id);
	db_bind_text(q.st, 4, name);
	rc = db_step(q.st, err);
	*got = rc > 0;
	db_finalize(q.st);
	if (rc < 0)
		goto fail;
	if (!*got) {
		if (q_prepare(&q, s,
			      "SELECT done FROM leases WHERE run_id = ?1"
			      " AND name = ?2",
			      err) < 0)
			goto fail;
		db_bind_int64(q.st, 1, run_id);
		db_bind_text(q.st, 2, name);
		rc = db_step(q.st, err);
		*done = rc > 0 && db_col_int64(q.st, 0) != 0;
		db_finalize(q.st);
		if (rc < 0)
			goto fail;
	}
	return db_commit(d, err);
fail:
	db_rollback(d);
	return -1;
}

/* Runs one write with binds (run_id, text), or (run_id, states[0],
 * states[1]) when text is NULL and states is not, in the caller's
 * transaction or its own. */
static int write2(struct state *s, const char *sql, int64_t run_id,
		  const char *text, const int64_t *states, int64_t *changed,
		  struct err *err)
{
	struct db *d = state_db(s);
	int own = !db_in_tx(d), rc;
	struct q q;

	if (own && db_begin_light(d, err) < 0)
		return -1;
	if (q_prepare(&q, s, sql, err) < 0)
		goto fail;
	db_bind_int64(q.st, 1, run_id);
	if (text)
		db_bind_text(q.st, 2, text);
	else if (states) {
		db_bind_int64(q.st, 2, states[0]);
		db_bind_int64(q.st, 3, states[1]);
	}
	rc = db_step(q.st, err);
	if (changed)
		*changed = db_changes(d);
	db_finalize(q.st);
	if (rc < 0)
		goto fail;
	return own ? db_commit(d, err) : 0;
fail:
	if (own)
		db_rollback(d);
	return -1;
}

int state_lease_done(struct state *s, int64_t run_id, const char *name,
		     struct err *err)
{
	return write2(s,
		      "UPDATE leases SET done = 1, lease_until = 0"
		      " WHERE run_id = ?1 AND name = ?2",
		      run_id, name, NULL, NULL, err);
}

int state_lease_release_all(struct state *s, int64_t run_id,
			    const char *worker, struct err *err)
{
	return write2(s,
		      "UPDATE leases SET worker = NULL, lease_until = 0"
		      " WHERE run_id = ?1 AND worker = ?2 AND done = 0",
		      run_id, worker, NULL, NULL, err);
}

int state_work_retry_failed(struct state *s, int64_t run_id, int64_t *n,
			    struct err *err)
{
	/* The load and the conclusion must happen again for what the
	 * retried units bring. */
	static const int64_t failed_to_pending[2] = {US_PENDING, US_FAILED};

	return write2(s,
		      "UPDATE units SET state = ?2, error = NULL, worker = NULL,"
		      " lease_until = NULL WHERE run_id = ?1 AND state = ?3",
		      run_id, NULL, failed_to_pending, n, err) < 0 ||
		       write2(s,
			      "UPDATE leases SET done = 0, worker = NULL,"
			      " lease_until = 0 WHERE run_id = ?1",
			      run_id, NULL, NULL, NULL, err) < 0
		       ? -1
		       : 0;
}

int state_work_count(struct state *s, int64_t run_id, const char *stages,
		     const char *scope, struct state_work_counts *c,
		     struct err *err)
{
	struct db *d = state_db(s);
	char sql[900];
	struct stage_list sl;
	struct q q;
	int rc;

	memset(c, 0, sizeof(*c));
	if (stage_filter(stages, 3, &sl, err) < 0)
		return -1;
	/* per state, whether the unit's lease is live; a running unit
	 * without a live lease is claimable again, so it counts as pending */
	snprintf(sql, sizeof(sql),
		 "SELECT state, CASE WHEN lease_until IS NOT NULL"
		 " AND lease_until >= %s THEN 1 ELSE 0 END, count(*)"
		 " FROM units WHERE run_id = ?1 AND %s"
		 " AND (CAST(?2 AS TEXT) IS NULL OR scope = ?2) GROUP BY 1, 2",
		 now_ms_sql(d), sl.sql);
	if (q_prepare(&q, s, sql, err) < 0)
		return -1;
	db_bind_int64(q.st, 1, run_id);
	db_bind_text(q.st, 2, scope);
	stage_bind(q.st, &sl);
	while ((rc = db_step(q.st, err)) > 0) {
		int64_t st = db_col_int64(q.st, 0), live = db_col_int64(q.st, 1),
			n = db_col_int64(q.st, 2);

		if (st == US_PENDING || (st == US_RUNNING && !live))
			c->pending += n;
		else if (st == US_RUNNING)
			c->running += n;
		else if (st == US_FAILED)
			c->failed += n;
		else
			c->finished += n;
	}
	db_finalize(q.st);
	return rc < 0 ? -1 : 0;
}

int state_work_load_units_each(struct state *s, int64_t run_id,
			       const char *scope,
			       int (*cb)(void *ud, struct state_unit *u),
			       void *ud, struct err *err)
{
	struct q q;
	int64_t *ids = NULL, *grown;
	size_t n = 0, cap = 0, i;
	struct state_unit u;
	int rc;

	/* l = load unit, m = its map unit, p = the unpack unit above that,
	 * whose parent f is the fetch unit of the file: in arrival order
	 * (the file's fetch sequence, then the member), so the counts of
	 * stale records do not depend on the listing order either. */
	if (q_prepare(&q, s,
		      "SELECT l.id FROM units l"
		      " LEFT JOIN units m ON m.id = l.parent"
		      " LEFT JOIN units p ON p.id = m.parent"
		      " LEFT JOIN units f ON f.id = p.parent"
		      " WHERE l.run_id = ?1 AND l.stage = ?3"
		      " AND l.scope = ?2"
		      " ORDER BY coalesce(f.arr_file, 0), coalesce(p.parent, 0),"
		      " coalesce(m.id, 0), l.id",
		      err) < 0)
		return -1;
	db_bind_int64(q.st, 1, run_id);
	db_bind_text(q.st, 2, scope);
	db_bind_text(q.st, 3, "load");
	/* Ids first, then the units: the callbacks write to the store. */
	while ((rc = db_step(q.st, err)) > 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(grown = realloc(ids, cap * sizeof(*ids)))) {
				rc = err_set(err, E_NOMEM, "out of memory");
				break;
			}
			ids = grown;
		}
		ids[n++] = db_col_int64(q.st, 0);
	}
	db_finalize(q.st);
	for (i = 0; rc == 0 && i < n; i++) {
		if (state_unit_get(s, ids[i], &u, err) < 0)
			rc = -1;
		else if (cb(ud, &u))
			break;
	}
	free(ids);
	return rc < 0 ? -1 : 0;
}
