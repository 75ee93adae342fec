/* state_work.c - unit claims and leases for workers; see state_work.h.
 *
 * These statements run a few times per unit, not per record. Those that
 * depend on the backend (the store's clock) or on a list of stages are
 * written and prepared per call (state_sql_rows), the others are in the
 * statement table. Times are milliseconds on the store's clock. Unit states (enum unit_state) and stage names are bound
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

/* This file's statements that do not depend on the backend or on a list
 * of stages (state_int.h); the others are written per call. */
const struct state_sql state_work_sql[S_NSTMTS] = {
	[S_WORK_LEASE_ADD] = {"INSERT INTO leases(run_id, name, worker, lease_until,"
			      " done) VALUES(?1, ?2, NULL, 0, 0) ON CONFLICT DO NOTHING", 0},
	[S_WORK_LEASE_DONE_GET] = {"SELECT done FROM leases WHERE run_id = ?1"
				   " AND name = ?2", 0},
	[S_WORK_LEASE_DONE] = {"UPDATE leases SET done = 1, lease_until = 0"
			       " WHERE run_id = ?1 AND name = ?2", 0},
	[S_WORK_LEASE_RELEASE] = {"UPDATE leases SET worker = NULL, lease_until = 0"
				  " WHERE run_id = ?1 AND worker = ?2 AND done = 0", 0},
	[S_WORK_RETRY_UNITS] = {"UPDATE units SET state = ?2, error = NULL, worker = NULL,"
				" lease_until = NULL WHERE run_id = ?1 AND state = ?3", 0},
	[S_WORK_RETRY_LEASES] = {"UPDATE leases SET done = 0, worker = NULL,"
				 " lease_until = 0 WHERE run_id = ?1", 0},
	/* l = load unit, m = its map unit, p = the unpack unit above that,
	 * whose parent f is the fetch unit of the file: in arrival order
	 * (the file's fetch sequence, then the member), so the counts of
	 * stale records do not depend on the listing order either. */
	[S_WORK_LOAD_UNITS] = {"SELECT l.id FROM units l"
			       " LEFT JOIN units m ON m.id = l.parent"
			       " LEFT JOIN units p ON p.id = m.parent"
			       " LEFT JOIN units f ON f.id = p.parent"
			       " WHERE l.run_id = ?1 AND l.stage = ?3"
			       " AND l.scope = ?2 AND l.state <> ?4"
			       " ORDER BY coalesce(f.arr_file, 0), coalesce(p.parent, 0),"
			       " coalesce(m.id, 0), l.id", 0},
	/* The same walk over the documents whose txn_ids may be shared
	 * (units.txn_own = 0, or no map unit to say): the ones only the load
	 * lease's holder loads, in this order. */
	[S_WORK_NAMED_LOAD_UNITS] = {"SELECT l.id FROM units l"
			       " LEFT JOIN units m ON m.id = l.parent"
			       " LEFT JOIN units p ON p.id = m.parent"
			       " LEFT JOIN units f ON f.id = p.parent"
			       " WHERE l.run_id = ?1 AND l.stage = ?3"
			       " AND l.scope = ?2 AND coalesce(m.txn_own, 0) = 0"
			       " AND l.state <> ?4"
			       " ORDER BY coalesce(f.arr_file, 0), coalesce(p.parent, 0),"
			       " coalesce(m.id, 0), l.id", 0},
	[S_WORK_TXN_OWN] = {"UPDATE units SET txn_own = ?2 WHERE id = ?1", 0},
};

static const char *const known_stages[] = {"fetch",  "unpack", "map",
					   "load",   "render", "deliver"};
#define NSTAGES (sizeof(known_stages) / sizeof(known_stages[0]))

/* The stages of a list such as "fetch,map" (stage names only), as
 * parameters numbered from first: the filter "stage IN (?5, ?6)" and the
 * names to bind (with_stages). NULL: every stage ("1 = 1", none). */
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

/* The stages' names follow the arguments a[0..n): the whole list, for
 * state_sql_rows. */
#define NARGS (8 + NSTAGES)

static size_t with_stages(struct state_arg *all, const struct state_arg *a,
			  size_t n, const struct stage_list *sl)
{
	int i;

	memcpy(all, a, n * sizeof(*a));
	for (i = 0; i < sl->n; i++)
		all[n++] = SA_T(sl->name[i]);
	return n;
}

/* The unit row a claim or take returned: *u, and its id in *id. */
struct claimed {
	struct state_unit *u;
	int64_t *id;
};

static int claimed_row(void *ud, struct db_stmt *p)
{
	struct claimed *c = ud;

	state_unit_read(p, c->u);
	*c->id = c->u->id;
	return 1;
}

/* state_work_claim, and when own_txn only the load units of documents
 * whose txn_ids are their own (units.txn_own of the map unit above). u:
 * the claimed row, as the UPDATE left it (NULL: the id only). */
static int claim(struct state *s, int64_t run_id, const char *stages,
		 const char *scope, int own_txn, const char *worker,
		 int64_t lease_ms, int64_t *id, struct state_unit *u,
		 struct err *err)
{
	char sql[1800];
	struct stage_list sl;
	struct state_arg a[NARGS];
	struct claimed c = {u, id};
	const char *now = state_now_ms_sql(s);
	size_t n;
	int rc;

	*id = 0;
	if (u)
		u->id = 0;
	if (stage_filter(stages, 7, &sl, err) < 0)
		return -1;
	/* The subquery picks; FOR UPDATE SKIP LOCKED (PostgreSQL) lets
	 * several workers claim at once without taking the same row or
	 * waiting for each other. */
	snprintf(sql, sizeof(sql),
		 "UPDATE units SET state = ?5, worker = ?1,"
		 " lease_until = %s + ?2"
		 " WHERE id = (SELECT c.id FROM units c WHERE c.run_id = ?3"
		 " AND %s AND (CAST(?4 AS TEXT) IS NULL OR c.scope = ?4)"
		 " AND (c.state = ?6 OR (c.state = ?5 AND (c.lease_until IS NULL"
		 " OR c.lease_until < %s)))%s"
		 " ORDER BY c.id LIMIT 1%s)"
		 " RETURNING %s",
		 now, sl.sql, now,
		 own_txn ? " AND EXISTS (SELECT 1 FROM units m"
			   " WHERE m.id = c.parent AND m.txn_own = 1)" : "",
		 state_is_pg(s) ? " FOR UPDATE SKIP LOCKED" : "",
		 u ? STATE_UNIT_COLS : "id");
	n = with_stages(a,
			SA(SA_T(worker), SA_I(lease_ms), SA_I(run_id),
			   SA_T(scope), SA_I(US_RUNNING), SA_I(US_PENDING)),
			&sl);
	if (state_light_begin(s, NULL, err) < 0)
		return -1;
	rc = state_sql_rows(s, sql, a, n, u ? claimed_row : state_row_int,
			    u ? (void *)&c : (void *)id, err);
	return state_light_end(s, 1, rc, err);
}

int state_work_claim(struct state *s, int64_t run_id, const char *stages,
		     const char *scope, const char *worker, int64_t lease_ms,
		     int64_t *id, struct err *err)
{
	return claim(s, run_id, stages, scope, 0, worker, lease_ms, id, NULL,
		     err);
}

int state_work_claim_unit(struct state *s, int64_t run_id,
			  const char *stages, const char *scope,
			  const char *worker, int64_t lease_ms,
			  struct state_unit *u, struct err *err)
{
	int64_t id;

	return claim(s, run_id, stages, scope, 0, worker, lease_ms, &id, u,
		     err);
}

int state_work_claim_own_load(struct state *s, int64_t run_id,
			      const char *worker, int64_t lease_ms,
			      int64_t *id, struct err *err)
{
	return claim(s, run_id, "load", NULL, 1, worker, lease_ms, id, NULL,
		     err);
}

int state_work_claim_own_load_unit(struct state *s, int64_t run_id,
				   const char *worker, int64_t lease_ms,
				   struct state_unit *u, struct err *err)
{
	int64_t id;

	return claim(s, run_id, "load", NULL, 1, worker, lease_ms, &id, u,
		     err);
}

static int take(struct state *s, int64_t id, const char *worker,
		int64_t lease_ms, int *got, struct state_unit *u,
		struct err *err)
{
	char sql[1200];
	const char *now = state_now_ms_sql(s);
	int64_t got_id = 0;
	struct claimed c = {u, &got_id};
	int rc;

	*got = 0;
	snprintf(sql, sizeof(sql),
		 "UPDATE units SET worker = ?1, lease_until = %s + ?2"
		 " WHERE id = ?3 AND (state != ?4 OR worker IS NULL"
		 " OR worker = ?1 OR lease_until IS NULL OR lease_until < %s)"
		 " RETURNING %s",
		 now, now, u ? STATE_UNIT_COLS : "id");
	if (state_light_begin(s, NULL, err) < 0)
		return -1;
	rc = state_sql_rows(s, sql,
			    SA(SA_T(worker), SA_I(lease_ms), SA_I(id),
			       SA_I(US_RUNNING)),
			    u ? claimed_row : state_row_found,
			    u ? (void *)&c : (void *)got, err);
	if (u)
		*got = got_id != 0;
	return state_light_end(s, 1, rc, err);
}

int state_work_take(struct state *s, int64_t id, const char *worker,
		    int64_t lease_ms, int *got, struct err *err)
{
	return take(s, id, worker, lease_ms, got, NULL, err);
}

int state_work_take_unit(struct state *s, int64_t id, const char *worker,
			 int64_t lease_ms, int *got, struct state_unit *u,
			 struct err *err)
{
	return take(s, id, worker, lease_ms, got, u, err);
}

/* The worker column of unit id: *other = 1 when it names someone else. */
static int owner_row(void *ud, struct db_stmt *p)
{
	const char **w = ud;
	const char *v = db_col_text(p, 0);

	if (v && strcmp(v, w[0]))
		w[1] = "";  /* another worker's */
	return 0;
}

int state_work_owned(struct state *s, int64_t id, const char *worker,
		     int *ours, struct err *err)
{
	const char *w[2] = {worker, NULL};

	*ours = 1;
	if (state_sql_rows(s,
			   state_is_pg(s)
				   ? "SELECT worker FROM units WHERE id = ?1"
				     " FOR UPDATE"
				   : "SELECT worker FROM units WHERE id = ?1",
			   SA(SA_I(id)), owner_row, w, err) < 0)
		return -1;
	*ours = w[1] == NULL;
	return 0;
}

int state_work_heartbeat(struct state *s, int64_t run_id, const char *worker,
			 int64_t unit, int64_t lease_ms, int *taken,
			 struct err *err)
{
	char units[300], leases[300];
	int rc = 0, ours = 1;

	*taken = 0;
	snprintf(units, sizeof(units),
		 "UPDATE units SET lease_until = %s + ?1"
		 " WHERE id = ?2 AND worker = ?3 AND state = ?4",
		 state_now_ms_sql(s));
	snprintf(leases, sizeof(leases),
		 "UPDATE leases SET lease_until = %s + ?1"
		 " WHERE run_id = ?2 AND worker = ?3 AND done = 0",
		 state_now_ms_sql(s));
	if (state_light_begin(s, NULL, err) < 0)
		return -1;
	if (unit &&
	    (state_sql_rows(s, units,
			    SA(SA_I(lease_ms), SA_I(unit), SA_T(worker),
			       SA_I(US_RUNNING)),
			    NULL, NULL, err) < 0 ||
	     (state_changes(s) == 0 &&
	      state_work_owned(s, unit, worker, &ours, err) < 0)))
		rc = -1;
	if (!rc && state_sql_rows(s, leases,
				  SA(SA_I(lease_ms), SA_I(run_id),
				     SA_T(worker)),
				  NULL, NULL, err) < 0)
		rc = -1;
	*taken = !rc && !ours;
	return state_light_end(s, 1, rc, err);
}

int state_lease_take(struct state *s, int64_t run_id, const char *name,
		     const char *worker, int64_t lease_ms, int *got, int *done,
		     struct err *err)
{
	const char *now = state_now_ms_sql(s);
	char sql[600];
	int64_t d = 0;
	int rc;

	*got = *done = 0;
	/* On PostgreSQL a second taker waits for the first one's commit on
	 * the row lock, then sees its lease and takes nothing. */
	snprintf(sql, sizeof(sql),
		 "UPDATE leases SET worker = ?1, lease_until = %s + ?2"
		 " WHERE run_id = ?3 AND name = ?4 AND done = 0"
		 " AND (worker IS NULL OR worker = ?1 OR lease_until < %s)"
		 " RETURNING 1",
		 now, now);
	if (state_light_begin(s, NULL, err) < 0)
		return -1;
	rc = state_exec(s, S_WORK_LEASE_ADD, SA(SA_I(run_id), SA_T(name)),
			err);
	if (rc == 0)
		rc = state_sql_rows(s, sql,
				    SA(SA_T(worker), SA_I(lease_ms),
				       SA_I(run_id), SA_T(name)),
				    state_row_found, got, err);
	if (rc == 0 && !*got) {
		rc = state_rows(s, S_WORK_LEASE_DONE_GET,
				SA(SA_I(run_id), SA_T(name)), state_row_int,
				&d, err);
		*done = d != 0;
	}
	return state_light_end(s, 1, rc, err);
}

/* Runs one write, in the caller's transaction or its own (light);
 * changed: the rows it changed (may be NULL). */
static int write_own(struct state *s, enum stmt_id id,
		     const struct state_arg *a, size_t n, int64_t *changed,
		     struct err *err)
{
	int own, rc;

	if (state_light_begin(s, &own, err) < 0)
		return -1;
	rc = state_exec(s, id, a, n, err);
	if (changed)
		*changed = state_changes(s);
	return state_light_end(s, own, rc, err);
}

int state_lease_done(struct state *s, int64_t run_id, const char *name,
		     struct err *err)
{
	return write_own(s, S_WORK_LEASE_DONE, SA(SA_I(run_id), SA_T(name)),
			 NULL, err);
}

int state_lease_release_all(struct state *s, int64_t run_id,
			    const char *worker, struct err *err)
{
	return write_own(s, S_WORK_LEASE_RELEASE,
			 SA(SA_I(run_id), SA_T(worker)), NULL, err);
}

int state_work_retry_failed(struct state *s, int64_t run_id, int64_t *n,
			    struct err *err)
{
	/* The load and the conclusion must happen again for what the
	 * retried units bring. */
	return write_own(s, S_WORK_RETRY_UNITS,
			 SA(SA_I(run_id), SA_I(US_PENDING), SA_I(US_FAILED)),
			 n, err) < 0 ||
		       write_own(s, S_WORK_RETRY_LEASES, SA(SA_I(run_id)),
				 NULL, err) < 0
		       ? -1
		       : 0;
}

static int count_row(void *ud, struct db_stmt *p)
{
	struct state_work_counts *c = ud;
	int64_t st = db_col_int64(p, 0), live = db_col_int64(p, 1),
		n = db_col_int64(p, 2);

	if (st == US_PENDING || (st == US_RUNNING && !live))
		c->pending += n;
	else if (st == US_RUNNING)
		c->running += n;
	else if (st == US_FAILED)
		c->failed += n;
	else
		c->finished += n;
	return 0;
}

int state_work_count(struct state *s, int64_t run_id, const char *stages,
		     const char *scope, struct state_work_counts *c,
		     struct err *err)
{
	char sql[900];
	struct stage_list sl;
	struct state_arg a[NARGS];
	size_t n;

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
		 state_now_ms_sql(s), sl.sql);
	n = with_stages(a, SA(SA_I(run_id), SA_T(scope)), &sl);
	return state_sql_rows(s, sql, a, n, count_row, c, err);
}

/* skip: a unit state the walk leaves out (-1: none). A worker's walks
 * leave out the done units its callback would read only to skip them
 * (one round trip per loaded document per walk). */
static int load_units_each(struct state *s, enum stmt_id id, int64_t run_id,
			   const char *scope, int skip,
			   int (*cb)(void *ud, struct state_unit *u),
			   void *ud, struct err *err)
{
	struct state_ids x = {NULL, 0, 0, err};
	int cbrc, rc;

	/* Ids first, then the units: the callbacks write to the store. */
	rc = state_rows(s, id,
			SA(SA_I(run_id), SA_T(scope), SA_T("load"),
			   SA_I(skip)),
			state_row_id, &x, err);
	/* A callback's positive return only stops the walk; its -1 (an
	 * error, in err) is the walk's error too, never dropped. */
	if (rc == 0)
		rc = state_units_of(s, &x, cb, ud, &cbrc, err);
	free(x.v);
	return rc < 0 || cbrc < 0 ? -1 : 0;
}

int state_work_load_units_each(struct state *s, int64_t run_id,
			       const char *scope,
			       int (*cb)(void *ud, struct state_unit *u),
			       void *ud, struct err *err)
{
	return load_units_each(s, S_WORK_LOAD_UNITS, run_id, scope, -1, cb,
			       ud, err);
}

int state_work_open_load_units_each(struct state *s, int64_t run_id,
				    const char *scope,
				    int (*cb)(void *ud, struct state_unit *u),
				    void *ud, struct err *err)
{
	return load_units_each(s, S_WORK_LOAD_UNITS, run_id, scope, US_DONE,
			       cb, ud, err);
}

int state_work_named_load_units_each(struct state *s, int64_t run_id,
				     const char *scope,
				     int (*cb)(void *ud,
					       struct state_unit *u),
				     void *ud, struct err *err)
{
	return load_units_each(s, S_WORK_NAMED_LOAD_UNITS, run_id, scope,
			       US_DONE, cb, ud, err);
}

int state_work_txn_own(struct state *s, int64_t map_unit, int own,
		       struct err *err)
{
	return write_own(s, S_WORK_TXN_OWN, SA(SA_I(map_unit), SA_I(own)),
			 NULL, err);
}
